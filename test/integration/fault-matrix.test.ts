// The engine's fault matrix (issue 9), on real glusterd: every operation the
// CSI driver asks of gluster-blockd is stopped after each of its durable steps
// in turn, as a killed gluster-blockd would be, and then retried as the
// sidecars retry it (on another node; the dead process's block lock went
// with it: the lock is a flock the bricks hold for the process's open file).
// Every cell must end exactly where an uninterrupted run ends: the same
// journal state, file, LIO on every node and CHAP secret, no lock left, and
// an audit from every node that finds nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEngineCluster, type EngineCluster } from "./harness/engine-cluster.js";
import { auditEveryNode, blockState, wipeVolume } from "./harness/volume-state.js";
import { ProcessPeers, SimulatedCrash, stopAfter } from "./harness/process-peers.js";
import type { BlockEngine } from "../../src/glusterblock/engine/block-engine.js";
import type { CreateRequest } from "../../src/glusterblock/engine/requests.js";
import { firstDifference } from "../helpers/first-difference.js";

const MiB = 1024n * 1024n;
const BLOCK = "fm-blk";
const INITIATOR = "iqn.2004-10.com.ubuntu:01:worker1";

let c: EngineCluster;
let root: string;

// what the CSI controller asks for: explicit ACLs, CHAP, no preallocation
const createReq = (): CreateRequest => ({
  volume: c.volume,
  block: BLOCK,
  ha: 3,
  hosts: c.hosts,
  auth: true,
  prealloc: false,
  sizeBytes: 16n * MiB,
  aclMode: "EXPLICIT",
  owner: "pvc-fault-matrix",
});

interface Operation {
  name: string;
  setup(e: BlockEngine): Promise<void>;
  run(e: BlockEngine): Promise<unknown>;
}

const created = async (e: BlockEngine): Promise<void> => void (await e.create(createReq()));
const access = (e: BlockEngine, allow: boolean): Promise<unknown> => e.setInitiatorAccess({ volume: c.volume, block: BLOCK, initiator: INITIATOR, allow });

const operations: Operation[] = [
  { name: "CreateVolume", setup: () => Promise.resolve(), run: (e) => e.create(createReq()) },
  // the controller's DeleteVolume: unlink, no force, a missing block is success
  { name: "DeleteVolume", setup: created, run: (e) => e.delete({ volume: c.volume, block: BLOCK, unlinkStorage: true, force: false, missingOk: true }) },
  { name: "ControllerExpandVolume", setup: created, run: (e) => e.resize({ volume: c.volume, block: BLOCK, sizeBytes: 32n * MiB, force: false }) },
  { name: "ControllerPublishVolume", setup: created, run: (e) => access(e, true) },
  {
    name: "ControllerUnpublishVolume",
    setup: async (e) => {
      await created(e);
      await access(e, true);
    },
    run: (e) => access(e, false),
  },
];

interface Cell {
  op: string;
  index: number;
  step: string;
  converged: boolean;
  why: string;
}

async function runMatrix(op: Operation): Promise<Cell[]> {
  // the uninterrupted run: its steps and its end state
  await wipeVolume(c, root);
  await op.setup(c.engine(1));
  const steps: string[] = [];
  const recPeers = new ProcessPeers(c.peers);
  await op.run(c.engine(1, { peers: recPeers, faults: { afterStep: (s) => void steps.push(s) } }));
  const reference = await blockState(c, root, BLOCK);
  assert.deepEqual(await auditEveryNode(c, false), [], `${op.name}: the uninterrupted run leaves nothing for the audit`);
  assert.ok(steps.length > 0, `${op.name} records its steps`);

  const cells: Cell[] = [];
  for (const [index, step] of steps.entries()) {
    await wipeVolume(c, root);
    await op.setup(c.engine(1));
    const peers = new ProcessPeers(c.peers);
    let seen = 0;
    let stoppedAt: string | undefined;
    const faults = {
      afterStep(s: string): void {
        if (stoppedAt !== undefined) return;
        if (seen++ === index) {
          stoppedAt = s;
          peers.dead = true;
          throw new SimulatedCrash(`stopped after ${s}`);
        }
      },
    };
    const cell: Cell = { op: op.name, index: index + 1, step, converged: false, why: "" };
    cells.push(cell);
    const first = await op.run(c.engine(1, { peers, faults })).then(
      () => undefined,
      (err: unknown) => err,
    );
    await peers.idle();
    if (!(first instanceof SimulatedCrash) || stoppedAt !== step) {
      cell.why = `the stopped run ended with ${first instanceof Error ? `${first.name}: ${first.message}` : "success"} at ${stoppedAt ?? "no step"}`;
      continue;
    }
    // the sidecar's retry, to whichever gluster-blockd answers
    const retry = await op.run(c.engine(2)).then(
      () => undefined,
      (err: unknown) => err,
    );
    if (retry !== undefined) {
      cell.why = `retry failed: ${retry instanceof Error ? `${retry.name}: ${retry.message}` : "a non-Error"}`;
      continue;
    }
    const diff = firstDifference(await blockState(c, root, BLOCK), reference);
    if (diff) {
      cell.why = `end state differs at ${diff}`;
      continue;
    }
    const findings = await auditEveryNode(c, false);
    if (findings.length > 0) {
      cell.why = `audit finds ${findings.map((f) => `${f.kind} ${f.host} ${f.block}`).join("; ")}`;
      continue;
    }
    cell.converged = true;
  }
  return cells;
}

function printMatrix(cells: Cell[]): void {
  const w1 = Math.max(9, ...cells.map((x) => x.op.length));
  const w2 = Math.max(10, ...cells.map((x) => `${x.index} ${x.step}`.length));
  const line = (a: string, b: string, d: string, e = ""): string => `${a.padEnd(w1)}  ${b.padEnd(w2)}  ${d.padEnd(9)}  ${e}`.trimEnd();
  const out = [line("operation", "after step", "converged"), line("-".repeat(w1), "-".repeat(w2), "-".repeat(9))];
  for (const x of cells) out.push(line(x.op, `${x.index} ${x.step}`, x.converged ? "yes" : "NO", x.why));
  console.log(`\nengine fault matrix (stop after step k, then retry on another node)\n${out.join("\n")}\n`);
}

before(async () => {
  c = await startEngineCluster("fault-matrix");
  root = await c.mounts.ensure(c.volume);
});

after(async () => {
  await c?.down();
});

test("engine fault matrix: every operation stopped after every step converges on retry", { timeout: 30 * 60_000 }, async () => {
  const cells: Cell[] = [];
  for (const op of operations) cells.push(...(await runMatrix(op)));
  printMatrix(cells);
  assert.deepEqual(
    cells.filter((x) => !x.converged).map((x) => `${x.op} after ${x.step}: ${x.why}`),
    [],
  );
});

test("a retried delete leaves no journal, file, lock or LIO object anywhere", async () => {
  await wipeVolume(c, root);
  await c.engine(1).create(createReq());
  const peers = new ProcessPeers(c.peers);
  const faults = stopAfter(peers, `lio-remove:${c.hosts[1] ?? ""}`);
  await assert.rejects(
    c.engine(1, { peers, faults }).delete({ volume: c.volume, block: BLOCK, unlinkStorage: true, force: false, missingOk: true }),
    SimulatedCrash,
  );
  await peers.idle();
  await c.engine(3).delete({ volume: c.volume, block: BLOCK, unlinkStorage: true, force: false, missingOk: true });
  const s = await blockState(c, root, BLOCK);
  assert.deepEqual(s, {
    journal: undefined,
    files: {},
    lio: Object.fromEntries(c.hosts.map((h) => [h, []])),
    chap: Object.fromEntries(c.hosts.map((h) => [h, "none"])),
    locks: [],
  });
});
