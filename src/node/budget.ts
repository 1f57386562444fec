// Each RPC spends at most a fixed budget (about 20 s) so that it returns well
// inside kubelet's 2-minute timeout; waits poll against it. The budget also
// carries the RPC's cancellation: the programs a call runs get its signal, and
// its checks and waits stop when it fires.
import { setTimeout as delay } from "node:timers/promises";
import { BudgetExceededError, CallCancelledError } from "./errors.js";

export const DEFAULT_BUDGET_MS = 20_000;

export class Budget {
  private readonly end: number;
  constructor(
    readonly totalMs: number,
    /** the caller's cancellation (RpcContext.signal); none for background work (healer, collector, rollbacks) */
    readonly signal?: AbortSignal,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.end = this.now() + totalMs;
  }
  remainingMs(): number {
    return Math.max(0, this.end - this.now());
  }
  expired(): boolean {
    return this.remainingMs() <= 0;
  }
  /** at most `ms`, never past the budget (minimum 1 ms so tools still get to run) */
  cap(ms: number): number {
    return Math.max(1, Math.min(ms, this.remainingMs()));
  }
  /** Throws when the caller cancelled, or when the budget is used up. */
  check(what: string): void {
    this.checkCancelled(what);
    if (this.expired()) throw new BudgetExceededError(what, this.totalMs);
  }
  checkCancelled(what: string): void {
    if (this.signal?.aborted) throw new CallCancelledError(what, this.signal);
  }
}

/** Sleeps `ms`; throws CallCancelledError at once when the budget's caller cancels. */
export async function pause(budget: Budget, ms: number, what: string): Promise<void> {
  budget.checkCancelled(what);
  try {
    await delay(ms, undefined, budget.signal ? { signal: budget.signal } : {});
  } catch (err) {
    budget.checkCancelled(what);
    throw err;
  }
}

/**
 * Calls `probe` until it returns a value other than undefined, sleeping
 * `intervalMs` between tries; undefined when `limitMs` (or the budget) runs
 * out. Throws CallCancelledError when the caller cancels.
 */
export async function pollFor<T>(probe: () => Promise<T | undefined>, opts: { budget: Budget; limitMs?: number; intervalMs?: number }): Promise<T | undefined> {
  const interval = opts.intervalMs ?? 200;
  const stopAt = performance.now() + Math.min(opts.limitMs ?? Infinity, opts.budget.remainingMs());
  for (;;) {
    opts.budget.checkCancelled("waiting");
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() + interval > stopAt) return undefined;
    await pause(opts.budget, interval, "waiting");
  }
}
