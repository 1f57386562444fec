// The Kubernetes API side of the controller against an HTTP server that
// implements the few endpoints used and records every request: CHAP
// Secrets (name, labels, owner data; deleted with the volume), blockd
// discovery from pods, Events on claims, StorageClasses and CSINodes.
import { test, describe, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { FakeBlockd } from "../doubles/fake-blockd.js";
import { KubeApiStandin } from "../../lab/harness/kube-api-standin.js";
import { startController, codeOf, mountCap, GiB, type LocalController } from "../../lab/harness/local-controller.js";
import { DEFAULT_DRIVER_NAME } from "../../src/csi/identity-server.js";
import { ClientNodeKubeApi, loadKubeConfig } from "../../src/controller/kube-api.js";
import { KubeDiscovery, podEndpoint } from "../../src/controller/discovery.js";
import { KubeApiError } from "../../src/controller/errors.js";
import { PvcEvents, eventName } from "../../src/controller/pvc-events.js";
import { chapSecretName } from "../../src/controller/chap-secrets.js";
import type { CreateVolumeResponse__Output } from "../../src/generated/csi/v1/CreateVolumeResponse.js";
import type { ListVolumesResponse__Output } from "../../src/generated/csi/v1/ListVolumesResponse.js";
import type { V1Pod } from "@kubernetes/client-node";
import { writeFile, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { parseFlags } from "../../src/util/flags.js";
import { CONTROLLER_FLAGS, controllerConfig } from "../../src/controller/config.js";
import { serveController } from "../../src/controller/plugin.js";
import * as csiClient from "../../lab/harness/csi-client.js";
import { nullLogger } from "../../src/util/log.js";
import { captureLog } from "../../lab/harness/log-capture.js";

const KEY = "unit-test-blockd-key-kube-9a8b7c";
const HV = "block-hv";
const NS = "gluster-block-csi";
const PV = "pvc-6e1d2c3b-4a59-4687-9a1b-2c3d4e5f6a7b";
const PARAMS = {
  hostingVolume: HV,
  "csi.storage.k8s.io/pv/name": PV,
  "csi.storage.k8s.io/pvc/name": "data",
  "csi.storage.k8s.io/pvc/namespace": "shop",
};

let blockd: FakeBlockd;
let kube: KubeApiStandin;
let kubeconfig: string;
let ctl: LocalController;

const pod = (name: string, hostIP: string, over: Partial<V1Pod["status"]> = {}): V1Pod => ({
  metadata: { name, namespace: NS, labels: { "app.kubernetes.io/name": "gluster-blockd" } },
  status: { phase: "Running", hostIP, conditions: [{ type: "Ready", status: "True" }], ...over },
});

before(async () => {
  kube = await new KubeApiStandin().start();
  kubeconfig = await kube.kubeconfig();
  blockd = await new FakeBlockd(KEY).start(["10.8.0.1", "10.8.0.2", "10.8.0.3"]);
  ctl = await startController({ endpoints: blockd.endpoints, key: KEY, kubeconfig, namespace: NS });
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
  kube.requests.length = 0;
  kube.secrets.clear();
  kube.events.length = 0;
  kube.failNext.clear();
});

const create = (params: Record<string, string> = PARAMS, name = PV) =>
  ctl.call<CreateVolumeResponse__Output>("CreateVolume", {
    name,
    capacity_range: { required_bytes: String(GiB) },
    volume_capabilities: [mountCap("xfs")],
    parameters: params,
  });

describe("CHAP Secret", () => {
  test("created in the driver's namespace with the templated name, labels and owner data; deleted with the volume", async () => {
    const r = await create();
    const id = r.volume?.volume_id ?? "";
    const gbid = r.volume?.volume_context?.gbid ?? "";
    assert.equal(gbid, blockd.block(HV, PV)?.gbid, "the block's GBID, as blockd drew it");
    const posts = kube.requestsTo("POST", `/api/v1/namespaces/${NS}/secrets`);
    assert.equal(posts.length, 1);
    const body = posts[0]?.body as {
      metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
      type: string;
      data: Record<string, string>;
    };
    assert.equal(body.metadata.name, `gluster-block-chap-${PV}`, "what gluster-block-chap-${pv.name} expands to");
    assert.equal(body.type, "Opaque");
    assert.deepEqual(body.metadata.labels, {
      "app.kubernetes.io/managed-by": "gluster-block-csi",
      "app.kubernetes.io/component": "chap",
      "block.csi.gluster.org/gbid": gbid,
      "block.csi.gluster.org/driver": DEFAULT_DRIVER_NAME,
    });
    assert.deepEqual(body.metadata.annotations, {
      "block.csi.gluster.org/volume-id": id,
      "block.csi.gluster.org/csi-name": PV,
      "block.csi.gluster.org/pv-name": PV,
      "block.csi.gluster.org/pvc-name": "data",
      "block.csi.gluster.org/pvc-namespace": "shop",
    });
    const b = blockd.block(HV, PV);
    assert.ok(b);
    assert.deepEqual(Object.fromEntries(Object.entries(body.data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")])), {
      username: gbid,
      password: b.password,
    });
    assert.equal(b.owner, `csi=${PV} pv=${PV} pvc=shop/data`, "the block records its claim too");
    assert.doesNotMatch(ctl.log.text(), new RegExp(b.password), "the password never reaches a log line");

    await ctl.call("DeleteVolume", { volume_id: id });
    const lists = kube.requestsTo("GET", `/api/v1/namespaces/${NS}/secrets`).filter((q) => q.query.get("labelSelector"));
    assert.equal(
      lists.at(-1)?.query.get("labelSelector"),
      "app.kubernetes.io/managed-by=gluster-block-csi,app.kubernetes.io/component=chap",
      "found by its volume-id annotation, not by a GBID",
    );
    assert.equal(kube.requestsTo("DELETE", `/api/v1/namespaces/${NS}/secrets/gluster-block-chap-${PV}`).length, 1);
    assert.equal(kube.secrets.size, 0);
    await ctl.call("DeleteVolume", { volume_id: id });
    assert.equal(kube.requestsTo("DELETE", "/secrets/").length, 1, "a second delete finds nothing to delete");
  });

  test("DeleteVolume retried after the block is gone still deletes the Secret; another volume's stays", async () => {
    const id = (await create()).volume?.volume_id ?? "";
    const other = (await create(PARAMS, `${PV}-other`)).volume?.volume_id ?? "";
    assert.equal(kube.secrets.size, 2);
    // the first DeleteVolume removed the block, then failed before the Secret was deleted
    kube.failNext.set("GET /secrets", 500);
    const e = await codeOf(ctl.call("DeleteVolume", { volume_id: id }));
    assert.notEqual(e.code, status.OK);
    assert.equal(blockd.block(HV, PV), undefined, "the block is gone");
    assert.equal(kube.secrets.size, 2, "its Secret is left behind");
    await ctl.call("DeleteVolume", { volume_id: id });
    assert.equal(
      kube.requestsTo("DELETE", `/api/v1/namespaces/${NS}/secrets/gluster-block-chap-${PV}`).length,
      1,
      "the retry finds the Secret without the block",
    );
    assert.equal(kube.secrets.size, 1);
    assert.ok(kube.secrets.get(`${NS}/gluster-block-chap-${PV}-other`), "another volume's Secret is not touched");
    await ctl.call("DeleteVolume", { volume_id: other });
    assert.equal(kube.secrets.size, 0);
  });

  test("a volume re-created under the same name gets another GBID; its Secret carries the new one", async () => {
    const first = (await create()).volume;
    await ctl.call("DeleteVolume", { volume_id: first?.volume_id ?? "" });
    const second = (await create()).volume;
    assert.equal(second?.volume_id, first?.volume_id, "the same volume ID");
    assert.notEqual(second?.volume_context?.gbid, first?.volume_context?.gbid);
    assert.notEqual(second?.volume_context?.iqn, first?.volume_context?.iqn);
    assert.notEqual(second?.volume_context?.wwid, first?.volume_context?.wwid);
    const secret = kube.secrets.get(`${NS}/gluster-block-chap-${PV}`);
    assert.equal(secret?.metadata?.labels?.["block.csi.gluster.org/gbid"], second?.volume_context?.gbid);
  });

  test("a retry after the Secret failed creates it; a changed password is written over", async () => {
    kube.failNext.set("POST /secrets$", 500);
    const e = await codeOf(create());
    assert.equal(e.code, status.UNAVAILABLE, "an API server error is transient");
    assert.equal(kube.secrets.size, 0);
    assert.equal(kube.events.length, 1, "the failure is an Event on the claim");
    await create();
    assert.equal(kube.secrets.size, 1);
    // blockd now holds another password (a create finished by a retry draws a new one)
    const b = blockd.block(HV, PV);
    assert.ok(b);
    b.password = "fake-chap-password-rotated-000000";
    await create();
    const puts = kube.requestsTo("PUT", `/secrets/gluster-block-chap-${PV}`);
    assert.equal(puts.length, 1);
    const data = (kube.secrets.get(`${NS}/gluster-block-chap-${PV}`)?.data ?? {}) as Record<string, string>;
    assert.equal(Buffer.from(data.password ?? "", "base64").toString(), "fake-chap-password-rotated-000000");
  });

  test("a Secret of that name not made by the driver is never overwritten", async () => {
    kube.secrets.set(`${NS}/gluster-block-chap-${PV}`, {
      metadata: { name: `gluster-block-chap-${PV}`, namespace: NS, labels: {} },
      data: { password: "eA==" },
    });
    const e = await codeOf(create());
    assert.equal(e.code, status.ALREADY_EXISTS);
    assert.match(e.details, /not managed by gluster-block-csi/);
    assert.equal(kube.requestsTo("PUT", "/secrets/").length, 0);
  });

  test("Secret names: the template for Kubernetes names, a stable valid name otherwise", () => {
    assert.equal(chapSecretName(PV), `gluster-block-chap-${PV}`);
    const odd = chapSecretName("My_Volume/1");
    assert.match(odd, /^gluster-block-chap-my-volume-1-[0-9a-f]{12}$/);
    assert.equal(chapSecretName("My_Volume/1"), odd);
  });

  test("a forbidden API call is PERMISSION_DENIED, never the HTTP code as a gRPC status", async () => {
    kube.failNext.set("GET /secrets/", 403);
    const e = await codeOf(create());
    assert.equal(e.code, status.PERMISSION_DENIED);
    assert.match(e.details, /Kubernetes API: read Secret/);
  });
});

describe("Events", () => {
  test("a create failure is a Warning on the claim, with the claim's UID from the PV name", async () => {
    blockd.addVolume(HV, 1n);
    await codeOf(create());
    const posts = kube.requestsTo("POST", "/api/v1/namespaces/shop/events");
    assert.equal(posts.length, 1);
    const ev = posts[0]?.body as { type: string; reason: string; message: string; involvedObject: Record<string, string>; source: { component: string } };
    assert.equal(ev.type, "Warning");
    assert.equal(ev.reason, "CreateBlockFailed");
    assert.match(ev.message, /not enough space/);
    assert.deepEqual(ev.involvedObject, {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      name: "data",
      namespace: "shop",
      uid: "6e1d2c3b-4a59-4687-9a1b-2c3d4e5f6a7b",
    });
    assert.equal(ev.source.component, `${DEFAULT_DRIVER_NAME}/controller`);
  });

  test("an Event that cannot be written does not fail the call", async () => {
    kube.failNext.set("POST /events$", 500);
    blockd.addVolume(HV, 1n);
    assert.equal((await codeOf(create())).code, status.RESOURCE_EXHAUSTED, "the storage error, not the Event's");
  });

  interface StoredEvent {
    metadata: { name: string };
    reason: string;
    message: string;
    count: number;
    firstTimestamp: string;
    lastTimestamp: string;
  }
  const stored = (): StoredEvent[] => kube.events as unknown as StoredEvent[];

  test("a failure that repeats is one Event whose count and lastTimestamp rise, not an Event per retry", async () => {
    blockd.addVolume(HV, 1n);
    for (let i = 0; i < 3; i++) await codeOf(create());
    assert.equal(kube.events.length, 1, "one Event for the claim and reason");
    const [ev] = stored();
    assert.ok(ev);
    assert.match(ev.metadata.name, /^data\.[0-9a-f]{16}$/);
    assert.equal(ev.count, 3);
    assert.ok(Date.parse(ev.lastTimestamp) >= Date.parse(ev.firstTimestamp));
    assert.match(ev.message, /not enough space/);
    assert.equal(kube.requestsTo("POST", "/events").length, 1, "created once");
    const patches = kube.requestsTo("PATCH", `/api/v1/namespaces/shop/events/${ev.metadata.name}`);
    assert.equal(patches.length, 2, "raised twice");
    for (const p of patches) {
      assert.equal(p.contentType, "application/merge-patch+json", "a merge patch: client-node's default type is a JSON patch, which wants operations");
      assert.deepEqual(Object.keys(p.body as object).sort(), ["count", "lastTimestamp", "message", "metadata"]);
    }
    // another claim has its own
    await codeOf(create({ ...PARAMS, "csi.storage.k8s.io/pvc/name": "logs" }, `${PV}-logs`));
    assert.equal(kube.events.length, 2);
  });

  test("an Event that expired is created again; one that a concurrent emitter made is counted on", async () => {
    blockd.addVolume(HV, 1n);
    await codeOf(create());
    kube.events.length = 0; // expired (the API server keeps Events an hour)
    await codeOf(create());
    assert.equal(stored()[0]?.count, 1, "created anew");
    // the Event expires between the read and the patch (404), and another emitter creates it before our create (409)
    kube.requests.length = 0;
    kube.failNext.set("PATCH /events/", 404);
    await codeOf(create());
    assert.deepEqual(
      kube.requests.filter((r) => r.path.includes("/events")).map((r) => r.method),
      ["GET", "PATCH", "POST", "GET", "PATCH"],
      "patch 404 -> create; create 409 -> read and patch",
    );
    assert.equal(kube.events.length, 1);
    assert.equal(stored()[0]?.count, 2);
  });

  test("writers racing on one Event each add their count (a stale read is a 409, then read again)", async () => {
    const kc = loadKubeConfig({ kubeconfig, mode: "auto" });
    assert.ok(kc);
    const log = captureLog("warn");
    const events = new PvcEvents(new ClientNodeKubeApi(kc), "test", log.log);
    const target = { namespace: "shop", name: "data", uid: "6e1d2c3b-4a59-4687-9a1b-2c3d4e5f6a7b" };
    await events.emit(target, "Warning", "CreateBlockFailed", "first");
    await Promise.all([1, 2, 3].map((i) => events.emit(target, "Warning", "CreateBlockFailed", `again ${i}`)));
    assert.equal(kube.events.length, 1);
    assert.equal(stored()[0]?.count, 4);
    assert.ok(kube.requestsTo("PATCH", "/events/").length > 3, "some patches met a newer resourceVersion and were sent again");
    assert.equal(log.lines.length, 0, log.text());
    // another reason, or type, is another Event
    await events.emit(target, "Warning", "DegradedHA", "x");
    await events.emit(target, "Normal", "DegradedHA", "x");
    assert.equal(kube.events.length, 3);
  });

  test("an Event that cannot be read, or keeps meeting conflicts, is logged; the emitter returns", async () => {
    const kc = loadKubeConfig({ kubeconfig, mode: "auto" });
    assert.ok(kc);
    const log = captureLog("warn");
    const events = new PvcEvents(new ClientNodeKubeApi(kc), "test", log.log);
    const target = { namespace: "shop", name: "data" };
    kube.failNext.set("GET /events/", 500);
    await events.emit(target, "Warning", "CreateBlockFailed", "x");
    assert.equal(log.lines.length, 1);
    assert.match(log.text(), /could not record an event on the claim/);
    assert.match(log.text(), /read Event shop\/data\.[0-9a-f]{16}: HTTP 500/);
    assert.equal(kube.events.length, 0);
    await events.emit(target, "Warning", "CreateBlockFailed", "x");
    kube.requests.length = 0;
    // three failNext keys that all match: three conflicts in a row
    for (const re of ["/events/", "/events/d", "/events/da"]) kube.failNext.set(`PATCH ${re}`, 409);
    await events.emit(target, "Warning", "CreateBlockFailed", "x");
    assert.equal(kube.requestsTo("PATCH", "/events/").length, 3, "gives up after three rounds");
    assert.equal(kube.requestsTo("GET", "/events/").length, 3);
    assert.match(log.lines[1] ?? "", /patch Event shop\/data\.[0-9a-f]{16}: HTTP 409/);
    assert.equal(stored()[0]?.count, 1);
  });

  test("Event names: the claim's and a hash of namespace, claim, UID, type and reason (not the message); valid when the claim's is long", () => {
    const t = { namespace: "shop", name: "data", uid: "u1" };
    const n = eventName(t, "Warning", "CreateBlockFailed");
    assert.match(n, /^data\.[0-9a-f]{16}$/);
    assert.equal(eventName({ ...t }, "Warning", "CreateBlockFailed"), n);
    for (const other of [
      eventName({ ...t, namespace: "shop2" }, "Warning", "CreateBlockFailed"),
      eventName({ ...t, name: "data2" }, "Warning", "CreateBlockFailed"),
      eventName({ ...t, uid: "u2" }, "Warning", "CreateBlockFailed"),
      eventName(t, "Normal", "CreateBlockFailed"),
      eventName(t, "Warning", "DegradedHA"),
    ])
      assert.notEqual(other, n);
    const long = eventName({ namespace: "shop", name: `${"a".repeat(235)}-b` }, "Warning", "R");
    assert.ok(long.length <= 253, `${long.length}`);
    assert.match(long, /^a{235}\.[0-9a-f]{16}$/, "cut, and no label ends in '-'");
  });

  test("without claim parameters no Event is sent", async () => {
    blockd.addVolume(HV, 1n);
    await codeOf(create({ hostingVolume: HV }));
    assert.equal(kube.requestsTo("POST", "/events").length, 0);
  });
});

describe("discovery and lookups through the API", () => {
  test("blockd pods by label selector, hostIP:port, running and ready only", async () => {
    kube.pods = [
      pod("b-1", "10.8.0.1"),
      pod("b-2", "10.8.0.2", { conditions: [{ type: "Ready", status: "False" }] }),
      pod("b-3", "10.8.0.3", { phase: "Pending" }),
      pod("b-4", "fd00::4"),
      { ...pod("other", "10.8.0.9"), metadata: { name: "other", namespace: NS, labels: { app: "x" } } },
    ];
    const kc = loadKubeConfig({ kubeconfig, mode: "auto" });
    assert.ok(kc);
    const d = new KubeDiscovery(new ClientNodeKubeApi(kc), NS, "app.kubernetes.io/name=gluster-blockd", 24010);
    assert.deepEqual(await d.endpoints(), ["10.8.0.1:24010", "[fd00::4]:24010"]);
    // the pool is every pod, ready or not, with why it does not count
    assert.deepEqual(
      (await d.pool()).map((m) => [m.name, m.notCounted ?? "counted"]),
      [
        ["b-1", "counted"],
        ["b-2", "not Ready"],
        ["b-3", "phase Pending"],
        ["b-4", "counted"],
      ],
    );
    const q = kube.requestsTo("GET", `/api/v1/namespaces/${NS}/pods`)[0];
    assert.equal(q?.query.get("labelSelector"), "app.kubernetes.io/name=gluster-blockd");
    assert.equal(podEndpoint(pod("x", "10.0.0.1", { hostIP: undefined }), 1), undefined);
  });

  test("with topology on, each blockd pod's zone is its Node's label, read once per Node; a Node unlabelled or gone is in no zone", async () => {
    const onNode = (p: V1Pod, nodeName: string): V1Pod => ({ ...p, spec: { containers: [], nodeName } });
    kube.pods = [
      onNode(pod("b-1", "10.8.0.1"), "n1"),
      onNode(pod("b-2", "10.8.0.2"), "n2"),
      onNode(pod("b-3", "10.8.0.3"), "n3"),
      onNode(pod("b-4", "10.8.0.4"), "gone"),
    ];
    kube.nodes = [
      { metadata: { name: "n1", labels: { "topology.kubernetes.io/zone": "zone-a", "example.org/rack": "r1" } } },
      { metadata: { name: "n2", labels: { "topology.kubernetes.io/zone": "zone-a" } } },
      { metadata: { name: "n3", labels: {} } },
    ];
    try {
      const kc = loadKubeConfig({ kubeconfig, mode: "auto" });
      assert.ok(kc);
      const api = new ClientNodeKubeApi(kc);
      const zoned = new KubeDiscovery(api, NS, "app.kubernetes.io/name=gluster-blockd", 24010, { zoneLabel: "topology.kubernetes.io/zone" });
      assert.deepEqual(
        (await zoned.pool()).map((m) => [m.name, m.address, m.zone ?? "none"]),
        [
          ["b-1", "10.8.0.1", "zone-a"],
          ["b-2", "10.8.0.2", "zone-a"],
          ["b-3", "10.8.0.3", "none"],
          ["b-4", "10.8.0.4", "none"],
        ],
      );
      assert.deepEqual(
        kube
          .requestsTo("GET", "/api/v1/nodes/")
          .map((r) => r.path)
          .sort(),
        ["/api/v1/nodes/gone", "/api/v1/nodes/n1", "/api/v1/nodes/n2", "/api/v1/nodes/n3"],
        "each Node once",
      );
      await zoned.pool();
      assert.equal(kube.requestsTo("GET", "/api/v1/nodes/").length, 4, "cached with the pods");
      const byRack = new KubeDiscovery(api, NS, "app.kubernetes.io/name=gluster-blockd", 24010, { zoneLabel: "example.org/rack" });
      assert.deepEqual(
        (await byRack.pool()).map((m) => m.zone ?? "none"),
        ["r1", "none", "none", "none"],
        "the configured label",
      );
      // topology off: no Node is read
      kube.requests.length = 0;
      await new KubeDiscovery(api, NS, "app.kubernetes.io/name=gluster-blockd", 24010).pool();
      assert.deepEqual(kube.requestsTo("GET", "/api/v1/nodes"), []);
      // a Node read that is refused fails the discovery (as a pod list would), not a silent "no zone"
      kube.failNext.set("GET /api/v1/nodes/n2", 403);
      const refused = new KubeDiscovery(api, NS, "app.kubernetes.io/name=gluster-blockd", 24010, { zoneLabel: "topology.kubernetes.io/zone" });
      await assert.rejects(refused.pool(), (e: unknown) => e instanceof KubeApiError && e.httpStatus === 403);
    } finally {
      kube.nodes = [];
      kube.failNext.clear();
    }
  });

  test("a controller without static endpoints drives blockd found through pods", async () => {
    const ports = blockd.endpoints.map((e) => Number(e.split(":").pop()));
    // the fake nodes listen on 127.0.0.1 with distinct ports; one pod per port is enough to prove the path
    kube.pods = [pod("b-1", "127.0.0.1")];
    const dir = await mkdtemp(join(tmpdir(), "gbcsi-disc-"));
    await writeFile(join(dir, "key"), KEY);
    // the fake blockd serves plain TCP: the key over plaintext needs its flag
    const cfg = controllerConfig(
      parseFlags(
        [
          "--kubeconfig",
          kubeconfig,
          "--namespace",
          NS,
          "--blockd-port",
          String(ports[0]),
          "--blockd-key-file",
          join(dir, "key"),
          "--blockd-insecure-key-over-plaintext",
          "--default-ha-count",
          "1",
          "--health-interval",
          "0",
        ],
        CONTROLLER_FLAGS,
      ),
      DEFAULT_DRIVER_NAME,
      {},
    );
    const running = await serveController(cfg, { kind: "unix", path: join(dir, "csi.sock") }, nullLogger);
    const c = csiClient.csiClients(`unix://${join(dir, "csi.sock")}`);
    try {
      const r = await csiClient.call<CreateVolumeResponse__Output>(c.controller, "CreateVolume", {
        name: "disc-vol",
        capacity_range: { required_bytes: String(GiB) },
        volume_capabilities: [mountCap("xfs")],
        parameters: { hostingVolume: HV, auth: "false" },
      });
      assert.equal(r.volume?.volume_id, `v1/${HV}/disc-vol`);
      assert.equal(blockd.callsOf("CreateBlock")[0]?.host, "10.8.0.1", "the blockd behind the pod's hostIP made it");
    } finally {
      c.close();
      await running.stop();
    }
  });

  test("ListVolumes covers the hosting volumes StorageClasses of this driver name", async () => {
    blockd.addVolume("other-hv");
    kube.storageClasses = [
      { metadata: { name: "a" }, provisioner: DEFAULT_DRIVER_NAME, parameters: { hostingVolume: "other-hv" } },
      { metadata: { name: "b" }, provisioner: "ebs.csi.aws.com", parameters: { hostingVolume: "not-ours" } },
    ];
    await create({ hostingVolume: "other-hv", auth: "false" }, "sc-vol");
    // a fresh controller has seen no CreateVolume: the StorageClass is its only source
    const fresh = await startController({ endpoints: blockd.endpoints, key: KEY, kubeconfig, namespace: NS });
    try {
      const r = await fresh.call<ListVolumesResponse__Output>("ListVolumes", {});
      assert.deepEqual(
        r.entries.map((e) => e.volume?.volume_id),
        ["v1/other-hv/sc-vol"],
      );
      assert.equal(
        blockd.callsOf("ListBlocks").some((c) => c.request.volume === "not-ours"),
        false,
      );
    } finally {
      await fresh.stop();
      kube.storageClasses = [];
    }
  });

  test("published node IDs come from CSINodes for a controller that did not publish", async () => {
    const id = (await create({ hostingVolume: HV, auth: "false" }, "csinode-vol")).volume?.volume_id ?? "";
    const b = blockd.block(HV, "csinode-vol");
    assert.ok(b);
    b.initiators = ["iqn.1993-08.org.debian:01:w3"];
    kube.csiNodes = [
      { metadata: { name: "w3" }, spec: { drivers: [{ name: DEFAULT_DRIVER_NAME, nodeID: "w3/iqn.1993-08.org.debian:01:w3", topologyKeys: [] }] } },
    ];
    const r = await ctl.call<{ status: { published_node_ids: string[] } }>("ControllerGetVolume", { volume_id: id });
    assert.deepEqual(r.status.published_node_ids, ["w3/iqn.1993-08.org.debian:01:w3"]);
    kube.csiNodes = [];
  });

  test("API errors become KubeApiError with the Status message only", async () => {
    const kc = loadKubeConfig({ kubeconfig, mode: "auto" });
    assert.ok(kc);
    const api = new ClientNodeKubeApi(kc);
    kube.failNext.set("GET /pods$", 500);
    await assert.rejects(
      api.listPods(NS, "a=b"),
      (e: unknown) => e instanceof KubeApiError && e.httpStatus === 500 && e.message === `list Pods in ${NS} (a=b): HTTP 500: injected 500`,
    );
    assert.equal(await api.readSecret(NS, "nosuch"), undefined);
    assert.equal(await api.deleteSecret(NS, "nosuch"), false);
    assert.equal(loadKubeConfig({ mode: "off", kubeconfig }), undefined);
    assert.equal(loadKubeConfig({ mode: "auto", env: {} }), undefined, "not in a pod and no kubeconfig: no API");
  });
});
