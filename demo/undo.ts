// What the demo made, to be undone in reverse order. Each entry is pushed
// just before the action it undoes, so an action that fails half-way is
// still undone; every undo is idempotent. All entries run even when one
// fails; the errors are returned, not thrown, so that a failed undo never
// hides the error that started the teardown.
import type { StepLog } from "./step-log.js";

interface Entry {
  name: string;
  run: () => Promise<string | void>;
  /** prints its own step lines */
  logged: boolean;
}

export class Undo {
  private readonly entries: Entry[] = [];

  /** An undo printed as one step; what `run` returns is the step's detail. */
  push(name: string, run: () => Promise<string | void>): void {
    this.entries.push({ name, run, logged: false });
  }

  /** An undo that prints its own step lines (several CSI calls). */
  pushLogged(name: string, run: () => Promise<void>): void {
    this.entries.push({ name, run, logged: true });
  }

  /** Names of what is still to undo, newest first (what --keep leaves). */
  pending(): string[] {
    return this.entries.map((e) => e.name).reverse();
  }

  /** Runs every undo, newest first; returns the errors (each already printed as a FAILED step). */
  async runAll(log: StepLog): Promise<unknown[]> {
    const errors: unknown[] = [];
    for (let e = this.entries.pop(); e !== undefined; e = this.entries.pop()) {
      try {
        if (e.logged) await e.run();
        else await log.step(e.name, e.run, (detail) => detail || "ok");
      } catch (err) {
        errors.push(err);
      }
    }
    return errors;
  }
}
