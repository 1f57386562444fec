// Per-volume locks (one operation per volume at a time; a waiter that waited
// longer than 60 s gets ABORTED, well inside kubelet's 2-minute timeout) and
// an in-process mutex for host-wide critical sections.
import { VolumeBusyError } from "./errors.js";

export const DEFAULT_LOCK_WAIT_MS = 60_000;

/** A FIFO mutex: run() queues its function behind every earlier one. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

/** Exclusive locks by key; a waiter gives up after `waitMs` with VolumeBusyError. */
export class KeyedLocks {
  private readonly held = new Map<string, Waiter[]>();
  constructor(private readonly waitMs = DEFAULT_LOCK_WAIT_MS) {}

  isHeld(key: string): boolean {
    return this.held.has(key);
  }

  /** Takes the lock now or returns undefined (background work skips a busy volume). */
  tryAcquire(key: string): (() => void) | undefined {
    if (this.held.has(key)) return undefined;
    this.held.set(key, []);
    return this.releaser(key);
  }

  acquire(key: string): Promise<() => void> {
    if (!this.held.has(key)) {
      this.held.set(key, []);
      return Promise.resolve(this.releaser(key));
    }
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const queue = this.held.get(key) ?? [];
      const w: Waiter = {
        grant: () => {
          clearTimeout(w.timer);
          resolve(this.releaser(key));
        },
        timer: setTimeout(() => {
          const i = queue.indexOf(w);
          if (i >= 0) queue.splice(i, 1);
          reject(new VolumeBusyError(key, performance.now() - started));
        }, this.waitMs),
      };
      queue.push(w);
    });
  }

  async with<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire(key);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private releaser(key: string): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const queue = this.held.get(key);
      const next = queue?.shift();
      if (next) next.grant();
      else this.held.delete(key);
    };
  }
}
