// The cross-node block lock on real glusterd (src/glusterblock/volume/
// block-lock.ts): coordinating engines in processes of their own, each
// through its own FUSE mount (its own glusterfs client), contend for one
// block. Every contender adds its own initiator to the block's ACL (a read of
// the journal's INITIATORS, then an append of the new list: two holders at
// once lose one's update) and may append each of its steps to a trace file on
// the volume (two holders at once interleave there). A holder is killed,
// stopped past any timeout, dropped by the bricks behind its back; contenders
// run with their clocks 5 minutes off. (Contenders racing a lock a dead holder
// left: block-lock-race.test.ts.)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { startEngineCluster, type EngineCluster } from "./harness/engine-cluster.js";
import { EngineProcess, contenderIqn as iqn, createContendedBlock, initiatorsOf, interleaved, journalOf, quitAll } from "./harness/engine-process.js";
import { readExtensions } from "../../src/glusterblock/engine/extensions.js";
import { parseJournal } from "../../src/glusterblock/journal/index.js";
import { LOCK_DIR } from "../../src/glusterblock/volume/block-store.js";

let c: EngineCluster;
let root: string;

before(async () => {
  c = await startEngineCluster("block-lock");
  root = await c.mounts.ensure(c.volume);
});

after(async () => {
  await c?.down();
});

const createBlock = (block: string): Promise<void> => createContendedBlock(c, block);
const initiators = (block: string): Promise<string[]> => initiatorsOf(root, block);
const journal = (block: string): Promise<string> => journalOf(root, block);

test("a holder killed with SIGKILL frees the block at once: another node takes it without waiting out a lease", { timeout: 5 * 60_000 }, async () => {
  const block = "lk-kill";
  await createBlock(block);
  const ps: EngineProcess[] = [];
  try {
    const holder = await EngineProcess.start(c, "holder", 1);
    const other = await EngineProcess.start(c, "other", 2, { lockWaitMs: 10_000 });
    ps.push(holder, other);
    holder.send({ cmd: "run", op: "allow", block, initiator: iqn("holder"), pauseAt: "journal:initiators" });
    await holder.next("paused");
    await holder.kill();
    other.send({ cmd: "run", op: "allow", block, initiator: iqn("other") });
    const r = await other.next("done");
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.ok(r.ms < 3_000, `it took ${r.ms} ms`);
    assert.deepEqual(await initiators(block), [iqn("holder"), iqn("other")].sort());
  } finally {
    await quitAll(ps);
  }
});

test(
  "a holder stopped (SIGSTOP) for 125 s, past every timeout: nobody takes the block meanwhile; resumed, it finishes and nothing is lost",
  { timeout: 10 * 60_000 },
  async () => {
    const block = "lk-stop";
    const trace = "trace-lk-stop";
    await createBlock(block);
    const ps: EngineProcess[] = [];
    try {
      const holder = await EngineProcess.start(c, "holder", 1, { trace });
      const other = await EngineProcess.start(c, "other", 2, { trace, lockWaitMs: 5_000 });
      ps.push(holder, other);
      holder.send({ cmd: "run", op: "allow", block, initiator: iqn("holder"), pauseAt: "journal:initiators" });
      await holder.next("paused");
      holder.signal("SIGSTOP");
      const stopped = performance.now();
      try {
        other.send({ cmd: "run", op: "allow", block, initiator: iqn("other") });
        const early = await other.next("done");
        assert.equal(early.error, "BlockBusyError", JSON.stringify(early));
        // past the old 120 s lease, gluster's 42 s ping-timeout and any wait of ours
        await sleep(Math.max(0, 125_000 - (performance.now() - stopped)));
        other.send({ cmd: "run", op: "allow", block, initiator: iqn("other") });
        const late = await other.next("done");
        assert.equal(late.error, "BlockBusyError", `after ${((performance.now() - stopped) / 1000).toFixed(0)} s stopped: ${JSON.stringify(late)}`);
      } finally {
        holder.signal("SIGCONT");
      }
      holder.send({ cmd: "resume" });
      const resumed = await holder.next("done");
      assert.equal(resumed.ok, true, JSON.stringify(resumed));
      other.send({ cmd: "run", op: "allow", block, initiator: iqn("other") });
      assert.equal((await other.next("done")).ok, true);
      const { lines, split } = await interleaved(root, trace);
      assert.deepEqual(split, [], `two held the block at once:\n${lines.join("\n")}`);
      assert.deepEqual(await initiators(block), [iqn("holder"), iqn("other")].sort());
    } finally {
      await quitAll(ps);
    }
  },
);

test("node clocks 5 minutes apart: contenders whose clocks run 5 min ahead and 5 min behind never take a held block", { timeout: 5 * 60_000 }, async () => {
  const block = "lk-skew";
  const trace = "trace-lk-skew";
  await createBlock(block);
  const ps: EngineProcess[] = [];
  try {
    const holder = await EngineProcess.start(c, "holder", 1, { trace });
    const ahead = await EngineProcess.start(c, "ahead", 2, { trace, clockOffsetMs: 5 * 60_000, lockWaitMs: 3_000 });
    const behind = await EngineProcess.start(c, "behind", 3, { trace, clockOffsetMs: -5 * 60_000, lockWaitMs: 3_000 });
    ps.push(holder, ahead, behind);
    assert.ok(
      Math.abs(ahead.clockOffsetMs - 300_000) < 10_000 && Math.abs(behind.clockOffsetMs + 300_000) < 10_000,
      `${ahead.clockOffsetMs} ${behind.clockOffsetMs}`,
    );
    holder.send({ cmd: "run", op: "allow", block, initiator: iqn("holder"), pauseAt: "journal:initiators" });
    await holder.next("paused");
    for (const p of [ahead, behind]) p.send({ cmd: "run", op: "allow", block, initiator: iqn(p.name) });
    const tried = await Promise.all([ahead, behind].map((p) => p.next("done")));
    assert.deepEqual(
      tried.map((r) => r.error),
      ["BlockBusyError", "BlockBusyError"],
      JSON.stringify(tried),
    );
    holder.send({ cmd: "resume" });
    assert.equal((await holder.next("done")).ok, true);
    for (const p of [ahead, behind]) {
      p.send({ cmd: "run", op: "allow", block, initiator: iqn(p.name) });
      assert.equal((await p.next("done")).ok, true, p.name);
    }
    const { lines, split } = await interleaved(root, trace);
    assert.deepEqual(split, [], `two held the block at once:\n${lines.join("\n")}`);
    assert.deepEqual(await initiators(block), [iqn("ahead"), iqn("behind"), iqn("holder")].sort());
  } finally {
    await quitAll(ps);
  }
});

test(
  "the bricks drop a held lock (gluster volume clear-locks) and another node takes the block: the first holder's next write is refused, nothing of it lands after the takeover",
  { timeout: 5 * 60_000 },
  async () => {
    const block = "lk-fence";
    await createBlock(block);
    const ps: EngineProcess[] = [];
    try {
      const holder = await EngineProcess.start(c, "holder", 1);
      const other = await EngineProcess.start(c, "other", 2, { lockWaitMs: 10_000 });
      ps.push(holder, other);
      // CHAP on: the new password's line, then a line per host as each is configured
      holder.send({ cmd: "run", op: "auth-on", block, pauseAt: "journal:password" });
      await holder.next("paused");
      const cleared = await c.gluster.cliMust(1, ["volume", "clear-locks", c.volume, `/${LOCK_DIR}/${block}`, "kind", "all", "posix"]);
      assert.match(cleared.stdout, /granted locks=1/, cleared.stdout);
      other.send({ cmd: "run", op: "allow", block, initiator: iqn("other") });
      const took = await other.next("done");
      assert.equal(took.ok, true, JSON.stringify(took));
      const after = await journal(block);
      holder.send({ cmd: "resume" });
      const refused = await holder.next("done");
      assert.equal(refused.ok, false, JSON.stringify(refused));
      assert.equal(refused.error, "BlockLockLostError", JSON.stringify(refused));
      assert.equal(await journal(block), after, "the holder wrote nothing after it lost the lock");
      // its retry (the sidecar's) goes on from the journal
      holder.send({ cmd: "run", op: "auth-on", block });
      assert.equal((await holder.next("done")).ok, true);
      const meta = parseJournal(block, await journal(block));
      assert.notEqual(meta.password, "");
      assert.deepEqual(readExtensions(meta).initiators, [iqn("other")]);
    } finally {
      await quitAll(ps);
    }
  },
);
