// Per-block mutual exclusion across storage nodes, arbitrated by the bricks
// (the original locked the whole volume with one gfapi POSIX lock; we lock
// one block).
//
// The lock is a flock(2) on /block-meta/.locks/<block>, taken through the
// FUSE mount: Gluster's client hands it to the bricks' locks translator, so
// every client of the volume sees it, and no clock takes part. Node has no
// flock(), so flock(1) takes it on an open file description this process
// hands it as fd 3 (`flock --exclusive --nonblock 3`, through the exec
// wrapper): the lock belongs to that description, which stays open here
// after flock(1) exits. Closing it releases the lock, and so does this
// process dying (the kernel closes it, even after SIGKILL) or the mount's
// client dying (the bricks drop a disconnected client's locks). A stopped or
// slow holder keeps it: there is no lease to run out behind its back.
//
// The bricks can still drop a lock while its holder lives: every brick
// restarted, a client cut off past network.ping-timeout, `gluster volume
// clear-locks`. The client reopens the file afterwards and says nothing. So
// each holder appends a token of its own to the lock file once it holds it,
// and check(), run before every write of an operation, (1) takes the lock
// again on the held description (nothing changes while it is ours; busy
// when another has it; an error when the mount died), then (2) reads the
// lock file's last token: anyone who held the lock since wrote a later one,
// or removed the file. Reads are fresh: our mounts cache no attributes
// (mounts.ts), and the file only grows while it exists.
//
// A holder removes the lock file before it lets go (only a holder does), so
// locks leave nothing behind. A contender that locked the file just removed
// finds the path naming another file (or none) and tries again.
import { mkdir, open, readFile, stat, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { exec as realExec, type Exec } from "../../util/exec.js";

export interface BlockLockOptions {
  /** directory of lock files, on the volume's FUSE mount */
  dir: string;
  /** who we are, written into the lock file for diagnosis: "host pid" */
  owner: string;
  /** how long acquire waits for a busy lock (default 30 s) */
  waitMs?: number;
  /** runs flock(1); the real exec unless a test says otherwise */
  exec?: Exec;
}

export class LockBusyError extends Error {
  override readonly name = "LockBusyError";
  constructor(
    readonly key: string,
    readonly holder: string,
  ) {
    super(`${key} is locked by ${holder}`);
  }
}

/** A holder's lock is no longer (only) its own: whatever it was about to write must not be written. */
export class LockLostError extends Error {
  override readonly name = "LockLostError";
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`lock of ${key} lost: ${reason}`);
  }
}

export interface HeldLock {
  /** what this holder appended to the lock file: "<owner> <random>" */
  readonly token: string;
  /** Resolves while this holder alone has held the lock since it took it; throws LockLostError otherwise. */
  check(): Promise<void>;
  /** Removes the lock file if it is still ours and lets go. Never throws. */
  release(): Promise<void>;
}

/** flock(1)'s exit status for a lock another holder has (the default, 1, is also its usage errors') */
const BUSY_EXIT = 75;

/** Takes the lock on the file open as `fh`: true when held, false when another holder has it; throws when the lock cannot be asked for. */
async function flockFd(run: Exec, fh: FileHandle): Promise<boolean> {
  const r = await run("flock", ["--exclusive", "--nonblock", "--conflict-exit-code", String(BUSY_EXIT), "3"], {
    fds: [fh.fd],
    okExitCodes: [BUSY_EXIT],
    timeoutMs: 30_000,
  });
  return r.exitCode === 0;
}

const lastLine = (text: string): string => text.trimEnd().split("\n").at(-1)?.trim() ?? "";
const holderIn = async (path: string): Promise<string> => lastLine(await readFile(path, "utf8").catch(() => "")) || "unknown";

/** The path still names the file open as `fh` (and not a successor created after it was removed). */
async function names(path: string, fh: FileHandle): Promise<boolean> {
  const [mine, named] = await Promise.all([fh.stat(), stat(path).catch(() => undefined)]);
  return named !== undefined && named.ino === mine.ino && named.dev === mine.dev;
}

async function openLockFile(dir: string, path: string): Promise<FileHandle> {
  try {
    return await open(path, "a+", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    // the lock directory itself was removed (a wiped volume): make it again
    await mkdir(dir, { recursive: true });
    return open(path, "a+", 0o600);
  }
}

export async function acquireBlockLock(key: string, opts: BlockLockOptions): Promise<HeldLock> {
  const run = opts.exec ?? realExec;
  const waitMs = opts.waitMs ?? 30_000;
  // elapsed time on this node's monotonic clock: no wall clock is compared with anything
  const started = performance.now();
  const path = join(opts.dir, key);
  const token = `${opts.owner} ${randomBytes(6).toString("hex")}`;
  await mkdir(opts.dir, { recursive: true });
  let holder = "unknown";
  for (let attempt = 0; ; attempt++) {
    const fh = await openLockFile(opts.dir, path);
    let held: HeldLock | undefined;
    let replaced = false;
    try {
      if (await flockFd(run, fh)) {
        if (await names(path, fh)) {
          await fh.write(`${token}\n`); // O_APPEND
          await fh.sync();
          held = heldLock(key, path, fh, token, run);
          return held;
        }
        replaced = true; // removed by its last holder just now: the path names another file, or none
      } else holder = await holderIn(path);
    } finally {
      if (!held) await fh.close();
    }
    if (performance.now() - started >= waitMs) throw new LockBusyError(key, holder);
    if (!replaced) await sleep(Math.min(1000, 50 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random()));
  }
}

function heldLock(key: string, path: string, fh: FileHandle, token: string, run: Exec): HeldLock {
  let released = false;
  const check = async (): Promise<void> => {
    if (released) throw new LockLostError(key, "released");
    let ours: boolean;
    try {
      ours = await flockFd(run, fh);
    } catch (err) {
      throw new LockLostError(key, `its lock file cannot be locked: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!ours) throw new LockLostError(key, `held now by ${await holderIn(path)}`);
    const last = lastLine(await readFile(path, "utf8").catch(() => ""));
    if (last !== token) throw new LockLostError(key, last === "" ? "its lock file was removed" : `held meanwhile by ${last}`);
  };
  return {
    token,
    check,
    async release() {
      if (released) return;
      try {
        // only our own file, while it is still ours: never one a successor holds
        if (
          await check().then(
            () => true,
            () => false,
          )
        )
          await unlink(path).catch(() => undefined);
      } finally {
        released = true;
        await fh.close().catch(() => undefined);
      }
    },
  };
}

/** The owner string of this process on `host`. */
export const processOwner = (host: string, pid = process.pid): string => `${host} ${pid}`;
