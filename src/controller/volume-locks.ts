// One operation per volume at a time in this controller. Non-blocking: a
// second operation on a held volume answers ABORTED at once and the sidecar
// retries with backoff (CSI's "operation pending for volume").
import { aborted } from "../rpc/errors.js";

export class VolumeLocks {
  private readonly held = new Set<string>();

  /** Takes every key or none; throws ABORTED naming the held key. Returns the release function. */
  lock(...keys: string[]): () => void {
    const busy = keys.find((k) => this.held.has(k));
    if (busy !== undefined) throw aborted(`an operation on ${busy} is already in progress; retry later`);
    for (const k of keys) this.held.add(k);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const k of keys) this.held.delete(k);
    };
  }

  async with<T>(keys: string[], fn: () => Promise<T>): Promise<T> {
    const release = this.lock(...keys);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  isHeld(key: string): boolean {
    return this.held.has(key);
  }
}
