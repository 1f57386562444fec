// A format outlives the call that began it. mkfs of a large volume, or of any
// volume on slow storage, can take longer than one call may run (its budget,
// the kubelet's 2 minutes). Ended with the call, it would have to start over
// on the retry (format-intent.ts formats again whatever it left), and the
// retry could be cut short the same way: a volume that never gets its
// filesystem. So each volume's mkfs runs as a job of the plugin, not of the
// call: the call waits for it within its budget and, when the budget or the
// caller ends first, answers as for any spent budget while mkfs goes on; the
// retry waits for the same job instead of formatting again. Only an unstage
// (or the plugin's end) stops a job, and waits for mkfs to be gone before the
// device goes. A plugin that dies takes its jobs along; the format intent
// left in the record then makes the next stage format again.
import type { Logger } from "../util/log.js";
import { settledWithin, type Budget } from "./budget.js";

/** A format of one volume's device with the UUID its format intent holds. */
export interface FormatSpec {
  device: string;
  uuid: string;
}

interface Job extends FormatSpec {
  /** settles when mkfs has ended; never rejects (the outcome is in `failure`) */
  ended: Promise<void>;
  done: boolean;
  failure: Error | undefined;
  readonly aborter: AbortController;
}

export class FormatJobs {
  private readonly jobs = new Map<string, Job>();

  constructor(private readonly log: Logger) {}

  /** The format of `key` that runs, or that ended and no call has claimed yet. */
  get(key: string): FormatSpec | undefined {
    const j = this.jobs.get(key);
    return j ? { device: j.device, uuid: j.uuid } : undefined;
  }

  /** Starts `work` (mkfs, given the job's signal) as the format of `key`; there must be none. */
  start(key: string, spec: FormatSpec, work: (signal: AbortSignal) => Promise<void>): void {
    if (this.jobs.has(key)) throw new Error(`a format of ${key} is already under way`);
    const aborter = new AbortController();
    const job: Job = { ...spec, done: false, failure: undefined, aborter, ended: Promise.resolve() };
    job.ended = work(aborter.signal).then(
      () => {
        job.done = true;
      },
      (err: unknown) => {
        job.done = true;
        job.failure = err instanceof Error ? err : new Error(`mkfs failed: ${String(err)}`);
        if (!aborter.signal.aborted) this.log.warn("format failed", { volumeId: key, device: spec.device, error: job.failure.message });
      },
    );
    this.jobs.set(key, job);
  }

  /**
   * Waits for the format of `key` within the call's budget. Resolves once
   * mkfs succeeded, rethrows its failure; either way the job is then
   * forgotten (a retry after a failure formats again). Throws
   * BudgetExceededError or CallCancelledError when the call's time or its
   * caller ends first: the format goes on, for the retry to claim.
   */
  async claim(key: string, budget: Budget): Promise<void> {
    const job = this.jobs.get(key);
    if (!job) throw new Error(`no format of ${key} to wait for`);
    if (!job.done) await settledWithin(budget, job.ended, "formatting (mkfs goes on in the background)");
    if (this.jobs.get(key) === job) this.jobs.delete(key);
    if (job.failure !== undefined) throw job.failure;
  }

  /**
   * Stops the format of `key` (mkfs is signalled) and waits, within the
   * budget, until it has ended; nothing to do without one. A budget spent
   * first throws, and the retry waits again.
   */
  async stop(key: string, budget: Budget): Promise<void> {
    const job = this.jobs.get(key);
    if (!job) return;
    if (!job.done) {
      job.aborter.abort(new Error("the volume is being unstaged"));
      this.log.info("stopping the format under way", { volumeId: key, device: job.device });
      await settledWithin(budget, job.ended, "waiting for the stopped mkfs to end");
    }
    if (this.jobs.get(key) === job) this.jobs.delete(key);
  }

  /** Stops every format and waits for each (the plugin is stopping). */
  async stopAll(): Promise<void> {
    const all = [...this.jobs.values()];
    for (const j of all) j.aborter.abort(new Error("the plugin is stopping"));
    await Promise.all(all.map((j) => j.ended));
    this.jobs.clear();
  }
}
