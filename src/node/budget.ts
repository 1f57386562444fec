// Each RPC spends at most a fixed budget (about 20 s) so that it returns well
// inside kubelet's 2-minute timeout; waits poll against it.
import { setTimeout as delay } from "node:timers/promises";
import { BudgetExceededError } from "./errors.js";

export const DEFAULT_BUDGET_MS = 20_000;

export class Budget {
  private readonly end: number;
  constructor(
    readonly totalMs: number,
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
  check(what: string): void {
    if (this.expired()) throw new BudgetExceededError(what, this.totalMs);
  }
}

/**
 * Calls `probe` until it returns a value other than undefined, sleeping
 * `intervalMs` between tries; undefined when `limitMs` (or the budget) runs out.
 */
export async function pollFor<T>(probe: () => Promise<T | undefined>, opts: { budget: Budget; limitMs?: number; intervalMs?: number }): Promise<T | undefined> {
  const interval = opts.intervalMs ?? 200;
  const stopAt = performance.now() + Math.min(opts.limitMs ?? Infinity, opts.budget.remainingMs());
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() + interval > stopAt) return undefined;
    await delay(interval);
  }
}
