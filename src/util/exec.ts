// The one way this project runs an external program (targetcli, iscsiadm,
// multipath, mkfs, gluster, ...): an argument array (never a shell), a
// timeout that sends SIGTERM and then SIGKILL, a caller's cancellation that
// does the same, a typed result, and a typed error whose text never carries
// a secret.
import { execa } from "execa";
import { REDACTED, scrubText } from "./redact.js";
import { scrubSecrets } from "./secrets.js";
import type { Logger } from "./log.js";
import { nullLogger } from "./log.js";

export interface ExecOptions {
  /** default 60 s; after it the child gets SIGTERM, then SIGKILL 2 s later */
  timeoutMs?: number;
  /** written to the child's stdin */
  input?: string;
  /**
   * Open file descriptors of this process handed to the child as its fd 3, 4,
   * ...: the child shares their open file descriptions (flock(1) given fd 3
   * locks the file this process keeps open, and the lock stays with it).
   */
  fds?: readonly number[];
  /** values to scrub from the logged argv and from any error text (CHAP passwords, keys) */
  secrets?: readonly string[];
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /** exit codes that count as success besides 0 (iscsiadm 15 "already logged in", 21 "no records") */
  okExitCodes?: readonly number[];
  logger?: Logger;
  /**
   * the caller's cancellation (an RPC cancelled by its client, or past its
   * deadline): when it fires the child is ended as a timeout ends it (TERM,
   * then KILL after the grace), and the call rejects with ExecCancelledError;
   * already fired, the program is not started
   */
  signal?: AbortSignal;
}

export interface ExecResult {
  /** program name as called */
  file: string;
  /** argv with secrets replaced, safe to log */
  redactedArgs: readonly string[];
  stdout: string;
  stderr: string;
  exitCode: number;
  durationMs: number;
}

export type Exec = (file: string, args: readonly string[], opts?: ExecOptions) => Promise<ExecResult>;

const STDERR_TAIL = 2000;
/** between SIGTERM and SIGKILL, after a timeout or a cancellation */
const KILL_GRACE_MS = 2_000;

type HandedFd = 3 | 4 | 5 | 6 | 7 | 8 | 9;

export class ExecError extends Error {
  override readonly name: string = "ExecError";
  constructor(
    readonly file: string,
    readonly redactedArgs: readonly string[],
    /** undefined when the program never ran (ENOENT) or was killed */
    readonly exitCode: number | undefined,
    readonly signal: string | undefined,
    readonly timedOut: boolean,
    /** last part of stderr, secrets scrubbed */
    readonly stderrTail: string,
    /** stdout, secrets scrubbed (tools such as iscsiadm print errors there) */
    readonly stdout: string,
    readonly durationMs: number,
    reason: string,
  ) {
    super(`${[file, ...redactedArgs].join(" ")}: ${reason}${stderrTail ? `: ${stderrTail.trim()}` : ""}`);
  }
  /** the program was not found on PATH */
  get notFound(): boolean {
    return this.exitCode === undefined && !this.timedOut && this.signal === undefined;
  }
}

/** The caller cancelled the call (ExecOptions.signal): the child was ended, or never started. */
export class ExecCancelledError extends ExecError {
  override readonly name = "ExecCancelledError";
  override get notFound(): boolean {
    return false;
  }
}

/** Why a signal fired, for an error message: its reason's text, else "cancelled". */
function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r.name === "AbortError" ? "cancelled" : r.message;
  return typeof r === "string" && r !== "" ? r : "cancelled";
}

/** `exec` for one caller: every call it makes also ends when `signal` fires (as well as on its own options' signal). */
export function withSignal(run: Exec, signal: AbortSignal): Exec {
  return (file, args, opts = {}) => run(file, args, { ...opts, signal: opts.signal ? AbortSignal.any([opts.signal, signal]) : signal });
}

/** Observers see every finished call (metrics); they get no output, only timing and outcome. */
export type ExecObserver = (file: string, durationMs: number, ok: boolean) => void;
const observers = new Set<ExecObserver>();
export function observeExec(o: ExecObserver): () => void {
  observers.add(o);
  return () => observers.delete(o);
}

/** `text` without the call's own secrets and those in force (the process's, the RPC's this runs for). */
function scrubAll(text: string, secrets: readonly string[]): string {
  return scrubSecrets(scrubText(text, secrets));
}

function spawnErrorCode(r: object): string | undefined {
  const code = (r as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

export const exec: Exec = async (file, args, opts = {}) => {
  const secrets = opts.secrets ?? [];
  // an argument that is a secret goes whole, however short (scrubText leaves short values in running text alone)
  const redactedArgs = args.map((a) => (a !== "" && secrets.includes(a) ? REDACTED : scrubAll(a, secrets)));
  const log = opts.logger ?? nullLogger;
  const started = performance.now();
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const cancel = opts.signal;
  if (cancel?.aborted) {
    log.debug("exec", { cmd: [file, ...redactedArgs].join(" "), cancelled: true, started: false });
    throw new ExecCancelledError(
      file,
      redactedArgs,
      undefined,
      undefined,
      false,
      "",
      "",
      0,
      `cancelled before it started (${scrubAll(abortReason(cancel), secrets)})`,
    );
  }
  // The child leads its own process group so that a timeout kills everything
  // it started: a shell's grandchild holding stdout open would otherwise keep
  // the call alive long after the child itself was killed.
  const stdin = opts.input !== undefined ? "pipe" : "ignore";
  const child = execa(file, [...args], {
    reject: false,
    shell: false,
    detached: true,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    // stdin only for input; handed-down fds after stdout and stderr (execa's
    // types name only fds 0-9, but any fd of ours goes to spawn() as it is)
    ...(opts.fds?.length ? { stdio: [stdin, "pipe", "pipe", ...(opts.fds as readonly HandedFd[])] } : { stdin }),
    ...(opts.env ? { env: { ...opts.env }, extendEnv: true } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    stripFinalNewline: false,
    encoding: "utf8",
  });
  let timedOut = false;
  let cancelled = false;
  const killGroup = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  let killTimer: NodeJS.Timeout | undefined;
  /** TERM now, KILL after the grace; once, whether the timeout or the cancellation asks first */
  const end = (): void => {
    if (killTimer) return;
    killGroup("SIGTERM");
    killTimer = setTimeout(() => killGroup("SIGKILL"), KILL_GRACE_MS);
  };
  const termTimer = setTimeout(() => {
    if (!cancelled) timedOut = true;
    end();
  }, timeoutMs);
  const onAbort = (): void => {
    if (!timedOut) cancelled = true;
    end();
  };
  cancel?.addEventListener("abort", onAbort, { once: true });
  const r = await child;
  cancel?.removeEventListener("abort", onAbort);
  clearTimeout(termTimer);
  if (killTimer) clearTimeout(killTimer);
  const durationMs = Math.round(performance.now() - started);
  const stdout = typeof r.stdout === "string" ? r.stdout : "";
  const stderr = typeof r.stderr === "string" ? r.stderr : "";
  const exitCode = typeof r.exitCode === "number" ? r.exitCode : undefined;
  const ok = exitCode !== undefined && !timedOut && !cancelled && (exitCode === 0 || (opts.okExitCodes ?? []).includes(exitCode));
  for (const o of observers) o(file, durationMs, ok);
  log.debug("exec", { cmd: [file, ...redactedArgs].join(" "), exitCode, durationMs, timedOut, ...(cancelled ? { cancelled } : {}) });
  if (ok) return { file, redactedArgs, stdout, stderr, exitCode, durationMs };

  const stderrTail = scrubAll(stderr.slice(-STDERR_TAIL), secrets);
  if (cancelled && cancel) {
    const reason = `cancelled after ${durationMs} ms (${scrubAll(abortReason(cancel), secrets)})`;
    throw new ExecCancelledError(
      file,
      redactedArgs,
      exitCode,
      r.signal ?? undefined,
      false,
      stderrTail,
      scrubAll(stdout.slice(-STDERR_TAIL), secrets),
      durationMs,
      reason,
    );
  }
  const reason = timedOut
    ? `timed out after ${timeoutMs} ms`
    : exitCode !== undefined
      ? `exit code ${exitCode}`
      : r.signal
        ? `killed by ${r.signal}`
        : `could not run (${scrubAll(spawnErrorCode(r) ?? r.shortMessage ?? "spawn failed", secrets)})`;
  throw new ExecError(
    file,
    redactedArgs,
    exitCode,
    r.signal ?? undefined,
    timedOut,
    stderrTail,
    scrubAll(stdout.slice(-STDERR_TAIL), secrets),
    durationMs,
    reason,
  );
};
