// How many gluster-block targets this node exports, and on how many it holds
// the ALUA active/optimized path: what placement balances on. Counting means
// a walk of every target in configfs (a few reads each, but in the lab 500
// targets' full list() cost blockd seconds of CPU a minute), so the counts
// are kept here: loaded once (single flight), updated by every apply and
// remove on this node, and re-read in the background when older than
// `maxAgeMs` (someone may have changed LIO by hand). A Ping never waits for a
// walk once the first load is done.

export interface TargetCountsSnapshot {
  targets: number;
  activePaths: number;
}

export interface TargetCountsOptions {
  /** every gluster-block target here → this node holds its active/optimized path (LioTargets.activePaths) */
  walk: () => Promise<ReadonlyMap<string, boolean>>;
  maxAgeMs?: number;
  now?: () => number;
  onRefreshError?: (err: unknown) => void;
}

export class TargetCounts {
  /** iqn → this node holds the active/optimized path */
  private byIqn?: Map<string, boolean>;
  private loadedAt = 0;
  private loading?: Promise<void>;
  /** apply/remove seen while a walk was in flight: replayed over its result */
  private pending: [string, boolean | undefined][] = [];

  constructor(private readonly opts: TargetCountsOptions) {}

  async snapshot(): Promise<TargetCountsSnapshot> {
    if (!this.byIqn) await this.load();
    else if (this.now() - this.loadedAt > (this.opts.maxAgeMs ?? 60_000)) this.refreshInBackground();
    const m = this.byIqn ?? new Map<string, boolean>();
    let activePaths = 0;
    for (const active of m.values()) if (active) activePaths++;
    return { targets: m.size, activePaths };
  }

  /** a target now exists here; `activeHere` when this node's TPG is in the AO group */
  applied(iqn: string, activeHere: boolean): void {
    this.note(iqn, activeHere);
  }

  removed(iqn: string): void {
    this.note(iqn, undefined);
  }

  private note(iqn: string, activeHere: boolean | undefined): void {
    if (this.loading) this.pending.push([iqn, activeHere]);
    if (!this.byIqn) return;
    if (activeHere === undefined) this.byIqn.delete(iqn);
    else this.byIqn.set(iqn, activeHere);
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private refreshInBackground(): void {
    this.load().catch((err: unknown) => this.opts.onRefreshError?.(err));
  }

  private load(): Promise<void> {
    this.loading ??= (async () => {
      this.pending = [];
      try {
        const fresh = new Map(await this.opts.walk());
        for (const [iqn, active] of this.pending) {
          if (active === undefined) fresh.delete(iqn);
          else fresh.set(iqn, active);
        }
        this.byIqn = fresh;
        this.loadedAt = this.now();
      } finally {
        this.pending = [];
        this.loading = undefined;
      }
    })();
    return this.loading;
  }
}
