// The demo's step log: one line per step with its own duration,
//   [ 52.3s] start gluster-blockd on n1 n2 n3 ... 3 daemons up
// indented blocks of command output under it, and a summary table of the
// step times at the end. Everything it prints goes through the Scrubber.
import type { Scrubber } from "./secrets.js";

export interface StepTime {
  name: string;
  seconds: number;
  ok: boolean;
}

export type Write = (text: string) => void;

export const formatSeconds = (s: number): string => `${s.toFixed(1)}s`;

/** `[  3.2s] name ... detail` (the time right-aligned in 6 characters). */
export function stepLine(name: string, seconds: number, detail: string): string {
  return `[${formatSeconds(seconds).padStart(6)}] ${name}${detail === "" ? "" : ` ... ${detail}`}`;
}

/** `text`'s lines, each indented; trailing blank lines dropped. */
export function indent(text: string, by = "         | "): string {
  return text
    .replace(/\s+$/, "")
    .split("\n")
    .map((l) => `${by}${l}`.trimEnd())
    .join("\n");
}

/** A step name cut to `max` characters for the summary (the log line has it whole). */
export function shortName(name: string, max: number): string {
  return name.length <= max ? name : `${name.slice(0, max - 3).trimEnd()}...`;
}

export function summaryTable(steps: readonly StepTime[], totalSeconds: number, maxName = 64): string {
  const total = "total (wall)";
  const names = steps.map((s) => shortName(s.name, maxName));
  const width = Math.max(total.length, ...names.map((n) => n.length));
  const row = (name: string, time: string, mark: string): string => `  ${name.padEnd(width)}  ${time.padStart(8)}  ${mark}`.trimEnd();
  return [
    row("step", "time", ""),
    row("-".repeat(width), "-".repeat(8), ""),
    ...steps.map((s, i) => row(names[i] ?? s.name, formatSeconds(s.seconds), s.ok ? "" : "FAILED")),
    row("-".repeat(width), "-".repeat(8), ""),
    row(total, formatSeconds(totalSeconds), ""),
  ].join("\n");
}

export class StepLog {
  readonly steps: StepTime[] = [];
  private readonly t0: number;

  constructor(
    private readonly scrubber: Scrubber,
    private readonly write: Write = (t) => process.stdout.write(t),
    private readonly now: () => number = () => performance.now(),
  ) {
    this.t0 = now();
  }

  /** Prints text as it is (scrubbed), with a newline. */
  say(text = ""): void {
    this.write(`${this.scrubber.clean(text)}\n`);
  }

  /** A section heading. */
  heading(title: string): void {
    this.say(`\n== ${title}`);
  }

  /** Command output or a multi-line detail under the last step. */
  block(text: string): void {
    if (text.trim() !== "") this.say(indent(text));
  }

  /**
   * Runs `fn` as one timed step. Its line is printed when it ends, with
   * `detail(result)`, or with the error when it throws (the error goes on).
   */
  async step<T>(name: string, fn: () => Promise<T>, detail: (r: T) => string = () => "ok"): Promise<T> {
    const t = this.now();
    try {
      const r = await fn();
      this.record(name, (this.now() - t) / 1000, true, detail(r));
      return r;
    } catch (err) {
      this.record(name, (this.now() - t) / 1000, false, `FAILED: ${firstLine(err)}`);
      throw err;
    }
  }

  /** A step timed elsewhere (a CSI call measured by the client in the VM). */
  record(name: string, seconds: number, ok: boolean, detail: string): void {
    this.steps.push({ name, seconds, ok });
    this.say(stepLine(name, seconds, detail));
  }

  elapsedSeconds(): number {
    return (this.now() - this.t0) / 1000;
  }

  summary(): string {
    return summaryTable(this.steps, this.elapsedSeconds());
  }
}

export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0] ?? "";
}
