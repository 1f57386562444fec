// The audit's cost in peer calls, with three LocalNodes over a temp
// directory laid out as a hosting volume and the configfs imitation: each
// host is asked once for all its blocks, however many there are (it used to
// be asked once per block, one call after another). What each finding kind
// means is proven on real glusterd in test/integration/audit.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { Auditor, type AuditEngine } from "../../../../src/glusterblock/engine/audit.js";
import { LocalNode } from "../../../../src/glusterblock/engine/local-node.js";
import { extLine } from "../../../../src/glusterblock/engine/extensions.js";
import type { Peers, PeerRef, TargetResult, TargetStatusAnswer, NodeStatusInfo, TargetInspection } from "../../../../src/glusterblock/engine/peers.js";
import { ConfigfsLioTargets } from "../../../../src/glusterblock/lio/configfs-lio-targets.js";
import { FakeConfigfs } from "../../../doubles/fake-configfs.js";
import { createDoneLines, createIntentLines, hostLine } from "../../../../src/glusterblock/journal/index.js";
import { iqnFor } from "../../../../src/identity/names.js";
import { gbidFor } from "../../../doubles/names.js";
import { nullLogger } from "../../../../src/util/log.js";
import { noExec, tempHostingVolume } from "../../../helpers/temp-hosting-volume.js";

const VOLUME = "block-test";
const HOSTS = ["10.213.0.11", "10.213.0.12", "10.213.0.13"] as const;
const [H1, H2, H3] = HOSTS;

interface Node {
  lio: ConfigfsLioTargets;
  local: LocalNode;
}

/** Peers that route to the LocalNodes and count every call by method and host. */
class CountingPeers implements Peers {
  readonly calls: string[] = [];
  down?: string;
  constructor(private readonly nodes: Map<string, Node>) {}
  private node(method: string, host: string): LocalNode {
    this.calls.push(`${method} ${host}`);
    const n = this.nodes.get(host);
    if (!n || host === this.down) throw new Error(`connect ECONNREFUSED ${host}:24010`);
    return n.local;
  }
  count(method: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.calls) {
      const [m, h] = c.split(" ");
      if (m === method && h) out[h] = (out[h] ?? 0) + 1;
    }
    return out;
  }
  apply(host: string, ref: PeerRef): Promise<TargetResult> {
    return Promise.resolve().then(() => this.node("apply", host).apply(ref));
  }
  remove(host: string, ref: PeerRef): Promise<TargetResult> {
    return Promise.resolve().then(() => this.node("remove", host).remove(ref));
  }
  status(host: string, ref: PeerRef): Promise<TargetResult> {
    return Promise.resolve().then(() => this.node("status", host).status(ref));
  }
  statusMany(host: string, refs: readonly PeerRef[]): Promise<TargetStatusAnswer[]> {
    return Promise.resolve().then(() => this.node("statusMany", host).statusMany(refs));
  }
  ping(host: string): Promise<NodeStatusInfo> {
    return Promise.resolve().then(() => this.node("ping", host).nodeStatus());
  }
  inspect(host: string, ref: PeerRef): Promise<TargetInspection> {
    return Promise.resolve().then(() => this.node("inspect", host).inspect(ref));
  }
}

/** A volume of `blocks` whole HA-3 blocks b0.., exported on all three nodes. */
async function volumeWith(blocks: number) {
  const { dir, mounts, store } = await tempHostingVolume(VOLUME, "gb-audit-");
  const nodes = new Map<string, Node>();
  for (const host of HOSTS) {
    const lio = new ConfigfsLioTargets({ fs: new FakeConfigfs() });
    nodes.set(host, { lio, local: new LocalNode({ host, mounts, lio, exec: noExec, volfileServer: "localhost", log: nullLogger }) });
  }
  const peers = new CountingPeers(nodes);
  const names = Array.from({ length: blocks }, (_, i) => `b${i}`);
  for (const name of names) {
    const gbid = gbidFor(VOLUME, name);
    await store.append(name, createIntentLines({ volume: VOLUME, gbid, ha: 3, prioPath: H1 }) + extLine("HOSTS", HOSTS.join(" ")));
    await store.createBackingFile(gbid, 16n * 1024n * 1024n, false);
    await store.append(name, createDoneLines({ sizeBytes: 16n * 1024n * 1024n }) + HOSTS.map((h) => hostLine(h, "CONFIGSUCCESS")).join(""));
    for (const h of HOSTS) await peers.apply(h, { volume: VOLUME, block: name, gbid });
  }
  peers.calls.length = 0;
  const deleted: string[] = [];
  const engine: AuditEngine = {
    host: H1,
    store: () => Promise.resolve(store),
    delete: (req) => {
      deleted.push(req.block);
      return Promise.resolve({ successfulOn: [], failedOn: [], notFound: false });
    },
  };
  const n1 = nodes.get(H1) as Node;
  const auditor = new Auditor(engine, n1.local, n1.lio, peers, nullLogger);
  return { auditor, peers, nodes, names, deleted, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

const once = { [H1]: 1, [H2]: 1, [H3]: 1 };

test("an audit asks each host once for all its blocks, however many there are", async () => {
  for (const blocks of [2, 12]) {
    const v = await volumeWith(blocks);
    try {
      assert.deepEqual(await v.auditor.audit(VOLUME, false), [], `${blocks} whole blocks`);
      assert.deepEqual(v.peers.count("statusMany"), once, `${blocks} blocks: one status call per host`);
      assert.equal(v.peers.calls.length, HOSTS.length, `${blocks} blocks: ${v.peers.calls.join(", ")}`);
    } finally {
      await v.cleanup();
    }
  }
});

test("a target missing on one host is found from that host's one answer, and fixed by one apply there", async () => {
  const v = await volumeWith(6);
  try {
    const lost = "b3";
    await v.nodes.get(H2)?.lio.remove({ name: lost, iqn: iqnFor(gbidFor(VOLUME, lost)) });
    const dry = await v.auditor.audit(VOLUME, false);
    assert.deepEqual(
      dry.map((f) => [f.kind, f.host, f.block, f.fixed]),
      [["metadata-without-target", H2, lost, false]],
    );
    assert.equal(dry[0]?.detail, "no LIO objects");
    assert.deepEqual(v.peers.count("statusMany"), once);

    v.peers.calls.length = 0;
    const fixed = await v.auditor.audit(VOLUME, true);
    assert.deepEqual(
      fixed.map((f) => [f.kind, f.host, f.block, f.fixed]),
      [["metadata-without-target", H2, lost, true]],
    );
    assert.deepEqual(v.peers.calls.sort(), [`apply ${H2}`, ...HOSTS.map((h) => `statusMany ${h}`)].sort());
    assert.deepEqual(await v.auditor.audit(VOLUME, false), []);
  } finally {
    await v.cleanup();
  }
});

test("a host that cannot be asked: each of its blocks is reported unreachable and nothing is applied there", async () => {
  const v = await volumeWith(4);
  try {
    v.peers.down = H3;
    const found = await v.auditor.audit(VOLUME, true);
    assert.deepEqual(
      found.map((f) => [f.kind, f.host, f.block, f.fixed]),
      v.names.map((b) => ["metadata-without-target", H3, b, false]),
    );
    assert.ok(found.every((f) => f.detail.startsWith("unreachable: connect ECONNREFUSED")));
    assert.deepEqual(
      v.peers.calls.sort(),
      HOSTS.map((h) => `statusMany ${h}`),
    );
    assert.deepEqual(v.deleted, []);
  } finally {
    await v.cleanup();
  }
});

test("a node's status of many blocks: a block it cannot judge answers its own error, as status() throws it; the others answer as status() does", async () => {
  const v = await volumeWith(3);
  try {
    const local = v.nodes.get(H2)?.local;
    assert.ok(local);
    const ref = (block: string, gbid = gbidFor(VOLUME, block)): PeerRef => ({ volume: VOLUME, block, gbid });
    await v.nodes.get(H2)?.lio.remove({ name: "b1", iqn: iqnFor(gbidFor(VOLUME, "b1")) });
    const refs = [ref("b0"), ref("b2", gbidFor(VOLUME, "other")), ref("gone"), ref("b1")];
    const answers = await local.statusMany(refs);
    assert.equal(answers.length, refs.length);
    assert.deepEqual(answers[0], await local.status(ref("b0")));
    const b1 = await local.status(ref("b1"));
    assert.equal(b1.matches, false);
    assert.deepEqual(answers[3], b1);
    for (const i of [1, 2]) {
      const r = refs[i];
      assert.ok(r);
      const thrown: string = await local.status(r).then(
        () => "no error",
        (err: unknown) => (err as Error).message,
      );
      assert.deepEqual(answers[i], { host: H2, error: thrown }, r.block);
    }
  } finally {
    await v.cleanup();
  }
});
