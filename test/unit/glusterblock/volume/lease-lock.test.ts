import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exec } from "../../../../src/util/exec.js";
import { acquireLease, LockBusyError, ownerGone, processOwner } from "../../../../src/glusterblock/volume/lease-lock.js";

const HOST = "10.0.0.1";

async function lockDir(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), "gbcsi-lease-")), "locks");
  await mkdir(dir);
  return dir;
}

/** a pid that ran and is gone */
async function deadPid(): Promise<number> {
  const r = await exec(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { timeoutMs: 30_000 });
  return Number(r.stdout);
}

test("a second holder waits and gives up with the holder's name", async () => {
  const dir = await lockDir();
  const held = await acquireLease("blk", { dir, owner: processOwner(HOST), holderGone: ownerGone(HOST) });
  await assert.rejects(
    acquireLease("blk", { dir, owner: processOwner("10.0.0.2"), waitMs: 300 }),
    (err: unknown) => err instanceof LockBusyError && err.holder.startsWith(`${HOST} ${process.pid} `),
  );
  await held.release();
  const again = await acquireLease("blk", { dir, owner: processOwner("10.0.0.2"), waitMs: 300 });
  await again.release();
});

test("this node's killed predecessor's lock is broken at once after a restart", async () => {
  const dir = await lockDir();
  const pid = await deadPid();
  await writeFile(join(dir, "blk"), `${processOwner(HOST, pid)} 0a1b2c3d4e5f\n`);
  const t0 = performance.now();
  const held = await acquireLease("blk", { dir, owner: processOwner(HOST), waitMs: 5_000, holderGone: ownerGone(HOST) });
  assert.ok(performance.now() - t0 < 2_000, "no waiting on a dead holder");
  assert.match(await readFile(join(dir, "blk"), "utf8"), new RegExp(`^${HOST} ${process.pid} `));
  await held.release();
});

test("a fresh lock is kept for its lease when its holder may be alive: another node, a live pid, an unreadable owner", async () => {
  const dir = await lockDir();
  const gone = ownerGone(HOST);
  for (const holder of [`10.0.0.2 ${await deadPid()} aa`, `${HOST} ${process.pid} bb`, `${HOST} 1 cc`, `audit ${HOST} dd`, `${HOST} x12 ee`, ""]) {
    assert.equal(gone(holder), false, holder);
  }
  await writeFile(join(dir, "blk"), `10.0.0.2 ${await deadPid()} 0a1b2c3d4e5f\n`);
  await assert.rejects(acquireLease("blk", { dir, owner: processOwner(HOST), waitMs: 300, holderGone: gone }), LockBusyError);
});

test("the audit's owner on this node reads back the same way", async () => {
  const pid = await deadPid();
  assert.equal(ownerGone(HOST)(`${processOwner(HOST, pid)} audit 0a1b2c`), true);
  assert.equal(ownerGone(HOST, () => true)(`${processOwner(HOST, pid)} audit 0a1b2c`), false);
});
