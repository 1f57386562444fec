// The block lock on a local directory: flock(1) and the kernel arbitrate it
// here, the bricks do on a volume (test/integration/block-lock.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFile, mkdtemp, mkdir, readdir, readFile, rename, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exec, type Exec } from "../../../../src/util/exec.js";
import { acquireBlockLock, LockBusyError, LockLostError, processOwner, type HeldLock } from "../../../../src/glusterblock/volume/block-lock.js";
import { ROOT } from "../../../helpers/spawn-program.js";

const HOST = "10.0.0.1";

async function lockDir(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), "gbcsi-lock-")), "locks");
  await mkdir(dir);
  return dir;
}

/** A holder in its own process (test/helpers/hold-block-lock.ts), once it holds the lock. */
async function holderProcess(dir: string, owner: string) {
  const child = spawn(process.execPath, ["--import", "tsx", "test/helpers/hold-block-lock.ts", dir, "blk", owner], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  for (let i = 0; !out.includes("\n"); i++) {
    if (i > 300 || child.exitCode !== null) throw new Error(`the holder did not take the lock: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(out, /^held /);
  return { child, exited, token: out.slice("held ".length).trim() };
}

test("a second holder waits and gives up with the holder's name; once released the lock is free at once and leaves no file", async () => {
  const dir = await lockDir();
  const held = await acquireBlockLock("blk", { dir, owner: processOwner(HOST) });
  assert.match(held.token, new RegExp(`^${HOST} ${process.pid} [0-9a-f]{12}$`));
  const t0 = performance.now();
  await assert.rejects(
    acquireBlockLock("blk", { dir, owner: processOwner("10.0.0.2"), waitMs: 300 }),
    (err: unknown) => err instanceof LockBusyError && err.holder === held.token,
  );
  assert.ok(performance.now() - t0 >= 300, "it waited");
  await held.release();
  assert.deepEqual(await readdir(dir), [], "the lock file is gone");
  const again = await acquireBlockLock("blk", { dir, owner: processOwner("10.0.0.2"), waitMs: 0 });
  await again.release();
});

test("a holder killed with SIGKILL lets go at once: no lease to wait out, no file to break", async () => {
  const dir = await lockDir();
  const h = await holderProcess(dir, "10.0.0.9 1");
  await assert.rejects(acquireBlockLock("blk", { dir, owner: processOwner(HOST), waitMs: 0 }), LockBusyError);
  h.child.kill("SIGKILL");
  await h.exited;
  const t0 = performance.now();
  const held = await acquireBlockLock("blk", { dir, owner: processOwner(HOST), waitMs: 0 });
  assert.ok(performance.now() - t0 < 2_000);
  // the dead holder's token stays in the file until the next holder removes it
  assert.deepEqual((await readFile(join(dir, "blk"), "utf8")).trim().split("\n"), [h.token, held.token]);
  await held.release();
  assert.deepEqual(await readdir(dir), []);
});

test("a holder stopped with SIGSTOP keeps the lock however long it sleeps, and still holds it when it resumes", async () => {
  const dir = await lockDir();
  const h = await holderProcess(dir, "10.0.0.9 1");
  h.child.kill("SIGSTOP");
  try {
    await assert.rejects(acquireBlockLock("blk", { dir, owner: processOwner(HOST), waitMs: 1_500 }), LockBusyError);
  } finally {
    h.child.kill("SIGCONT");
  }
  let out = "";
  h.child.stdout.on("data", (d: string) => (out += d));
  h.child.stdin.write("check\n");
  for (let i = 0; i < 200 && !out.includes("\n"); i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(out, "ok\n");
  h.child.stdin.end("release\n");
  await h.exited;
  assert.deepEqual(await readdir(dir), []);
});

test("no clock: a lock file's mtime, however far in the past or future, neither frees a held lock nor blocks a free one", async () => {
  const dir = await lockDir();
  const path = join(dir, "blk");
  for (const when of [new Date(0), new Date(Math.round(Date.now() / 1000) * 1000 + 365 * 24 * 3600_000)]) {
    // a file left by a holder that died: free, whatever its age
    await writeFile(path, "10.0.0.9 1 0a1b2c3d4e5f\n");
    await utimes(path, when, when);
    const held = await acquireBlockLock("blk", { dir, owner: processOwner(HOST), waitMs: 0 });
    // held: busy, whatever its age
    await utimes(path, when, when);
    assert.equal(Math.round((await stat(path)).mtimeMs), when.getTime());
    await assert.rejects(acquireBlockLock("blk", { dir, owner: processOwner("10.0.0.2"), waitMs: 200 }), LockBusyError);
    await held.check();
    await held.release();
  }
});

test("check() passes while the lock is this holder's alone, and fails once released, taken over or removed", async () => {
  const dir = await lockDir();
  const path = join(dir, "blk");
  let held = await acquireBlockLock("blk", { dir, owner: processOwner(HOST) });
  await held.check();
  await held.check();
  await held.release();
  await assert.rejects(held.check(), (err: unknown) => err instanceof LockLostError && err.reason === "released");

  // another holder since (the bricks dropped ours and it took it): its token is the file's last
  held = await acquireBlockLock("blk", { dir, owner: processOwner(HOST) });
  await appendFile(path, "10.0.0.2 77 ffffffffffff\n");
  await assert.rejects(held.check(), (err: unknown) => err instanceof LockLostError && err.reason === "held meanwhile by 10.0.0.2 77 ffffffffffff");
  // and its release leaves the successor's file alone
  await held.release();
  assert.deepEqual(await readdir(dir), ["blk"]);

  // the file was removed (a successor released it)
  held = await acquireBlockLock("blk", { dir, owner: processOwner(HOST) });
  await writeFile(join(dir, "other"), "");
  await rename(join(dir, "other"), path);
  await assert.rejects(held.check(), (err: unknown) => err instanceof LockLostError && err.reason === "its lock file was removed");
  await held.release();
});

test("a contender that locks a lock file its holder just removed does not hold it: it tries the path's new file", async () => {
  const dir = await lockDir();
  const first = await acquireBlockLock("blk", { dir, owner: "first 1" });
  let successor: HeldLock | undefined;
  // the contender has opened the old file; before its flock runs, the holder
  // releases (removes the file, lets go) and a third takes the path's new file
  const racing: Exec = async (file, args, opts) => {
    if (!successor) {
      await first.release();
      successor = await acquireBlockLock("blk", { dir, owner: "successor 2", waitMs: 0 });
    }
    return exec(file, args, opts);
  };
  await assert.rejects(
    acquireBlockLock("blk", { dir, owner: "contender 3", waitMs: 300, exec: racing }),
    (err: unknown) => err instanceof LockBusyError && err.holder === successor?.token,
  );
  assert.ok(successor);
  await successor.check();
  await successor.release();
});
