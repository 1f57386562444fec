// The CSI controller against the real engine: real glusterd in network
// namespaces (a real replica-3 hosting volume, real journals and files),
// three storage nodes whose LIO is the configfs imitation, each serving
// blockd's gRPC API on TCP with the shared key, and the controller as the
// program builds it (static endpoints, a Kubernetes API stand-in for Secrets).
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { startEngineCluster, type EngineCluster } from "./harness/engine-cluster.js";
import { GrpcServer } from "../../src/rpc/server.js";
import { blockdProto } from "../../src/rpc/proto.js";
import { wrapService } from "../../src/rpc/rpc.js";
import { blockdService } from "../../src/glusterblock/blockd/services.js";
import { blockErrorToCsi } from "../../src/glusterblock/blockd/error-map.js";
import { keyMatches, KEY_HEADER } from "../../src/rpc/peer-auth.js";
import { unauthenticated } from "../../src/rpc/errors.js";
import { Auditor } from "../../src/glusterblock/engine/audit.js";
import { iqnFor, wwidFor } from "../../src/identity/names.js";
import { nullLogger } from "../../src/util/log.js";
import { KubeApiStandin } from "../../lab/harness/kube-api-standin.js";
import { startController, codeOf, mountCap, blockCap, GiB, MiB, type LocalController } from "../../lab/harness/local-controller.js";
import type { CreateVolumeResponse__Output } from "../../src/generated/csi/v1/CreateVolumeResponse.js";
import type { ListVolumesResponse__Output } from "../../src/generated/csi/v1/ListVolumesResponse.js";
import type { ControllerGetVolumeResponse__Output } from "../../src/generated/csi/v1/ControllerGetVolumeResponse.js";
import type { ControllerExpandVolumeResponse__Output } from "../../src/generated/csi/v1/ControllerExpandVolumeResponse.js";
import type { GetCapacityResponse__Output } from "../../src/generated/csi/v1/GetCapacityResponse.js";

const KEY = "integration-blockd-key-3e4f5a6b7c";
const PV = "pvc-1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d";
const NODE1 = "worker-1/iqn.1993-08.org.debian:01:w1";
const NODE2 = "worker-2/iqn.1993-08.org.debian:01:w2";

let c: EngineCluster;
let servers: GrpcServer[] = [];
let endpoints: string[] = [];
let kube: KubeApiStandin;
let ctl: LocalController;
let root: string;

before(async () => {
  c = await startEngineCluster("block-ctl");
  root = await c.mounts.ensure(c.volume);
  const svc = blockdProto().glusterblock.v1.Blockd.service;
  for (const [i, host] of c.hosts.entries()) {
    const n = c.nodes.get(host);
    assert.ok(n);
    const engine = c.engine(i + 1);
    const server = new GrpcServer(nullLogger);
    server.addService(
      svc,
      wrapService(svc, blockdService(engine, new Auditor(engine, n.local, n.lio, c.peers, nullLogger)), {
        log: nullLogger,
        mapError: blockErrorToCsi,
        authorize: (md) => (keyMatches(KEY, md.get(KEY_HEADER)[0]) ? undefined : unauthenticated("a valid blockd key is required")),
      }),
    );
    endpoints.push((await server.listen({ endpoint: { kind: "tcp", host: "127.0.0.1", port: 0 } })).replace("tcp://", ""));
    servers.push(server);
  }
  kube = await new KubeApiStandin().start();
  ctl = await startController({ endpoints, key: KEY, kubeconfig: await kube.kubeconfig() });
});

after(async () => {
  await ctl?.stop();
  await Promise.all(servers.map((s) => s.stop(1000)));
  servers = [];
  endpoints = [];
  await kube?.stop();
  await c?.down();
});

// ext4: sizes as small as these stay as asked (an xfs volume is made at least 300 MiB, mkfs.xfs's floor)
const createReq = (name = PV, params: Record<string, string> = {}, size = GiB / 16) => ({
  name,
  capacity_range: { required_bytes: String(size) },
  volume_capabilities: [mountCap("ext4")],
  parameters: { hostingVolume: c.volume, ...params },
});

/** the ACLs of each node's own (enabled) TPG for the block */
async function aclsByNode(gbid: string): Promise<string[][]> {
  return Promise.all(
    c.hosts.map(async (h) => {
      const st = await c.nodes.get(h)?.lio.get(iqnFor(gbid));
      const own = st?.target?.tpgs.find((t) => t.enabled);
      return (own?.acls ?? []).map((a) => a.initiator).sort();
    }),
  );
}

describe("the controller over the real engine", () => {
  test("create twice, publish, unpublish, expand, list, capacity, condition, delete twice", async () => {
    const first = await ctl.call<CreateVolumeResponse__Output>("CreateVolume", createReq(), 120_000);
    const gbid = first.volume?.volume_context?.gbid ?? "";
    assert.match(gbid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, "a random GBID drawn by the engine");
    const again = await ctl.call<CreateVolumeResponse__Output>("CreateVolume", createReq(), 120_000);
    assert.deepEqual(again, first, "a retried create returns the same volume");
    const id = first.volume?.volume_id ?? "";
    assert.equal(id, `v1/${c.volume}/${PV}`);
    assert.equal(first.volume?.capacity_bytes, String(GiB / 16));
    const ctx = first.volume?.volume_context ?? {};
    assert.equal(ctx.iqn, iqnFor(gbid));
    assert.equal(ctx.wwid, wwidFor(gbid));
    assert.deepEqual(ctx.portals?.split(",").sort(), c.hosts.map((h) => `${h}:3260`).sort());
    assert.equal(ctx.auth, "true");

    // the journal and the backing file on the real volume; a target on every node, no ACL and no generated ACLs
    assert.ok((await readdir(join(root, "block-meta"))).includes(PV));
    assert.equal((await stat(join(root, "block-store", gbid))).size, GiB / 16);
    for (const h of c.hosts) {
      const st = await c.nodes.get(h)?.lio.get(iqnFor(gbid));
      const own = st?.target?.tpgs.find((t) => t.enabled);
      assert.ok(own, `target on ${h}`);
      assert.equal(own.generateNodeAcls, false, "CSI blocks admit only published initiators");
      assert.equal(own.authentication, true);
    }
    assert.deepEqual(await aclsByNode(gbid), [[], [], []]);

    // the CHAP Secret holds the engine's password
    const secret = kube.secrets.get(`gluster-block-csi/gluster-block-chap-${PV}`);
    assert.ok(secret);
    const info = await c.engine(1).details(c.volume, PV);
    assert.equal(Buffer.from((secret.data as Record<string, string>).password ?? "", "base64").toString(), info.meta.password);

    // publish: the initiator's ACL on every node; a second node is refused; unpublish removes it everywhere
    await ctl.call("ControllerPublishVolume", { volume_id: id, node_id: NODE1, volume_capability: mountCap("xfs") }, 60_000);
    const w1 = ["iqn.1993-08.org.debian:01:w1"];
    assert.deepEqual(await aclsByNode(gbid), [w1, w1, w1]);
    await ctl.call("ControllerPublishVolume", { volume_id: id, node_id: NODE1, volume_capability: mountCap("xfs") }, 60_000);
    assert.equal(
      (await codeOf(ctl.call("ControllerPublishVolume", { volume_id: id, node_id: NODE2, volume_capability: mountCap("xfs") }, 60_000))).code,
      status.FAILED_PRECONDITION,
    );
    await ctl.call("ControllerUnpublishVolume", { volume_id: id, node_id: NODE1 }, 60_000);
    assert.deepEqual(await aclsByNode(gbid), [[], [], []]);
    await ctl.call("ControllerUnpublishVolume", { volume_id: id, node_id: NODE1 }, 60_000);

    // expand: the file and every node's backstore grow
    const ex = await ctl.call<ControllerExpandVolumeResponse__Output>(
      "ControllerExpandVolume",
      { volume_id: id, capacity_range: { required_bytes: String(GiB / 8) }, volume_capability: mountCap("xfs") },
      60_000,
    );
    assert.deepEqual([ex.capacity_bytes, ex.node_expansion_required], [String(GiB / 8), true]);
    assert.equal((await stat(join(root, "block-store", gbid))).size, GiB / 8);
    for (const h of c.hosts) assert.equal((await c.nodes.get(h)?.lio.get(iqnFor(gbid)))?.backstore?.sizeBytes, GiB / 8, `backstore size on ${h}`);

    // a second volume (Block, no CHAP, HA 2) for the listing
    const raw = await ctl.call<CreateVolumeResponse__Output>(
      "CreateVolume",
      { ...createReq("raw-vol", { auth: "false", haCount: "2" }, 8 * MiB), volume_capabilities: [blockCap()] },
      120_000,
    );
    assert.equal(raw.volume?.volume_context.haCount, "2");
    const page1 = await ctl.call<ListVolumesResponse__Output>("ListVolumes", { max_entries: 1 });
    const page2 = await ctl.call<ListVolumesResponse__Output>("ListVolumes", { max_entries: 1, starting_token: page1.next_token });
    assert.deepEqual(
      [...page1.entries, ...page2.entries].map((e) => e.volume?.volume_id),
      [`v1/${c.volume}/${PV}`, `v1/${c.volume}/raw-vol`],
    );
    assert.equal(page2.next_token, "");

    const cap = await ctl.call<GetCapacityResponse__Output>("GetCapacity", { parameters: { hostingVolume: c.volume } });
    assert.ok(BigInt(cap.available_capacity) > 0n, "the hosting volume has room");

    // condition: normal, then abnormal once one node's target is gone (removed behind blockd's back)
    const ok = await ctl.call<ControllerGetVolumeResponse__Output>("ControllerGetVolume", { volume_id: id }, 60_000);
    assert.equal(ok.status?.volume_condition?.abnormal, false, ok.status?.volume_condition?.message);
    const lost = c.hosts[1] ?? "";
    await c.nodes.get(lost)?.lio.remove({ name: PV, iqn: iqnFor(gbid) });
    const bad = await ctl.call<ControllerGetVolumeResponse__Output>("ControllerGetVolume", { volume_id: id }, 60_000);
    assert.equal(bad.status?.volume_condition?.abnormal, true);
    assert.match(bad.status?.volume_condition?.message ?? "", new RegExp(`${lost.replace(/\./g, "\\.")}: target-(missing|differs)`));

    // delete twice: journal, file, every node's LIO objects and the Secret are gone
    await ctl.call("DeleteVolume", { volume_id: id }, 120_000);
    await ctl.call("DeleteVolume", { volume_id: id }, 120_000);
    await ctl.call("DeleteVolume", { volume_id: raw.volume?.volume_id }, 120_000);
    assert.deepEqual(
      (await readdir(join(root, "block-meta"))).filter((n) => !n.startsWith(".") && n !== "meta.lock"),
      [],
    );
    assert.deepEqual(
      (await readdir(join(root, "block-store"))).filter((n) => !n.startsWith(".")),
      [],
    );
    for (const h of c.hosts) assert.deepEqual(await c.nodes.get(h)?.lio.list(), [], `nothing left in LIO on ${h}`);
    assert.equal(kube.secrets.size, 0);
  });

  test("a volume deleted and created again gets a new GBID, IQN and WWID; DeleteVolume retried after the block is gone deletes the Secret", async () => {
    const name = "pvc-again";
    const first = (await ctl.call<CreateVolumeResponse__Output>("CreateVolume", createReq(name), 120_000)).volume;
    const id = first?.volume_id ?? "";
    await ctl.call("DeleteVolume", { volume_id: id }, 120_000);
    const second = (await ctl.call<CreateVolumeResponse__Output>("CreateVolume", createReq(name), 120_000)).volume;
    assert.equal(second?.volume_id, id);
    assert.notEqual(second?.volume_context?.gbid, first?.volume_context?.gbid);
    assert.notEqual(second?.volume_context?.iqn, first?.volume_context?.iqn);
    assert.notEqual(second?.volume_context?.wwid, first?.volume_context?.wwid);
    const secret = kube.secrets.get(`gluster-block-csi/gluster-block-chap-${name}`);
    assert.equal(secret?.metadata?.labels?.["block.csi.gluster.org/gbid"], second?.volume_context?.gbid);
    // a DeleteVolume that removed the block and died before the Secret: its retry finds the Secret without the block
    await c.engine(1).delete({ volume: c.volume, block: name, unlinkStorage: true, force: false, missingOk: false });
    assert.ok(kube.secrets.get(`gluster-block-csi/gluster-block-chap-${name}`));
    await ctl.call("DeleteVolume", { volume_id: id }, 120_000);
    assert.equal(kube.secrets.get(`gluster-block-csi/gluster-block-chap-${name}`), undefined);
  });

  test("the same name with another size is ALREADY_EXISTS; no space is RESOURCE_EXHAUSTED; a host outside the pool FAILED_PRECONDITION", async () => {
    await ctl.call("CreateVolume", createReq("size-vol", { auth: "false" }, 8 * MiB), 120_000);
    assert.equal((await codeOf(ctl.call("CreateVolume", createReq("size-vol", { auth: "false" }, 16 * MiB), 120_000))).code, status.ALREADY_EXISTS);
    assert.equal(
      (await codeOf(ctl.call("CreateVolume", createReq("huge-vol", { auth: "false" }, 1024 * 1024 * GiB), 120_000))).code,
      status.RESOURCE_EXHAUSTED,
    );
    assert.equal(
      (await codeOf(ctl.call("CreateVolume", createReq("odd-hosts", { auth: "false", haCount: "1", hosts: "192.0.2.77" }, 8 * MiB), 120_000))).code,
      status.FAILED_PRECONDITION,
    );
    await ctl.call("DeleteVolume", { volume_id: `v1/${c.volume}/size-vol` }, 120_000);
    assert.ok(!(await readdir(join(root, "block-meta"))).includes("huge-vol"), "the refused create left no journal");
  });
});
