// Contenders racing the block lock a dead holder left, on real glusterd
// (src/glusterblock/volume/block-lock.ts): coordinating engines in processes
// of their own, on two nodes, each through its own FUSE mount (its own
// glusterfs client). Each adds its own initiator to the block's ACL (a read of
// the journal's INITIATORS, then an append of the new list: two holders at
// once lose one's update) and appends each of its steps to a trace file on the
// volume (two holders at once interleave there).
//
// Every close of a file on this volume waits 200 ms at the bricks (a FLUSH
// delayed by debug.delay-gen over posix), as on a loaded volume: whatever a
// contender reads before it acts, it acts a while later. A lock must not
// depend on that: the lease this lock replaced read a stale lock file (the
// holder is dead), then renamed it away, "which only one contender can do";
// contenders arriving 30 ms apart each renamed away the lock the one before
// had just made, and all held the block.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startEngineCluster, type EngineCluster } from "./harness/engine-cluster.js";
import { EngineProcess, contenderIqn as iqn, createContendedBlock, initiatorsOf, interleaved, quitAll } from "./harness/engine-process.js";
import { LOCK_DIR } from "../../src/glusterblock/volume/block-store.js";

let c: EngineCluster;
let root: string;

before(async () => {
  c = await startEngineCluster("block-lock-race");
  for (const [key, value] of [
    ["debug.delay-gen", "posix"],
    ["delay-gen.enable", "flush"],
    ["delay-gen.delay-duration", "200000"],
    ["delay-gen.delay-percentage", "100"],
  ] as const) {
    await c.gluster.cliMust(1, ["volume", "set", c.volume, key, value]);
  }
  // the bricks load a translator only when they start
  await c.gluster.cliMust(1, ["volume", "stop", c.volume]);
  await c.gluster.cliMust(1, ["volume", "start", c.volume]);
  root = await c.mounts.ensure(c.volume);
});

after(async () => {
  await c?.down();
});

test(
  "contenders on two nodes through four mounts race the lock a SIGKILLed holder left: one holds it at a time, no update is lost",
  { timeout: 10 * 60_000 },
  async () => {
    const block = "lk-race";
    const trace = "trace-lk-race";
    await createContendedBlock(c, block);
    const ps: EngineProcess[] = [];
    try {
      // the dead holder: node 1's gluster-blockd, killed while it holds the block
      const dead = await EngineProcess.start(c, "dead", 1, { trace });
      ps.push(dead);
      dead.send({ cmd: "run", op: "allow", block, initiator: iqn("dead"), pauseAt: "journal:initiators" });
      await dead.next("paused");
      await dead.kill();
      // node 1 again (its restarted daemon's requests: they know the holder is dead) and node 2,
      // each through a mount of its own
      const contenders = await Promise.all(
        [
          ["n1a", 1, 1],
          ["n1b", 1, 2],
          ["n1c", 1, 3],
          ["n2a", 2, 2],
        ].map(([name, node, mountFrom]) =>
          EngineProcess.start(c, String(name), Number(node), { mountFrom: Number(mountFrom), trace, stepDelayMs: 100, lockWaitMs: 120_000 }),
        ),
      );
      ps.push(...contenders);
      for (const p of contenders) p.send({ cmd: "run", op: "allow", block, initiator: iqn(p.name), gate: true });
      await Promise.all(contenders.map((p) => p.next("gated")));
      // closes are slow here (see the top)
      const t0 = performance.now();
      await writeFile(join(root, "flush-probe"), "");
      const closeMs = performance.now() - t0;
      assert.ok(closeMs >= 150, `a write and close took ${closeMs.toFixed(0)} ms`);
      // they arrive at the lock 30 ms apart
      for (const p of contenders) {
        p.send({ cmd: "open" });
        await sleep(30);
      }
      const results = await Promise.all(contenders.map((p) => p.next("done", 180_000)));
      assert.deepEqual(
        results.map((r) => r.ok),
        [true, true, true, true],
        JSON.stringify(results),
      );

      const { lines, split } = await interleaved(root, trace);
      assert.deepEqual(split, [], `two held the block at once:\n${lines.join("\n")}`);
      assert.deepEqual(await initiatorsOf(root, block), ["dead", "n1a", "n1b", "n1c", "n2a"].map(iqn).sort(), "every contender's update is in the journal");
      assert.ok(!(await readdir(join(root, LOCK_DIR)).catch(() => [] as string[])).includes(block), "no lock file is left");
    } finally {
      await quitAll(ps);
    }
  },
);
