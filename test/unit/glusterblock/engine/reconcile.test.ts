// The start-up reconcile's cost in journal reads and configfs mutations,
// counted (not timed) over a temp directory laid out as a hosting volume and
// the configfs imitation: each journal read once, and only the blocks whose
// LIO differs written; a reconcile killed after any mutation and run again
// converges.
import { test, mock } from "node:test";
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { LocalNode } from "../../../../src/glusterblock/engine/local-node.js";
import { extLine } from "../../../../src/glusterblock/engine/extensions.js";
import { ConfigfsLioTargets } from "../../../../src/glusterblock/lio/configfs-lio-targets.js";
import { FakeConfigfs } from "../../../doubles/fake-configfs.js";
import { BlockStore } from "../../../../src/glusterblock/volume/block-store.js";
import { createDoneLines, createIntentLines, hostLine, passwordLine } from "../../../../src/glusterblock/journal/index.js";
import { iqnFor } from "../../../../src/identity/names.js";
import { gbidFor } from "../../../doubles/names.js";
import { nullLogger } from "../../../../src/util/log.js";
import { noExec, tempHostingVolume } from "../../../helpers/temp-hosting-volume.js";

const VOLUME = "block-test";
const HOSTS = ["10.213.0.11", "10.213.0.12", "10.213.0.13"] as const;
const HOST = HOSTS[0];
/** the result with each list sorted (directory order is the filesystem's) */
const sorted = (r: { converged: string[]; failed: string[] }): { converged: string[]; failed: string[] } => ({
  converged: [...r.converged].sort(),
  failed: [...r.failed].sort(),
});

/** A volume of `blocks` HA-3 CHAP blocks b0.. exported on all three hosts; this node's LIO empty (as after `targetctl clear`). */
async function volumeWith(blocks: number) {
  const { dir, mounts, store } = await tempHostingVolume(VOLUME, "gb-reconcile-");
  const names = Array.from({ length: blocks }, (_, i) => `b${i}`);
  for (const name of names) {
    const gbid = gbidFor(VOLUME, name);
    await store.append(name, createIntentLines({ volume: VOLUME, gbid, ha: 3, prioPath: HOST }) + extLine("HOSTS", HOSTS.join(" ")));
    await store.append(
      name,
      createDoneLines({ sizeBytes: 16n * 1024n * 1024n }) + passwordLine(`pw-${name}`) + HOSTS.map((h) => hostLine(h, "CONFIGSUCCESS")).join(""),
    );
  }
  const fs = new FakeConfigfs();
  const lio = new ConfigfsLioTargets({ fs });
  const local = new LocalNode({ host: HOST, mounts, lio, exec: noExec, volfileServer: "localhost", log: nullLogger });
  const reads = mock.method(BlockStore.prototype, "readRaw");
  return {
    fs,
    lio,
    local,
    store,
    names,
    /** journal reads since the last call */
    journalReads(): number {
      const n = reads.mock.callCount();
      reads.mock.resetCalls();
      return n;
    },
    cleanup: async () => {
      reads.mock.restore();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** the blocks (by backstore name or IQN) that configfs mutations since `from` touched */
function touched(fs: FakeConfigfs, names: readonly string[], from: number): string[] {
  const ops = fs.ops.slice(from);
  const segments = ops.map((op) => new Set(op.split(/[/ ]/)));
  return names.filter((n) => segments.some((seg) => seg.has(n) || seg.has(iqnFor(gbidFor(VOLUME, n)))));
}

test("reconcile: N journals read once each; K already converged cost no configfs write, the others are written", async () => {
  const N = 12;
  const v = await volumeWith(N);
  try {
    const all = { converged: [...v.names].sort(), failed: [] };
    assert.deepEqual(sorted(await v.local.reconcileVolume(VOLUME)), all);
    assert.equal(v.journalReads(), N, "one read per journal (it was two: one to choose the block, one in apply)");
    assert.deepEqual(touched(v.fs, v.names, 0), v.names);

    // three blocks drift: one target wiped, one backstore and target wiped, one CHAP password rotated while this node was away
    await v.lio.remove({ name: "b3", iqn: iqnFor(gbidFor(VOLUME, "b3")) });
    await v.fs.rmdir(`${v.fs.root}/iscsi/${iqnFor(gbidFor(VOLUME, "b7"))}/tpgt_1/np/${HOST}:3260`);
    await v.store.append("b10", passwordLine("pw-rotated"));
    const from = v.fs.ops.length;
    v.journalReads();

    assert.deepEqual(sorted(await v.local.reconcileVolume(VOLUME)), all);
    assert.equal(v.journalReads(), N);
    assert.deepEqual(touched(v.fs, v.names, from), ["b3", "b7", "b10"], "only the drifted blocks written");

    const quiet = v.fs.ops.length;
    assert.deepEqual(sorted(await v.local.reconcileVolume(VOLUME)), all);
    assert.equal(v.journalReads(), N);
    assert.equal(v.fs.ops.length, quiet, "a converged node: no configfs mutation at all");
  } finally {
    await v.cleanup();
  }
});

test("reconcile: a block that cannot be applied or read fails alone; the others converge", async () => {
  const v = await volumeWith(6);
  try {
    await v.store.append("b2", "GBID: not-a-gbid\n");
    // a foreign backstore already holds b4's name: apply refuses it
    await v.fs.mkdir(`${v.fs.root}/core/user_9`);
    await v.fs.mkdir(`${v.fs.root}/core/user_9/b4`);
    await v.fs.write(`${v.fs.root}/core/user_9/b4/control`, "dev_config=glfs/other@localhost/block-store/x");
    await v.fs.write(`${v.fs.root}/core/user_9/b4/control`, "dev_size=1048576");
    await v.fs.write(`${v.fs.root}/core/user_9/b4/enable`, "1");
    const r = await v.local.reconcileVolume(VOLUME);
    assert.deepEqual(sorted(r), { converged: ["b0", "b1", "b3", "b5"], failed: ["b2", "b4"] });
    assert.equal(v.journalReads(), 6 + 1, "one read per journal, and the unreadable one's raw text once for its GBIDs");
  } finally {
    await v.cleanup();
  }
});

test("reconcile: killed after any configfs mutation and run again, it converges (and then writes nothing)", async () => {
  const N = 5;
  const whole = await volumeWith(N);
  await whole.local.reconcileVolume(VOLUME);
  const total = whole.fs.ops.length;
  await whole.cleanup();
  for (let crashAt = 0; crashAt < total; crashAt += 7) {
    const v = await volumeWith(N);
    try {
      v.fs.crashAt = crashAt;
      const killed = await v.local.reconcileVolume(VOLUME);
      assert.ok(killed.failed.length > 0, `crash at ${crashAt}: some block failed`);
      v.fs.crashAt = undefined;
      assert.deepEqual(sorted(await v.local.reconcileVolume(VOLUME)), { converged: [...v.names].sort(), failed: [] }, `crash at ${crashAt}`);
      const answers = await v.local.statusMany(v.names.map((block) => ({ volume: VOLUME, block, gbid: gbidFor(VOLUME, block) })));
      for (const a of answers) assert.ok(!("error" in a) && a.matches, `crash at ${crashAt}: ${JSON.stringify(a)}`);
      const settled = v.fs.ops.length;
      await v.local.reconcileVolume(VOLUME);
      assert.equal(v.fs.ops.length, settled, `crash at ${crashAt}: a third run writes nothing`);
    } finally {
      await v.cleanup();
    }
  }
});
