// Whether a hosting volume is started: every engine operation asks before it
// touches the volume, so that a stopped one is refused by name instead of
// failing somewhere in its FUSE mount. Asking is a `gluster volume info`: a
// CLI start and a round trip to glusterd, a fraction of a second on an idle
// node and 30 s on a loaded one (in the Kubernetes lab, 10 claims made at
// once on single-vCPU VMs: every GetBlock asked, and the controller's 30 s
// deadline passed while glusterd answered the others).
//
// So a "started" answer is kept for a few seconds. "Not started", a missing
// volume and any error are never kept: a volume started a moment ago is used
// at once. The price: for up to `ttlMs` after a volume is stopped, an
// operation on it fails with its mount's error rather than "not started".
// Calls that need an answer while a question about the same volume is out
// wait for that one instead of asking again (a burst of calls is one
// question, not one each); when that question fails, each asks on its own,
// with its own deadline: another caller's cancelled question fails no one
// else.
import type { VolumeInfo } from "../gluster/gluster-cli.js";
import { VolumeNotStartedError } from "../errors.js";

export const STARTED_TTL_MS = 10_000;

export class StartedVolumes {
  /** volume -> when its "started" answer stops counting (ms) */
  private readonly until = new Map<string, number>();
  /** volume -> the question about it now out */
  private readonly asking = new Map<string, Promise<VolumeInfo>>();

  constructor(
    private readonly ttlMs = STARTED_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves when the volume is started (asking glusterd through `ask` unless a recent answer said so); throws VolumeNotStartedError otherwise. */
  async check(volume: string, ask: () => Promise<VolumeInfo>): Promise<void> {
    if ((this.until.get(volume) ?? 0) > this.now()) return;
    this.until.delete(volume);
    const out = this.asking.get(volume);
    const info = out ? await out.catch(() => this.ask(volume, ask)) : await this.ask(volume, ask);
    if (!info.started) throw new VolumeNotStartedError(volume);
    if (this.ttlMs > 0) this.until.set(volume, this.now() + this.ttlMs);
  }

  private ask(volume: string, ask: () => Promise<VolumeInfo>): Promise<VolumeInfo> {
    const p = ask();
    this.asking.set(volume, p);
    const done = (): void => {
      if (this.asking.get(volume) === p) this.asking.delete(volume);
    };
    p.then(done, done);
    return p;
  }
}
