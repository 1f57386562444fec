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

/**
 * Waits for `p` until the budget is spent (BudgetExceededError) or its
 * caller cancels (CallCancelledError), whichever comes first; `p` itself
 * goes on either way (a job of the plugin, not of the call).
 */
export async function settledWithin(budget: Budget, p: Promise<void>, what: string): Promise<void> {
  budget.checkCancelled(what);
  const remaining = budget.remainingMs();
  if (remaining <= 0) throw new BudgetExceededError(what, budget.totalMs);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: () => void = () => undefined;
  const gate = new Promise<"spent" | "cancelled">((resolve) => {
    timer = setTimeout(() => resolve("spent"), remaining);
    onAbort = () => resolve("cancelled");
    budget.signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const r = await Promise.race([p.then(() => "ended" as const), gate]);
    if (r === "spent") throw new BudgetExceededError(what, budget.totalMs);
    if (r === "cancelled" && budget.signal) throw new CallCancelledError(what, budget.signal);
  } finally {
    clearTimeout(timer);
    budget.signal?.removeEventListener("abort", onAbort);
  }
}
