// The CSI Controller service end to end over gRPC: a CSI client on a unix
// socket, the controller as the program builds it, a fake blockd cluster of
// three real gRPC servers (shared key checked), and a Kubernetes API stand-in.
import { test, describe, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { FakeBlockd } from "../doubles/fake-blockd.js";
import { KubeApiStandin } from "../../lab/harness/kube-api-standin.js";
import { startController, codeOf, mountCap, blockCap, GiB, MiB, type LocalController } from "../../lab/harness/local-controller.js";
import { StatusError } from "../../src/rpc/errors.js";
import { call } from "../../lab/harness/csi-client.js";
import { unary } from "../../src/rpc/unary-client.js";
import type { ProbeResponse__Output } from "../../src/generated/csi/v1/ProbeResponse.js";
import { iqnFor, wwidFor } from "../../src/identity/names.js";
import { encodeToken } from "../../src/controller/paging.js";
import type { CreateVolumeResponse__Output } from "../../src/generated/csi/v1/CreateVolumeResponse.js";
import type { ListVolumesResponse__Output } from "../../src/generated/csi/v1/ListVolumesResponse.js";
import type { ControllerGetVolumeResponse__Output } from "../../src/generated/csi/v1/ControllerGetVolumeResponse.js";
import type { ControllerExpandVolumeResponse__Output } from "../../src/generated/csi/v1/ControllerExpandVolumeResponse.js";
import type { ValidateVolumeCapabilitiesResponse__Output } from "../../src/generated/csi/v1/ValidateVolumeCapabilitiesResponse.js";
import type { GetCapacityResponse__Output } from "../../src/generated/csi/v1/GetCapacityResponse.js";
import type { ControllerGetCapabilitiesResponse__Output } from "../../src/generated/csi/v1/ControllerGetCapabilitiesResponse.js";

const KEY = "unit-test-blockd-key-5f1e2d3c";
const MiBn = 1024n * 1024n;
const HV = "block-hv";
const HOSTS = ["10.9.0.1", "10.9.0.2", "10.9.0.3"];
const PVC = "pvc-0b5f0c1e-2d3a-4b5c-8d9e-0f1a2b3c4d5e";
const NODE1 = "worker-1/iqn.1993-08.org.debian:01:worker1";
const NODE2 = "worker-2/iqn.1993-08.org.debian:01:worker2";

let blockd: FakeBlockd;
let kube: KubeApiStandin;
let ctl: LocalController;

const createReq = (over: Record<string, unknown> = {}, params: Record<string, string> = {}) => ({
  name: PVC,
  capacity_range: { required_bytes: String(GiB) },
  volume_capabilities: [mountCap("xfs")],
  parameters: { hostingVolume: HV, ...params },
  ...over,
});
const create = (over: Record<string, unknown> = {}, params: Record<string, string> = {}) =>
  ctl.call<CreateVolumeResponse__Output>("CreateVolume", createReq(over, params));

before(async () => {
  kube = await new KubeApiStandin().start();
  blockd = await new FakeBlockd(KEY).start(HOSTS);
  ctl = await startController({ endpoints: blockd.endpoints, key: KEY, kubeconfig: await kube.kubeconfig() });
});

after(async () => {
  await ctl?.stop();
  await blockd?.stop();
  await kube?.stop();
});

beforeEach(() => {
  blockd.volumes.clear();
  blockd.addVolume(HV);
  blockd.calls.length = 0;
  blockd.cancelled.length = 0;
  blockd.unreadable.clear();
  blockd.fillsDetails = true;
  blockd.failNext.clear();
  blockd.gates.clear();
  blockd.auditFindings = [];
  blockd.targetStatus.clear();
  blockd.blockTargetStatus.clear();
  for (const n of blockd.nodes) Object.assign(n, { activePaths: 0, targets: 0, ready: true });
  kube.requests.length = 0;
  kube.secrets.clear();
  kube.events.length = 0;
});

describe("CreateVolume", () => {
  test("makes an HA-3 CHAP block with explicit ACLs, a context without the password, and its Secret", async () => {
    const r = await create({ capacity_range: { required_bytes: String(GiB - 100) } });
    const gbid = blockd.block(HV, PVC)?.gbid ?? "";
    assert.match(gbid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, "a random (v4) GBID");
    assert.equal(r.volume?.volume_id, `v1/${HV}/${PVC}`);
    assert.equal(r.volume?.capacity_bytes, String(GiB), "rounded up to a MiB");
    assert.deepEqual(r.volume?.volume_context, {
      iqn: iqnFor(gbid),
      portals: HOSTS.map((h) => `${h}:3260`).join(","),
      lun: "0",
      hostingVolume: HV,
      gbid,
      haCount: "3",
      wwid: wwidFor(gbid),
      fsType: "xfs",
      auth: "true",
    });
    const [c] = blockd.callsOf("CreateBlock");
    assert.ok(c);
    assert.equal(c.request.acl_mode, "ACL_MODE_EXPLICIT");
    assert.equal(c.request.prealloc, "PREALLOC_NO", "thin by default");
    assert.equal(c.request.auth, true);
    assert.equal(c.request.ha, 3);
    assert.deepEqual(c.request.hosts, HOSTS);
    assert.equal(c.request.owner, `csi=${PVC}`);
    const password = blockd.block(HV, PVC)?.password ?? "";
    assert.ok(password.length > 8);
    assert.doesNotMatch(JSON.stringify(r), new RegExp(password));
    const secret = kube.secrets.get(`gluster-block-csi/gluster-block-chap-${PVC}`);
    assert.ok(secret, "CHAP secret created");
    assert.equal(Buffer.from((secret.data as Record<string, string>).password ?? "", "base64").toString(), password);
    assert.doesNotMatch(ctl.log.text(), new RegExp(password), "the CHAP password is never logged");
  });

  test("a retry with the same name and parameters returns the same volume", async () => {
    const a = await create();
    const b = await create();
    assert.deepEqual(b, a);
    assert.equal(blockd.callsOf("CreateBlock").length, 2, "the retry converges the block through blockd");
    assert.equal(kube.requestsTo("POST", "/secrets").length, 1, "the Secret is made once");
    assert.equal(kube.requestsTo("PUT", "/secrets").length, 0, "and not rewritten when unchanged");
  });

  test("a retry converges with the existing block's hosts even when the loads changed", async () => {
    await create({}, { haCount: "2" });
    const first = blockd.callsOf("CreateBlock")[0]?.request.hosts;
    // the hosts that were least loaded are now the busiest
    for (const n of blockd.nodes) n.activePaths = (first as string[]).includes(n.host) ? 50 : 0;
    await create({}, { haCount: "2" });
    assert.deepEqual(blockd.callsOf("CreateBlock")[1]?.request.hosts, first);
  });

  test("a create cut short before blockd recorded its size and password is finished by the retry", async () => {
    const a = await create();
    const b = blockd.block(HV, PVC);
    assert.ok(b);
    // what a blockd killed after its create-intent journal line leaves: no SIZE, no PASSWORD yet
    Object.assign(b, { state: "creating", sizeBytes: 0n, auth: false, password: "" });
    const again = await create();
    assert.equal(again.volume?.volume_id, a.volume?.volume_id);
    assert.equal(again.volume?.capacity_bytes, a.volume?.capacity_bytes);
    assert.equal(blockd.callsOf("CreateBlock").at(-1)?.request.size_bytes, a.volume?.capacity_bytes, "the retry asks for the requested size");
    assert.deepEqual([b.state, b.auth], ["ready", true]);
  });

  test("the same name with a different size is ALREADY_EXISTS and changes nothing", async () => {
    await create();
    const before = blockd.mutations().length;
    const e = await codeOf(create({ capacity_range: { required_bytes: String(2 * GiB) } }));
    assert.equal(e.code, status.ALREADY_EXISTS);
    assert.match(e.details, /size/);
    assert.equal(blockd.mutations().length, before);
  });

  test("the same name with another haCount or auth is ALREADY_EXISTS", async () => {
    await create();
    assert.equal((await codeOf(create({}, { haCount: "2" }))).code, status.ALREADY_EXISTS);
    assert.equal((await codeOf(create({}, { auth: "false" }))).code, status.ALREADY_EXISTS);
  });

  test("every invalid parameter is INVALID_ARGUMENT naming it, and blockd and Kubernetes see no call", async () => {
    const cases: [Record<string, string>, string][] = [
      [{ hostingVolume: "" }, "hostingVolume"],
      [{ hostingVolume: "bad/name" }, "hostingVolume"],
      [{ haCount: "0" }, "haCount"],
      [{ haCount: "many" }, "haCount"],
      [{ hosts: "storage-1,storage-2,storage-3" }, "hosts"],
      [{ hosts: "10.9.0.1,10.9.0.2" }, "hosts"],
      [{ auth: "sometimes" }, "auth"],
      [{ prealloc: "maybe" }, "prealloc"],
      [{ ringBuffer: "0" }, "ringBuffer"],
      [{ blockSize: "1000" }, "blockSize"],
      [{ ioTimeout: "forever" }, "ioTimeout"],
      [{ "csi.storage.k8s.io/fstype": "zfs" }, "csi.storage.k8s.io/fstype"],
      [{ replicas: "3" }, "replicas"],
    ];
    for (const [params, name] of cases) {
      const e = await codeOf(create({}, params));
      assert.equal(e.code, status.INVALID_ARGUMENT, `${name}: ${e.details}`);
      assert.match(e.details, new RegExp(`parameter ${name.replace(/[./]/g, "\\$&")}:`), e.details);
    }
    assert.deepEqual(blockd.calls, [], "nothing reached blockd");
    assert.deepEqual(kube.requests, [], "nothing reached Kubernetes");
  });

  test("bad requests are refused before any call: name, capabilities, capacity, content source", async () => {
    const cases: [Record<string, unknown>, status, RegExp][] = [
      [{ name: "" }, status.INVALID_ARGUMENT, /name is required/],
      [{ volume_capabilities: [] }, status.INVALID_ARGUMENT, /volume_capabilities is required/],
      [{ volume_capabilities: [mountCap("xfs", "MULTI_NODE_MULTI_WRITER")] }, status.INVALID_ARGUMENT, /MULTI_NODE_MULTI_WRITER/],
      [{ volume_capabilities: [mountCap("btrfs")] }, status.INVALID_ARGUMENT, /btrfs/],
      [{ capacity_range: { required_bytes: String(2 * GiB), limit_bytes: String(GiB) } }, status.INVALID_ARGUMENT, /exceeds/],
      [{ capacity_range: { required_bytes: String(MiB + 1), limit_bytes: String(MiB + 2) } }, status.OUT_OF_RANGE, /whole MiB/],
      [{ volume_content_source: { volume: { volume_id: "v1/x/y" } } }, status.INVALID_ARGUMENT, /clones/],
    ];
    for (const [over, code, re] of cases) {
      const e = await codeOf(create(over));
      assert.equal(e.code, code, e.details);
      assert.match(e.details, re);
    }
    const conflict = await codeOf(create({ volume_capabilities: [mountCap("ext4")] }, { "csi.storage.k8s.io/fstype": "xfs" }));
    assert.equal(conflict.code, status.INVALID_ARGUMENT);
    assert.match(conflict.details, /csi\.storage\.k8s\.io\/fstype/);
    assert.deepEqual(blockd.calls, []);
  });

  test("Block mode needs no fs type; ext4 from the capability; parameters reach blockd", async () => {
    const b = await create(
      { name: "raw-vol", volume_capabilities: [blockCap()] },
      { auth: "false", prealloc: "full", ringBuffer: "32", blockSize: "4096", ioTimeout: "60" },
    );
    assert.equal(b.volume?.volume_context.fsType, "");
    assert.equal(b.volume?.volume_context.auth, "false");
    const req = blockd.callsOf("CreateBlock")[0]?.request;
    assert.deepEqual([req?.prealloc, req?.ring_buffer_mb, req?.block_size, req?.io_timeout_s, req?.auth], ["PREALLOC_FULL", 32, 4096, 60, false]);
    assert.equal(kube.requestsTo("POST", "/secrets").length, 0, "no CHAP, no Secret");
    const e = await create({ name: "ext4-vol", volume_capabilities: [mountCap("ext4")] }, { auth: "false" });
    assert.equal(e.volume?.volume_context.fsType, "ext4");
  });

  test("a 1-byte claim is made as large as its filesystem needs: 300 MiB for xfs, 1 MiB for ext4 and Block; a limit below that is OUT_OF_RANGE", async () => {
    const xfs = await create({ name: "tiny-xfs", capacity_range: { required_bytes: "1" } }, { auth: "false" });
    assert.equal(xfs.volume?.capacity_bytes, String(300 * MiB));
    const ext4 = await create({ name: "tiny-ext4", capacity_range: { required_bytes: "1" }, volume_capabilities: [mountCap("ext4")] }, { auth: "false" });
    assert.equal(ext4.volume?.capacity_bytes, String(MiB));
    const raw = await create({ name: "tiny-raw", capacity_range: { required_bytes: "1" }, volume_capabilities: [blockCap()] }, { auth: "false" });
    assert.equal(raw.volume?.capacity_bytes, String(MiB));
    const e = await codeOf(create({ name: "tiny-limited", capacity_range: { required_bytes: "1", limit_bytes: String(100 * MiB) } }, { auth: "false" }));
    assert.equal(e.code, status.OUT_OF_RANGE);
    assert.match(e.details, /xfs filesystem needs at least 300 MiB/);
  });

  test("no capacity range gives the default size (1 GiB)", async () => {
    const r = await create({ capacity_range: null });
    assert.equal(r.volume?.capacity_bytes, String(GiB));
  });

  test("non-Kubernetes names map to valid block names, deterministically", async () => {
    const r1 = await create({ name: "my volume/1" }, { auth: "false" });
    const r2 = await create({ name: "my volume/1" }, { auth: "false" });
    assert.match(r1.volume?.volume_id ?? "", /^v1\/block-hv\/my-volume-1-[0-9a-f]{12}$/);
    assert.equal(r2.volume?.volume_id, r1.volume?.volume_id);
  });

  test("hosts are chosen least loaded first: active paths, then targets", async () => {
    const [n1, n2, n3] = blockd.nodes;
    assert.ok(n1 && n2 && n3);
    Object.assign(n1, { activePaths: 5, targets: 9 });
    Object.assign(n2, { activePaths: 1, targets: 9 });
    Object.assign(n3, { activePaths: 1, targets: 2 });
    await create({}, { haCount: "2" });
    const c = blockd.callsOf("CreateBlock")[0];
    assert.deepEqual(c?.request.hosts, [n3.host, n2.host]);
    assert.equal(c?.host, n3.host, "the least-loaded chosen host coordinates");
  });

  test("creates in flight count in the loads: a burst spreads active paths and coordination over the nodes", async () => {
    for (const ha of ["3", "1"]) {
      blockd.calls.length = 0;
      let open!: () => void;
      blockd.gates.set("CreateBlock", new Promise<void>((r) => (open = r)));
      const burst = [1, 2, 3].map((i) => create({ name: `pvc-burst-ha${ha}-${i}` }, { haCount: ha }));
      while (blockd.callsOf("CreateBlock").length < 3) await new Promise((r) => setTimeout(r, 5));
      open();
      await Promise.all(burst);
      const made = blockd.callsOf("CreateBlock");
      assert.deepEqual(
        new Set(made.map((c) => (c.request.hosts as string[])[0])),
        new Set(HOSTS),
        `ha ${ha}: each node is one create's first host (its active path)`,
      );
      assert.deepEqual(new Set(made.map((c) => c.host)), new Set(HOSTS), `ha ${ha}: each create is coordinated by its first host`);
      blockd.gates.clear();
    }
    // released once blockd answered: the next create sees the nodes' own counts (equal: the lowest address first)
    for (const n of blockd.nodes) Object.assign(n, { activePaths: 0, targets: 0 });
    blockd.calls.length = 0;
    await create({ name: "pvc-after-the-burst" }, { haCount: "3" });
    assert.deepEqual(blockd.callsOf("CreateBlock")[0]?.request.hosts, HOSTS);
  });

  test("a node that is not ready is not chosen", async () => {
    const n2 = blockd.nodes[1];
    assert.ok(n2);
    n2.ready = false;
    await create({}, { haCount: "2" });
    assert.ok(!(blockd.callsOf("CreateBlock")[0]?.request.hosts as string[]).includes(n2.host));
  });

  test("explicit hosts are used in their order", async () => {
    await create({}, { haCount: "2", hosts: "10.9.0.3,10.9.0.1,10.9.0.2" });
    assert.deepEqual(blockd.callsOf("CreateBlock")[0]?.request.hosts, ["10.9.0.3", "10.9.0.1"]);
  });

  test("no space is RESOURCE_EXHAUSTED, with an Event on the claim", async () => {
    blockd.addVolume(HV, 100n * 1024n * 1024n);
    const e = await codeOf(create({}, { "csi.storage.k8s.io/pvc/name": "data", "csi.storage.k8s.io/pvc/namespace": "app", "csi.storage.k8s.io/pv/name": PVC }));
    assert.equal(e.code, status.RESOURCE_EXHAUSTED);
    assert.equal(kube.events.length, 1);
    const ev = kube.events[0] as { reason: string; type: string; involvedObject: Record<string, string> };
    assert.equal(ev.reason, "CreateBlockFailed");
    assert.equal(ev.type, "Warning");
    assert.deepEqual(ev.involvedObject, {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      name: "data",
      namespace: "app",
      uid: "0b5f0c1e-2d3a-4b5c-8d9e-0f1a2b3c4d5e",
    });
  });

  test("an operation in flight on the name makes a second one ABORTED", async () => {
    let open!: () => void;
    blockd.gates.set("CreateBlock", new Promise<void>((r) => (open = r)));
    const first = create();
    while (blockd.callsOf("CreateBlock").length === 0) await new Promise((r) => setTimeout(r, 5));
    const second = await codeOf(create());
    assert.equal(second.code, status.ABORTED);
    const del = await codeOf(ctl.call("DeleteVolume", { volume_id: `v1/${HV}/${PVC}` }));
    assert.equal(del.code, status.ABORTED, "the volume ID is locked too");
    open();
    assert.equal((await first).volume?.volume_id, `v1/${HV}/${PVC}`);
    assert.equal(kube.events.length, 0, "ABORTED is not worth an Event");
  });

  test("blockd errors map to CSI codes", async () => {
    for (const [code, want] of [
      [status.UNAVAILABLE, status.UNAVAILABLE],
      [status.ABORTED, status.ABORTED],
      [status.FAILED_PRECONDITION, status.FAILED_PRECONDITION],
      [status.DATA_LOSS, status.INTERNAL],
    ] as const) {
      blockd.failNext.set("CreateBlock", new StatusError(code, "injected"));
      assert.equal((await codeOf(create())).code, want, status[code]);
    }
  });
});

describe("blockd reachability", () => {
  test("one node down: haCount 3 is UNAVAILABLE, haCount 2 uses the live ones", async () => {
    const down = HOSTS[1] ?? "";
    await blockd.stopNode(down);
    try {
      const e = await codeOf(create());
      assert.equal(e.code, status.UNAVAILABLE);
      assert.match(e.details, /haCount 3 needs 3 live gluster-blockd nodes; 2 of 3/);
      assert.match(e.details, /; not ready: [^;]+:\d+: gluster-blockd does not answer$/, "names the one endpoint that is not ready");
      await create({}, { haCount: "2" });
      assert.ok(!(blockd.callsOf("CreateBlock")[0]?.request.hosts as string[]).includes(down));
    } finally {
      await blockd.restartNode(down);
    }
  });

  test("haCount above the configured storage nodes can never succeed: INVALID_ARGUMENT (final for the provisioner) saying what to change", async () => {
    const e = await codeOf(create({}, { haCount: "5" }));
    assert.equal(e.code, status.INVALID_ARGUMENT);
    assert.match(e.details, new RegExp(`haCount 5 is more than the 3 storage nodes that can export hosting volume ${HV}'s blocks`));
    assert.match(e.details, /lower haCount in the StorageClass or add nodes/);
    assert.equal(blockd.callsOf("CreateBlock").length, 0);
  });

  test("every node down: UNAVAILABLE", async () => {
    for (const h of HOSTS) await blockd.stopNode(h);
    try {
      assert.equal((await codeOf(ctl.call("DeleteVolume", { volume_id: `v1/${HV}/x` }))).code, status.UNAVAILABLE);
      assert.equal((await codeOf(create())).code, status.UNAVAILABLE);
    } finally {
      for (const h of HOSTS) await blockd.restartNode(h);
    }
  });

  test("a controller with the wrong key gets INTERNAL naming the key flag", async () => {
    const other = await startController({ endpoints: blockd.endpoints, key: "not-the-right-key-at-all", flags: ["--default-auth", "false"] });
    try {
      const e = await codeOf(other.call("DeleteVolume", { volume_id: `v1/${HV}/x` }));
      assert.equal(e.code, status.INTERNAL);
      assert.match(e.details, /--blockd-key-file/);
    } finally {
      await other.stop();
    }
  });
});

describe("without a Kubernetes API", () => {
  test("auth volumes are FAILED_PRECONDITION before anything is made; auth=false works", async () => {
    const other = await startController({ endpoints: blockd.endpoints, key: KEY });
    try {
      const e = await codeOf(other.call("CreateVolume", createReq()));
      assert.equal(e.code, status.FAILED_PRECONDITION);
      assert.match(e.details, /parameter auth/);
      assert.deepEqual(blockd.calls, []);
      const r = await other.call<CreateVolumeResponse__Output>("CreateVolume", createReq({}, { auth: "false" }));
      assert.equal(r.volume?.volume_context.auth, "false");
      await other.call("DeleteVolume", { volume_id: r.volume?.volume_id });
      assert.equal(blockd.block(HV, PVC), undefined);
    } finally {
      await other.stop();
    }
  });
});

describe("DeleteVolume", () => {
  test("deletes the block and its Secret; twice is OK", async () => {
    const r = await create();
    const id = r.volume?.volume_id ?? "";
    assert.equal(kube.secrets.size, 1);
    await ctl.call("DeleteVolume", { volume_id: id });
    assert.equal(blockd.block(HV, PVC), undefined);
    assert.equal(kube.secrets.size, 0);
    await ctl.call("DeleteVolume", { volume_id: id });
    const dels = blockd.callsOf("DeleteBlock");
    assert.equal(dels.length, 2);
    assert.deepEqual(dels[0]?.request, { volume: HV, block: PVC, unlink_storage: true, force: false, missing_ok: true });
  });

  test("an unknown hosting volume is OK; IDs not of our form are OK; empty or another version is INVALID_ARGUMENT", async () => {
    await ctl.call("DeleteVolume", { volume_id: "v1/nosuchvolume/blk" });
    await ctl.call("DeleteVolume", { volume_id: "fake-volume-id-123" });
    await ctl.call("DeleteVolume", { volume_id: "v1/a/b/c" });
    assert.equal((await codeOf(ctl.call("DeleteVolume", { volume_id: "" }))).code, status.INVALID_ARGUMENT);
    assert.equal((await codeOf(ctl.call("DeleteVolume", { volume_id: "v2/hv/blk" }))).code, status.INVALID_ARGUMENT);
  });

  test("a partial failure on blockd is UNAVAILABLE and the Secret stays for the retry", async () => {
    await create();
    blockd.failNext.set("DeleteBlock", new StatusError(status.UNAVAILABLE, "failed to delete block on 10.9.0.2; retry"));
    assert.equal((await codeOf(ctl.call("DeleteVolume", { volume_id: `v1/${HV}/${PVC}` }))).code, status.UNAVAILABLE);
    assert.equal(kube.secrets.size, 1);
    await ctl.call("DeleteVolume", { volume_id: `v1/${HV}/${PVC}` });
    assert.equal(kube.secrets.size, 0);
  });
});

describe("ControllerPublishVolume / Unpublish", () => {
  test("publish adds the node's initiator; another node is FAILED_PRECONDITION; unpublish removes it", async () => {
    const id = (await create()).volume?.volume_id ?? "";
    const pub = await ctl.call<{ publish_context: Record<string, string> }>("ControllerPublishVolume", {
      volume_id: id,
      node_id: NODE1,
      volume_capability: mountCap("xfs"),
    });
    assert.deepEqual(pub.publish_context, {});
    assert.deepEqual(blockd.block(HV, PVC)?.initiators, ["iqn.1993-08.org.debian:01:worker1"]);
    await ctl.call("ControllerPublishVolume", { volume_id: id, node_id: NODE1, volume_capability: mountCap("xfs") });
    const other = await codeOf(ctl.call("ControllerPublishVolume", { volume_id: id, node_id: NODE2, volume_capability: mountCap("xfs") }));
    assert.equal(other.code, status.FAILED_PRECONDITION);
    assert.match(other.details, /worker1/);
    await ctl.call("ControllerUnpublishVolume", { volume_id: id, node_id: NODE1 });
    assert.deepEqual(blockd.block(HV, PVC)?.initiators, []);
    await ctl.call("ControllerUnpublishVolume", { volume_id: id, node_id: NODE1 });
    await ctl.call("ControllerPublishVolume", { volume_id: id, node_id: NODE2, volume_capability: mountCap("xfs") });
    await ctl.call("ControllerUnpublishVolume", { volume_id: id, node_id: "" });
    assert.deepEqual(blockd.block(HV, PVC)?.initiators, [], "no node ID: unpublished from every node");
  });

  test("bad requests and missing volumes", async () => {
    const id = (await create()).volume?.volume_id ?? "";
    const bad: [Record<string, unknown>, status][] = [
      [{ volume_id: "", node_id: NODE1, volume_capability: mountCap() }, status.INVALID_ARGUMENT],
      [{ volume_id: id, node_id: "", volume_capability: mountCap() }, status.INVALID_ARGUMENT],
      // CSI: "Node does not exist" is NOT_FOUND; an ID not of NodeGetInfo's form names none
      [{ volume_id: id, node_id: "worker-1", volume_capability: mountCap() }, status.NOT_FOUND],
      [{ volume_id: id, node_id: "some-fake-node-id", volume_capability: mountCap() }, status.NOT_FOUND],
      // a missing required field is INVALID_ARGUMENT before any lookup, even for a volume that does not exist
      [{ volume_id: `v1/${HV}/nosuch`, node_id: "", volume_capability: mountCap() }, status.INVALID_ARGUMENT],
      [{ volume_id: "fake-volume-id", node_id: "", volume_capability: mountCap() }, status.INVALID_ARGUMENT],
      [{ volume_id: `v1/${HV}/nosuch`, node_id: NODE1 }, status.INVALID_ARGUMENT],
      [{ volume_id: "fake-volume-id", node_id: "some-fake-node-id" }, status.INVALID_ARGUMENT],
      [{ volume_id: id, node_id: NODE1 }, status.INVALID_ARGUMENT],
      [{ volume_id: id, node_id: NODE1, volume_capability: mountCap("xfs", "MULTI_NODE_MULTI_WRITER") }, status.INVALID_ARGUMENT],
      [{ volume_id: `v1/${HV}/nosuch`, node_id: NODE1, volume_capability: mountCap() }, status.NOT_FOUND],
      [{ volume_id: "fake-volume-id", node_id: NODE1, volume_capability: mountCap() }, status.NOT_FOUND],
    ];
    for (const [req, code] of bad) assert.equal((await codeOf(ctl.call("ControllerPublishVolume", req))).code, code, JSON.stringify(req));
    assert.equal(blockd.callsOf("SetInitiatorAccess").length, 0);
    await ctl.call("ControllerUnpublishVolume", { volume_id: `v1/${HV}/nosuch`, node_id: NODE1 });
    await ctl.call("ControllerUnpublishVolume", { volume_id: "fake-volume-id", node_id: NODE1 });
    assert.equal((await codeOf(ctl.call("ControllerUnpublishVolume", { volume_id: "", node_id: NODE1 }))).code, status.INVALID_ARGUMENT);
    // a node ID Publish could never have let in: nothing is published to it
    await ctl.call("ControllerUnpublishVolume", { volume_id: id, node_id: "some-fake-node-id" });
    assert.equal(blockd.callsOf("SetInitiatorAccess").length, 0);
  });
});

describe("read-only publishes (MULTI_NODE_READER_ONLY, reader modes, readonly)", () => {
  const NODE3 = "worker-3/iqn.1993-08.org.debian:01:worker3";
  const iqn = (node: string): string => node.split("/")[1] ?? "";
  const publish = (id: string, node: string, cap: object, readonly = false) =>
    ctl.call<{ publish_context: Record<string, string> }>("ControllerPublishVolume", { volume_id: id, node_id: node, volume_capability: cap, readonly });
  const rox = mountCap("xfs", "MULTI_NODE_READER_ONLY");
  const rwo = mountCap("xfs");

  test("many readers: each initiator let in with its LUN write protected, the node told so; the same publish again is OK", async () => {
    const id = (await create({ volume_capabilities: [rox] })).volume?.volume_id ?? "";
    for (const node of [NODE1, NODE2, NODE1]) assert.deepEqual((await publish(id, node, rox)).publish_context, { readOnly: "true" });
    const b = blockd.block(HV, PVC);
    assert.deepEqual(b?.initiators, [iqn(NODE1), iqn(NODE2)]);
    assert.deepEqual(b?.readOnlyInitiators, [iqn(NODE1), iqn(NODE2)]);
    assert.ok(
      blockd.callsOf("SetInitiatorAccess").every((c) => c.request.read_only === true && c.request.allow === true),
      "blockd maps every reader read-only",
    );
    const v = await ctl.call<ControllerGetVolumeResponse__Output>("ControllerGetVolume", { volume_id: id });
    assert.deepEqual(v.status?.published_node_ids.sort(), [NODE1, NODE2]);
  });

  test("a writer beside readers is refused: FAILED_PRECONDITION on another node, ALREADY_EXISTS on a reader's own; nothing changes", async () => {
    const id = (await create()).volume?.volume_id ?? "";
    await publish(id, NODE1, rox);
    await publish(id, NODE2, blockCap("MULTI_NODE_READER_ONLY"));
    const before = blockd.mutations().length;
    const elsewhere = await codeOf(publish(id, NODE3, rwo));
    assert.equal(elsewhere.code, status.FAILED_PRECONDITION);
    assert.match(elsewhere.details, /worker1.*worker2/);
    const own = await codeOf(publish(id, NODE1, rwo));
    assert.equal(own.code, status.ALREADY_EXISTS);
    assert.match(own.details, /read-only; a read-write publish there is incompatible/);
    // a single-node reader mode cannot join other readers either
    assert.equal((await codeOf(publish(id, NODE3, mountCap("xfs", "SINGLE_NODE_READER_ONLY")))).code, status.FAILED_PRECONDITION);
    assert.equal(blockd.mutations().length, before, "no ACL changed");
    assert.deepEqual(blockd.block(HV, PVC)?.readOnlyInitiators, [iqn(NODE1), iqn(NODE2)]);
  });

  test("readers beside a writer are refused: FAILED_PRECONDITION on another node, ALREADY_EXISTS on the writer's own", async () => {
    const id = (await create()).volume?.volume_id ?? "";
    assert.deepEqual((await publish(id, NODE1, rwo)).publish_context, {}, "a read-write publish tells the node nothing more");
    const elsewhere = await codeOf(publish(id, NODE2, rox));
    assert.equal(elsewhere.code, status.FAILED_PRECONDITION);
    assert.match(elsewhere.details, /published read-write to initiator iqn\.1993-08\.org\.debian:01:worker1/);
    assert.equal((await codeOf(publish(id, NODE1, rox))).code, status.ALREADY_EXISTS);
    assert.equal((await codeOf(publish(id, NODE1, rwo, true))).code, status.ALREADY_EXISTS, "readonly on a read-write publish is incompatible too");
    assert.deepEqual(blockd.block(HV, PVC)?.readOnlyInitiators, []);
    // once the writer is gone, readers may come
    await ctl.call("ControllerUnpublishVolume", { volume_id: id, node_id: NODE1 });
    await publish(id, NODE2, rox);
    await publish(id, NODE3, rox);
    await ctl.call("ControllerUnpublishVolume", { volume_id: id, node_id: "" });
    assert.deepEqual([blockd.block(HV, PVC)?.initiators, blockd.block(HV, PVC)?.readOnlyInitiators], [[], []], "no node ID: every reader unpublished");
  });

  test("readonly with a writer's mode, and SINGLE_NODE_READER_ONLY, map the LUN read-only too", async () => {
    const id = (await create()).volume?.volume_id ?? "";
    assert.deepEqual((await publish(id, NODE1, rwo, true)).publish_context, { readOnly: "true" });
    assert.deepEqual(blockd.block(HV, PVC)?.readOnlyInitiators, [iqn(NODE1)]);
    assert.equal((await codeOf(publish(id, NODE2, rwo, true))).code, status.FAILED_PRECONDITION, "single-node: a second node is refused");
    await ctl.call("ControllerUnpublishVolume", { volume_id: id, node_id: NODE1 });
    assert.deepEqual((await publish(id, NODE2, mountCap("xfs", "SINGLE_NODE_READER_ONLY"))).publish_context, { readOnly: "true" });
    assert.deepEqual(blockd.block(HV, PVC)?.readOnlyInitiators, [iqn(NODE2)]);
  });

  test("a block with generated ACLs (made by the CLI) cannot serve many read-only nodes", async () => {
    const id = (await create()).volume?.volume_id ?? "";
    const b = blockd.block(HV, PVC);
    assert.ok(b);
    b.aclMode = "ACL_MODE_GENERATED";
    const e = await codeOf(publish(id, NODE1, rox));
    assert.equal(e.code, status.FAILED_PRECONDITION);
    assert.match(e.details, /generated ACLs/);
  });

  test("MULTI_NODE_READER_ONLY is a capability CreateVolume and ValidateVolumeCapabilities accept", async () => {
    const id = (await create({ volume_capabilities: [rox, blockCap("MULTI_NODE_READER_ONLY")] }, { auth: "false" })).volume?.volume_id ?? "";
    const r = await ctl.call<ValidateVolumeCapabilitiesResponse__Output>("ValidateVolumeCapabilities", { volume_id: id, volume_capabilities: [rox] });
    assert.ok(r.confirmed, r.message);
  });
});

describe("ControllerExpandVolume", () => {
  test("grows to the rounded size; Filesystem and Block both need node expansion (the node rescans the paths and the map; Filesystem also grows); smaller is a no-op; the same size is passed on", async () => {
    const id = (await create()).volume?.volume_id ?? "";
    const fs = await ctl.call<ControllerExpandVolumeResponse__Output>("ControllerExpandVolume", {
      volume_id: id,
      capacity_range: { required_bytes: String(2 * GiB - 5) },
      volume_capability: mountCap("xfs"),
    });
    assert.deepEqual([fs.capacity_bytes, fs.node_expansion_required], [String(2 * GiB), true]);
    assert.equal(blockd.block(HV, PVC)?.sizeBytes, BigInt(2 * GiB));
    const blk = await ctl.call<ControllerExpandVolumeResponse__Output>("ControllerExpandVolume", {
      volume_id: id,
      capacity_range: { required_bytes: String(3 * GiB) },
      volume_capability: blockCap(),
    });
    assert.deepEqual([blk.capacity_bytes, blk.node_expansion_required], [String(3 * GiB), true]);
    const resizes = blockd.callsOf("ResizeBlock").length;
    const same = await ctl.call<ControllerExpandVolumeResponse__Output>("ControllerExpandVolume", {
      volume_id: id,
      capacity_range: { required_bytes: String(GiB) },
    });
    assert.equal(same.capacity_bytes, String(3 * GiB));
    assert.equal(blockd.callsOf("ResizeBlock").length, resizes, "no shrink, no call");
    // the same size again reaches blockd: a resize cut short after its SIZE line is finished there
    const again = await ctl.call<ControllerExpandVolumeResponse__Output>("ControllerExpandVolume", {
      volume_id: id,
      capacity_range: { required_bytes: String(3 * GiB) },
      volume_capability: blockCap(),
    });
    assert.deepEqual([again.capacity_bytes, again.node_expansion_required], [String(3 * GiB), true]);
    assert.equal(blockd.callsOf("ResizeBlock").length, resizes + 1, "the retry of a resize is passed on");
  });

  test("errors: no range, unknown volume, no space", async () => {
    const id = (await create()).volume?.volume_id ?? "";
    assert.equal((await codeOf(ctl.call("ControllerExpandVolume", { volume_id: id }))).code, status.INVALID_ARGUMENT);
    // the missing range is reported before the unknown volume
    assert.equal((await codeOf(ctl.call("ControllerExpandVolume", { volume_id: `v1/${HV}/nosuch` }))).code, status.INVALID_ARGUMENT);
    assert.equal((await codeOf(ctl.call("ControllerExpandVolume", { volume_id: "fake-volume-id" }))).code, status.INVALID_ARGUMENT);
    assert.equal(
      (await codeOf(ctl.call("ControllerExpandVolume", { volume_id: `v1/${HV}/nosuch`, capacity_range: { required_bytes: String(GiB) } }))).code,
      status.NOT_FOUND,
    );
    assert.equal(
      (await codeOf(ctl.call("ControllerExpandVolume", { volume_id: id, capacity_range: { required_bytes: String(10_000 * GiB) } }))).code,
      status.RESOURCE_EXHAUSTED,
    );
  });
});

describe("ValidateVolumeCapabilities", () => {
  test("confirms supported capabilities, not others; unknown volume is NOT_FOUND", async () => {
    const id = (await create()).volume?.volume_id ?? "";
    const ok = await ctl.call<ValidateVolumeCapabilitiesResponse__Output>("ValidateVolumeCapabilities", {
      volume_id: id,
      volume_capabilities: [mountCap("xfs")],
      volume_context: { fsType: "xfs" },
    });
    assert.ok(ok.confirmed);
    assert.equal(ok.confirmed.volume_capabilities.length, 1);
    const no = await ctl.call<ValidateVolumeCapabilitiesResponse__Output>("ValidateVolumeCapabilities", {
      volume_id: id,
      volume_capabilities: [mountCap("xfs", "MULTI_NODE_MULTI_WRITER")],
    });
    assert.equal(no.confirmed, null);
    assert.match(no.message, /MULTI_NODE_MULTI_WRITER/);
    const fs = await ctl.call<ValidateVolumeCapabilitiesResponse__Output>("ValidateVolumeCapabilities", {
      volume_id: id,
      volume_capabilities: [mountCap("ext4")],
      volume_context: { fsType: "xfs" },
    });
    assert.equal(fs.confirmed, null);
    assert.equal(
      (await codeOf(ctl.call("ValidateVolumeCapabilities", { volume_id: `v1/${HV}/nosuch`, volume_capabilities: [mountCap()] }))).code,
      status.NOT_FOUND,
    );
    assert.equal((await codeOf(ctl.call("ValidateVolumeCapabilities", { volume_id: id, volume_capabilities: [] }))).code, status.INVALID_ARGUMENT);
    assert.equal(
      (await codeOf(ctl.call("ValidateVolumeCapabilities", { volume_id: "fake-volume-id", volume_capabilities: [] }))).code,
      status.INVALID_ARGUMENT,
    );
  });
});

describe("ListVolumes", () => {
  test("pages through every block of the known hosting volumes", async () => {
    for (let i = 0; i < 5; i++) await create({ name: `vol-${i}` }, { auth: "false" });
    const seen: string[] = [];
    let token = "";
    let pages = 0;
    do {
      const r = await ctl.call<ListVolumesResponse__Output>("ListVolumes", { max_entries: 2, starting_token: token });
      assert.ok(r.entries.length <= 2);
      for (const e of r.entries) {
        seen.push(e.volume?.volume_id ?? "");
        assert.equal(e.volume?.capacity_bytes, String(GiB));
        assert.equal(e.status?.volume_condition?.abnormal, false);
      }
      token = r.next_token;
      pages++;
    } while (token !== "");
    assert.equal(pages, 3);
    assert.deepEqual(
      seen,
      [0, 1, 2, 3, 4].map((i) => `v1/${HV}/vol-${i}`),
    );
    const all = await ctl.call<ListVolumesResponse__Output>("ListVolumes", {});
    assert.equal(all.entries.length, 5);
    assert.equal(all.next_token, "");
  });

  test("a page costs one ListBlocks{details} per hosting volume and no GetBlock", async () => {
    blockd.addVolume("block-hv2");
    for (let i = 0; i < 3; i++) await create({ name: `vol-${i}` }, { auth: "false" });
    for (let i = 0; i < 2; i++) await create({ name: `other-${i}` }, { auth: "false", hostingVolume: "block-hv2" });
    blockd.calls.length = 0;
    const seen: string[] = [];
    let token = "";
    do {
      const before = blockd.calls.length;
      const r = await ctl.call<ListVolumesResponse__Output>("ListVolumes", { max_entries: 2, starting_token: token });
      seen.push(...r.entries.map((e) => e.volume?.volume_id ?? ""));
      const lists = blockd.calls.slice(before).filter((c) => c.method === "ListBlocks");
      const asked = lists.map((c) => c.request.volume as string);
      assert.equal(new Set(asked).size, asked.length, `one call per hosting volume: ${asked.join(", ")}`);
      assert.ok(asked.includes(HV) && asked.includes("block-hv2"));
      assert.ok(
        lists.every((c) => c.request.details === true),
        "with details",
      );
      token = r.next_token;
    } while (token !== "");
    assert.deepEqual(seen, [...[0, 1, 2].map((i) => `v1/${HV}/vol-${i}`), ...[0, 1].map((i) => `v1/block-hv2/other-${i}`)]);
    assert.deepEqual(blockd.callsOf("GetBlock"), [], "no GetBlock per volume");
  });

  test("a block whose journal blockd cannot read is listed as abnormal; the others are not affected", async () => {
    for (let i = 0; i < 3; i++) await create({ name: `vol-${i}` }, { auth: "false" });
    blockd.unreadable.set(`${HV}/vol-1`, "line 4: not a journal line");
    blockd.calls.length = 0;
    const r = await ctl.call<ListVolumesResponse__Output>("ListVolumes", {});
    assert.deepEqual(
      r.entries.map((e) => e.volume?.volume_id),
      [0, 1, 2].map((i) => `v1/${HV}/vol-${i}`),
    );
    const [ok0, bad, ok2] = r.entries;
    assert.equal(bad?.volume?.capacity_bytes, "0", "size unknown");
    assert.equal(bad?.status?.volume_condition?.abnormal, true);
    assert.match(bad?.status?.volume_condition?.message ?? "", /metadata journal cannot be read: line 4/);
    for (const e of [ok0, ok2]) {
      assert.equal(e?.volume?.capacity_bytes, String(GiB));
      assert.equal(e?.status?.volume_condition?.abnormal, false);
    }
    assert.deepEqual(blockd.callsOf("GetBlock"), []);
  });

  test("a blockd that does not fill details: the page's entries are asked one GetBlock each, with the same answers", async () => {
    for (let i = 0; i < 5; i++) await create({ name: `vol-${i}` }, { auth: "false" });
    const token = encodeToken(`v1/${HV}/vol-0`);
    const withDetails = await ctl.call<ListVolumesResponse__Output>("ListVolumes", { max_entries: 2, starting_token: token });
    blockd.fillsDetails = false;
    blockd.calls.length = 0;
    const without = await ctl.call<ListVolumesResponse__Output>("ListVolumes", { max_entries: 2, starting_token: token });
    assert.deepEqual(without, withDetails);
    assert.deepEqual(
      blockd.callsOf("GetBlock").map((c) => c.request.block),
      ["vol-1", "vol-2"],
      "only the page's entries",
    );
  });

  test("each entry: the condition ControllerGetVolume reports, LIO drift included, and the nodes it is published to", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await create({ name: `vol-${i}` }, { auth: "false" })).volume?.volume_id ?? "");
    const [v0, v1, v2, v3] = ids as [string, string, string, string];
    await ctl.call("ControllerPublishVolume", { volume_id: v0, node_id: NODE1, volume_capability: mountCap("xfs") });
    for (const node of [NODE1, NODE2])
      await ctl.call("ControllerPublishVolume", { volume_id: v1, node_id: node, volume_capability: mountCap("xfs", "MULTI_NODE_READER_ONLY") });
    // vol-2 lost its target on one HA host; vol-3 is not exported on one (its journal says so)
    blockd.blockTargetStatus.set(`${HV}/vol-2 10.9.0.2`, { host: "10.9.0.2", present: false, matches: false, detail: "no LIO objects" });
    const b3 = blockd.block(HV, "vol-3");
    assert.ok(b3);
    b3.exportedOn = b3.hosts.slice(0, 2);
    blockd.calls.length = 0;
    const l = await ctl.call<ListVolumesResponse__Output>("ListVolumes", {});
    assert.deepEqual(blockd.callsOf("GetBlock"), [], "no GetBlock per entry");
    assert.deepEqual(blockd.callsOf("GetTargetStatus"), [], "no GetTargetStatus per entry");
    assert.deepEqual(
      blockd.callsOf("GetTargetStatuses").map((c) => [c.request.volume, c.request.blocks]),
      [[HV, ["vol-0", "vol-1", "vol-2", "vol-3"]]],
      "one LIO check for the page's blocks of the hosting volume",
    );
    const byId = new Map(l.entries.map((e) => [e.volume?.volume_id ?? "", e]));
    assert.deepEqual(byId.get(v0)?.status?.published_node_ids, [NODE1]);
    assert.deepEqual(byId.get(v1)?.status?.published_node_ids?.sort(), [NODE1, NODE2]);
    assert.deepEqual(byId.get(v2)?.status?.published_node_ids, []);
    assert.equal(byId.get(v2)?.status?.volume_condition?.abnormal, true);
    assert.match(byId.get(v2)?.status?.volume_condition?.message ?? "", /10\.9\.0\.2: target-missing \(no LIO objects\)/);
    assert.match(byId.get(v3)?.status?.volume_condition?.message ?? "", /not exported on 10\.9\.0\.3/);
    for (const id of ids) {
      const g = await ctl.call<ControllerGetVolumeResponse__Output>("ControllerGetVolume", { volume_id: id });
      assert.deepEqual(byId.get(id)?.status?.volume_condition, g.status?.volume_condition, `${id}: the same condition as ControllerGetVolume`);
      assert.deepEqual(byId.get(id)?.status?.published_node_ids.sort(), g.status?.published_node_ids.sort(), `${id}: the same nodes`);
    }
  });

  test("a node published by another controller is named by its CSINode; a CSINode listing that fails fails the call (UNAVAILABLE), never an empty list", async () => {
    const id = (await create({ name: "elsewhere" }, { auth: "false" })).volume?.volume_id ?? "";
    const b = blockd.block(HV, "elsewhere");
    assert.ok(b);
    b.initiators = ["iqn.1993-08.org.debian:01:w7"];
    kube.csiNodes = [
      { metadata: { name: "w7" }, spec: { drivers: [{ name: "block.csi.gluster.org", nodeID: "w7/iqn.1993-08.org.debian:01:w7", topologyKeys: [] }] } },
    ];
    try {
      kube.failNext.set("GET /csinodes$", 500);
      const e = await codeOf(ctl.call("ListVolumes", {}));
      assert.equal(e.code, status.UNAVAILABLE);
      const l = await ctl.call<ListVolumesResponse__Output>("ListVolumes", {});
      assert.deepEqual(l.entries.find((x) => x.volume?.volume_id === id)?.status?.published_node_ids, ["w7/iqn.1993-08.org.debian:01:w7"]);
    } finally {
      kube.csiNodes = [];
    }
  });

  test("a blockd without GetTargetStatuses: the journal's condition, saying the LIO check was skipped", async () => {
    await create({ name: "old-blockd" }, { auth: "false" });
    blockd.failNext.set("GetTargetStatuses", new StatusError(status.UNIMPLEMENTED, "unknown method GetTargetStatuses"));
    const l = await ctl.call<ListVolumesResponse__Output>("ListVolumes", {});
    const c = l.entries[0]?.status?.volume_condition;
    assert.equal(c?.abnormal, false);
    assert.match(c?.message ?? "", /LIO check skipped: .*GetTargetStatuses/);
  });

  test("a bad starting_token is ABORTED; negative max_entries INVALID_ARGUMENT", async () => {
    await create({}, { auth: "false" });
    assert.equal((await codeOf(ctl.call("ListVolumes", { starting_token: "nonsense" }))).code, status.ABORTED);
    assert.equal((await codeOf(ctl.call("ListVolumes", { max_entries: -1 }))).code, status.INVALID_ARGUMENT);
    const past = await ctl.call<ListVolumesResponse__Output>("ListVolumes", { starting_token: encodeToken("v1/zzz/zzz") });
    assert.deepEqual(past.entries, []);
  });
});

describe("cancellation", () => {
  const until = async (what: string, cond: () => boolean): Promise<void> => {
    for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(cond(), what);
  };

  test("a CreateVolume its caller cancels cancels its CreateBlock on blockd", async () => {
    let open!: () => void;
    blockd.gates.set("CreateBlock", new Promise<void>((r) => (open = r)));
    try {
      const ac = new AbortController();
      const pending = unary(ctl.csi.controller, "CreateVolume", createReq({}, { auth: "false" }), { timeoutMs: 20_000, signal: ac.signal }).catch(
        (e: unknown) => e,
      );
      await until("CreateBlock reached blockd", () => blockd.callsOf("CreateBlock").length === 1);
      assert.deepEqual(blockd.cancelled, [], "nothing cancelled yet");
      ac.abort();
      assert.equal(((await pending) as { code?: number }).code, status.CANCELLED);
      await until("blockd's CreateBlock was cancelled", () => blockd.cancelled.some((c) => c.method === "CreateBlock"));
      assert.equal(kube.events.length, 0, "a cancelled create is no CreateBlockFailed Event");
    } finally {
      open();
    }
  });

  test("a ListVolumes past its deadline cancels the blockd call it waits for", async () => {
    let open!: () => void;
    blockd.gates.set("ListBlocks", new Promise<void>((r) => (open = r)));
    try {
      const e = await codeOf(ctl.call("ListVolumes", {}, 300));
      assert.equal(e.code, status.DEADLINE_EXCEEDED);
      await until("blockd's ListBlocks was cancelled", () => blockd.cancelled.some((c) => c.method === "ListBlocks"));
    } finally {
      open();
    }
  });
});

describe("GetCapacity", () => {
  test("the hosting volume's available bytes; unknown volume 0; bad parameters INVALID_ARGUMENT", async () => {
    const r = await ctl.call<GetCapacityResponse__Output>("GetCapacity", { parameters: { hostingVolume: HV } });
    const space = blockd.volumes.get(HV);
    assert.ok(space);
    assert.equal(r.available_capacity, String(space.freeBytes - 10n * 1024n * 1024n));
    assert.equal(r.minimum_volume_size?.value, String(MiB));
    const none = await ctl.call<GetCapacityResponse__Output>("GetCapacity", { parameters: { hostingVolume: "nosuch" } });
    assert.equal(none.available_capacity, "0");
    const unsupported = await ctl.call<GetCapacityResponse__Output>("GetCapacity", {
      parameters: { hostingVolume: HV },
      volume_capabilities: [mountCap("xfs", "MULTI_NODE_MULTI_WRITER")],
    });
    assert.equal(unsupported.available_capacity, "0");
    assert.equal((await codeOf(ctl.call("GetCapacity", { parameters: { hostingVolume: HV, haCount: "x" } }))).code, status.INVALID_ARGUMENT);
  });
});

describe("GetCapacity as csi-provisioner's capacity tracking calls it", () => {
  // a StorageClass as written: the sidecar sends its parameters verbatim, secret templating included
  const classParams = (hostingVolume: string): Record<string, string> => ({
    hostingVolume,
    haCount: "3",
    "csi.storage.k8s.io/fstype": "xfs",
    "csi.storage.k8s.io/node-stage-secret-name": "gluster-block-chap-${pv.name}",
    "csi.storage.k8s.io/node-stage-secret-namespace": "gluster-block-csi",
  });

  test("each class gets its own hosting volume's room, the same for every topology segment, its largest volume whole MiB", async () => {
    blockd.addVolume("big-hv", 50n * 1024n * MiBn + 123n);
    blockd.addVolume("small-hv", 2n * 1024n * MiBn);
    const avail = (v: string): bigint => (blockd.volumes.get(v)?.freeBytes ?? 0n) - 10n * MiBn;
    for (const topology of [null, { segments: {} }, { segments: { "topology.block.csi.gluster.org/zone": "a" } }]) {
      for (const hv of ["big-hv", "small-hv"]) {
        const r = await ctl.call<GetCapacityResponse__Output>("GetCapacity", { parameters: classParams(hv), accessible_topology: topology });
        assert.equal(r.available_capacity, String(avail(hv)), `${hv} at ${JSON.stringify(topology)}`);
        assert.equal(r.maximum_volume_size?.value, String((avail(hv) / MiBn) * MiBn), "what one create can make, in whole MiB");
      }
    }
    assert.deepEqual(
      [...new Set(blockd.callsOf("GetVolumeSpace").map((c) => c.request.volume))].sort(),
      ["big-hv", "small-hv"],
      "only the classes' volumes are asked",
    );
  });

  test("the sidecar's own capability (Mount, access mode UNKNOWN: 'any') gets the room; a named unsupported mode or fs_type still gets 0", async () => {
    // external-provisioner v4 pkg/capacity/capacity.go: AccessType Mount{}, AccessMode UNKNOWN
    const sidecar = { mount: { fs_type: "", mount_flags: [] }, access_mode: { mode: "UNKNOWN" } };
    const r = await ctl.call<GetCapacityResponse__Output>("GetCapacity", {
      parameters: classParams(HV),
      volume_capabilities: [sidecar],
      accessible_topology: { segments: {} },
    });
    const space = blockd.volumes.get(HV);
    assert.ok(space);
    assert.equal(r.available_capacity, String(space.freeBytes - 10n * MiBn));
    const noMode = await ctl.call<GetCapacityResponse__Output>("GetCapacity", {
      parameters: classParams(HV),
      volume_capabilities: [{ mount: { fs_type: "" } }],
    });
    assert.equal(noMode.available_capacity, r.available_capacity, "no access mode at all is 'any' too");
    for (const cap of [mountCap("xfs", "MULTI_NODE_MULTI_WRITER"), { mount: { fs_type: "btrfs" }, access_mode: { mode: "UNKNOWN" } }]) {
      const none = await ctl.call<GetCapacityResponse__Output>("GetCapacity", { parameters: classParams(HV), volume_capabilities: [cap] });
      assert.equal(none.available_capacity, "0", JSON.stringify(cap));
    }
  });

  test("a class without a hosting volume cannot provision: INVALID_ARGUMENT, never another volume's room", async () => {
    const { hostingVolume: _none, ...noVolume } = classParams(HV);
    const e = await codeOf(ctl.call("GetCapacity", { parameters: noVolume, accessible_topology: { segments: {} } }));
    assert.equal(e.code, status.INVALID_ARGUMENT);
    assert.match(e.details, /hostingVolume/);
    assert.deepEqual(blockd.callsOf("GetVolumeSpace"), []);
  });

  test("a room that is used up is 0, and a create of it is refused", async () => {
    blockd.addVolume("full-hv", 10n * MiBn);
    const r = await ctl.call<GetCapacityResponse__Output>("GetCapacity", { parameters: classParams("full-hv") });
    assert.equal(r.available_capacity, "0");
    assert.equal(r.maximum_volume_size?.value, "0");
    assert.equal((await codeOf(create({}, { hostingVolume: "full-hv", auth: "false" }))).code, status.RESOURCE_EXHAUSTED);
  });
});

describe("hosting volumes", () => {
  test("ListVolumes and GetCapacity learn them from StorageClasses and creates, asking no blockd for its node status", async () => {
    blockd.addVolume("sc-hv", 50n * 1024n * MiBn);
    kube.storageClasses = [{ metadata: { name: "sc" }, provisioner: "block.csi.gluster.org", parameters: { hostingVolume: "sc-hv" } }];
    try {
      await create({ name: "made-here" }, { auth: "false" });
      blockd.calls.length = 0;
      const l = await ctl.call<ListVolumesResponse__Output>("ListVolumes", {});
      assert.deepEqual(
        l.entries.map((e) => e.volume?.volume_id),
        [`v1/${HV}/made-here`],
      );
      assert.ok(
        blockd.callsOf("ListBlocks").some((c) => c.request.volume === "sc-hv"),
        "the StorageClass's volume is listed",
      );
      const c = await ctl.call<GetCapacityResponse__Output>("GetCapacity", {});
      const avail = (v: string): bigint => (blockd.volumes.get(v)?.freeBytes ?? 0n) - 10n * MiBn;
      assert.equal(c.available_capacity, String(avail(HV) + avail("sc-hv")));
      assert.deepEqual(blockd.callsOf("GetNodeStatus"), [], "no fan-out to every blockd");
    } finally {
      kube.storageClasses = [];
    }
  });
});

describe("ControllerGetVolume", () => {
  test("normal, then abnormal when a HA node lost its target, with one Event on the claim per change", async () => {
    const id =
      (await create({}, { "csi.storage.k8s.io/pvc/name": "data", "csi.storage.k8s.io/pvc/namespace": "app", "csi.storage.k8s.io/pv/name": PVC })).volume
        ?.volume_id ?? "";
    await ctl.call("ControllerPublishVolume", { volume_id: id, node_id: NODE1, volume_capability: mountCap("xfs") });
    const ok = await ctl.call<ControllerGetVolumeResponse__Output>("ControllerGetVolume", { volume_id: id });
    assert.equal(ok.status?.volume_condition?.abnormal, false);
    assert.deepEqual(ok.status?.published_node_ids, [NODE1]);
    assert.equal(ok.volume?.capacity_bytes, String(GiB));
    blockd.targetStatus.set("10.9.0.2", { host: "10.9.0.2", present: false, matches: false, detail: "no LIO objects" });
    const bad = await ctl.call<ControllerGetVolumeResponse__Output>("ControllerGetVolume", { volume_id: id });
    assert.equal(bad.status?.volume_condition?.abnormal, true);
    assert.match(bad.status?.volume_condition?.message ?? "", /10\.9\.0\.2: target-missing \(no LIO objects\)/);
    await ctl.call("ControllerGetVolume", { volume_id: id });
    const degraded = kube.events.filter((e) => (e as { reason: string }).reason === "DegradedHA");
    assert.equal(degraded.length, 1, "one Event for the change, not one per poll");
    assert.equal((degraded[0] as { involvedObject: { name: string } }).involvedObject.name, "data");
    assert.deepEqual(blockd.callsOf("GetTargetStatus").at(-1)?.request, { volume: HV, block: PVC }, "only this block's targets are checked");
    assert.equal(blockd.callsOf("Audit").length, 0, "no volume-wide audit on a health poll");
    blockd.targetStatus.clear();
    const back = await ctl.call<ControllerGetVolumeResponse__Output>("ControllerGetVolume", { volume_id: id });
    assert.equal(back.status?.volume_condition?.abnormal, false);
    assert.equal(kube.events.filter((e) => (e as { reason: string }).reason === "HARestored").length, 1);
  });

  test("a block not exported on every HA host is abnormal; unknown volume NOT_FOUND", async () => {
    const id = (await create({}, { auth: "false" })).volume?.volume_id ?? "";
    const b = blockd.block(HV, PVC);
    assert.ok(b);
    b.exportedOn = b.hosts.slice(0, 2);
    b.state = "degraded";
    const r = await ctl.call<ControllerGetVolumeResponse__Output>("ControllerGetVolume", { volume_id: id });
    assert.equal(r.status?.volume_condition?.abnormal, true);
    assert.match(r.status?.volume_condition?.message ?? "", /not exported on 10\.9\.0\.3/);
    assert.equal((await codeOf(ctl.call("ControllerGetVolume", { volume_id: `v1/${HV}/nosuch` }))).code, status.NOT_FOUND);
  });
});

test("ControllerGetCapabilities: LIST_VOLUMES_PUBLISHED_NODES only where CSINodes name every node", async () => {
  const all = [
    "CREATE_DELETE_VOLUME",
    "EXPAND_VOLUME",
    "GET_CAPACITY",
    "GET_VOLUME",
    "LIST_VOLUMES",
    "PUBLISH_READONLY",
    "PUBLISH_UNPUBLISH_VOLUME",
    "VOLUME_CONDITION",
  ];
  const r = await ctl.call<ControllerGetCapabilitiesResponse__Output>("ControllerGetCapabilities", {});
  assert.deepEqual(r.capabilities.map((c) => c.rpc?.type).sort(), [...all, "LIST_VOLUMES_PUBLISHED_NODES"].sort());
  // without a Kubernetes API only the nodes published since start could be named: the attacher would attach the others again
  const off = await startController({ endpoints: blockd.endpoints, key: KEY });
  try {
    const o = await off.call<ControllerGetCapabilitiesResponse__Output>("ControllerGetCapabilities", {});
    assert.deepEqual(o.capabilities.map((c) => c.rpc?.type).sort(), all);
  } finally {
    await off.stop();
  }
});

test("Probe is ready while a blockd answers", async () => {
  const r = await call<ProbeResponse__Output>(ctl.csi.identity, "Probe", {});
  assert.equal(r.ready?.value, true);
});
