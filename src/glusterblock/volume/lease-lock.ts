// Per-block mutual exclusion across storage nodes, through the volume itself
// (the original locked the whole volume with one fcntl lock; we lock one
// block). A lock is a file created with O_EXCL, which Gluster makes atomic
// across clients. The holder refreshes its mtime; a lock older than the lease
// belongs to a dead holder and is broken by renaming it away, which only one
// contender can do. A holder the caller knows to be dead (this node's own
// killed predecessor, see ownerGone) is broken the same way without waiting.
import { open, readFile, rename, stat, unlink, utimes, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";

export interface LeaseLockOptions {
  /** directory of lock files (on the volume) */
  dir: string;
  /** who we are, written into the lock for diagnosis: "host pid" */
  owner: string;
  /** a lock not refreshed for this long is considered abandoned (default 120 s) */
  leaseMs?: number;
  /** how long acquire waits for a busy lock (default 30 s) */
  waitMs?: number;
  /** true when the holder (a lock file's content) is known to be dead: broken at once, not after the lease */
  holderGone?: (holder: string) => boolean;
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

export interface HeldLock {
  release(): Promise<void>;
}

export async function acquireLease(key: string, opts: LeaseLockOptions): Promise<HeldLock> {
  const leaseMs = opts.leaseMs ?? 120_000;
  const deadline = Date.now() + (opts.waitMs ?? 30_000);
  const path = join(opts.dir, key);
  const token = `${opts.owner} ${randomBytes(6).toString("hex")}`;
  await mkdir(opts.dir, { recursive: true });
  let holder = "";
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, "wx", 0o600);
      try {
        await fh.writeFile(`${token}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const st = await stat(path).catch(() => undefined);
    const content = (await readFile(path, "utf8").catch(() => "")).trim();
    if (st && (Date.now() - st.mtimeMs > leaseMs || (content !== "" && opts.holderGone?.(content) === true))) {
      // abandoned: move it aside (atomic, one winner), then try again at once
      const aside = `${path}.stale-${randomBytes(4).toString("hex")}`;
      if (
        await rename(path, aside).then(
          () => true,
          () => false,
        )
      )
        await unlink(aside).catch(() => undefined);
      continue;
    }
    holder = content || "unknown";
    if (Date.now() >= deadline) throw new LockBusyError(key, holder);
    await sleep(Math.min(1000, 100 * 2 ** Math.min(attempt, 3)));
  }
  const refresh = setInterval(
    () => {
      const now = new Date();
      utimes(path, now, now).catch(() => undefined);
    },
    Math.max(1000, Math.floor(leaseMs / 4)),
  );
  refresh.unref();
  return {
    async release() {
      clearInterval(refresh);
      // only remove our own lock: a lease broken by someone else is theirs now
      const content = (await readFile(path, "utf8").catch(() => "")).trim();
      if (content === token) await unlink(path).catch(() => undefined);
    },
  };
}

/** The owner string of this process on `host`, as ownerGone reads it back. */
export const processOwner = (host: string, pid = process.pid): string => `${host} ${pid}`;

/**
 * A holder written by processOwner(host) of an earlier process on this same
 * node that is no longer running: one gluster-blockd runs per node, so its
 * killed predecessor's lock need not wait out the lease after a restart. A
 * reused pid only makes it wait (conservative); other nodes' holders always wait.
 */
export function ownerGone(host: string, alive: (pid: number) => boolean = pidAlive): (holder: string) => boolean {
  return (holder) => {
    const [h, pid] = holder.split(" ");
    if (h !== host || !pid || !/^[1-9]\d*$/.test(pid)) return false;
    const n = Number(pid);
    return n !== process.pid && !alive(n);
  };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, someone else's
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}
