// Spawning programs for the lab: argument arrays only, never a shell string
// built on the host.
import { spawn } from "node:child_process";

export interface RunResult {
  stdout: string;
  stderr: string;
  /** exit status; 124 after a timeout, 128+n after signal n */
  code: number;
}

export interface RunOptions {
  /** kill the process after this many ms (code 124) */
  timeoutMs?: number;
  /** written to the process's stdin */
  input?: string;
  /** pass stdout/stderr through to ours instead of capturing them */
  inherit?: boolean;
  /** also echo stderr while capturing (progress logs of the shell scripts) */
  teeStderr?: boolean;
  env?: NodeJS.ProcessEnv;
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, [...args], {
      stdio: [opts.input === undefined ? "ignore" : "pipe", opts.inherit ? "inherit" : "pipe", opts.inherit ? "inherit" : "pipe"],
      env: opts.env ?? process.env,
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      if (opts.teeStderr) process.stderr.write(d);
    });
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
          }, opts.timeoutMs);
    child.on("error", (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      const sig = signal ? 128 + (signalNumber(signal) ?? 0) : undefined;
      resolvePromise({ stdout, stderr, code: timedOut ? 124 : (code ?? sig ?? 1) });
    });
    if (opts.input !== undefined && child.stdin) {
      child.stdin.on("error", () => undefined); // the program may exit without reading
      child.stdin.end(opts.input);
    }
  });
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return table[signal];
}

/** Throws with the command's output when it exits non-zero. */
export async function must(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(failureMessage(`${cmd} ${args.join(" ")}`, r));
  return r;
}

export function failureMessage(what: string, r: RunResult): string {
  const tail = (s: string): string => s.trim().split("\n").slice(-40).join("\n");
  return `${what}: exit ${r.code}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
}

/** Seconds since `t0` (from performance.now()), two decimals. */
export const secondsSince = (t0: number): string => ((performance.now() - t0) / 1000).toFixed(2);
