// The controller's periodic volume health check, over the fake blockd
// cluster and the Kubernetes API stand-in: each volume judged as
// ControllerGetVolume judges it, one DegradedHA / HARestored Event per
// change (shared with ControllerGetVolume), the volume gauges set, its work
// and memory bounded, and its timer started and stopped.
import { test, describe, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { FakeBlockd } from "../../doubles/fake-blockd.js";
import { KubeApiStandin } from "../../../lab/harness/kube-api-standin.js";
import { startController, mountCap, GiB, type LocalController } from "../../../lab/harness/local-controller.js";
import { HealthMonitor } from "../../../src/controller/health-monitor.js";
import { Metrics } from "../../../src/util/metrics.js";
import { StatusError } from "../../../src/rpc/errors.js";
import { nullLogger } from "../../../src/util/log.js";
import type { ControllerGetVolumeResponse__Output } from "../../../src/generated/csi/v1/ControllerGetVolumeResponse.js";

const KEY = "unit-test-blockd-key-health-0123";
const HV = "block-hv";
const HOSTS = ["10.9.0.1", "10.9.0.2", "10.9.0.3"];
const LOST = { host: "10.9.0.2", present: false, matches: false, detail: "no LIO objects" };

let blockd: FakeBlockd;
let kube: KubeApiStandin;
let ctl: LocalController;
let metrics: Metrics;

interface Event {
  reason: string;
  count: number;
  message: string;
  involvedObject: { name: string; namespace: string };
}
const events = (reason?: string): Event[] => (kube.events as unknown as Event[]).filter((e) => reason === undefined || e.reason === reason);

/** a volume of claim app/<name>, so its Events have somewhere to go */
async function create(name: string): Promise<string> {
  const r = await ctl.call<{ volume: { volume_id: string } }>("CreateVolume", {
    name,
    capacity_range: { required_bytes: String(GiB) },
    volume_capabilities: [mountCap("xfs")],
    parameters: {
      hostingVolume: HV,
      auth: "false",
      "csi.storage.k8s.io/pvc/name": `claim-${name}`,
      "csi.storage.k8s.io/pvc/namespace": "app",
      "csi.storage.k8s.io/pv/name": name,
    },
  });
  return r.volume.volume_id;
}

const gauge = async (name: string): Promise<Record<string, number>> => {
  const m = await metrics.registry.getSingleMetric(name)?.get();
  return Object.fromEntries((m?.values ?? []).map((v) => [String(v.labels.state ?? v.labels.volume), v.value]));
};

before(async () => {
  kube = await new KubeApiStandin().start();
  blockd = await new FakeBlockd(KEY).start(HOSTS);
});

after(async () => {
  await blockd?.stop();
  await kube?.stop();
});

beforeEach(async () => {
  await ctl?.stop();
  blockd.volumes.clear();
  blockd.addVolume(HV);
  blockd.calls.length = 0;
  blockd.unreadable.clear();
  blockd.failNext.clear();
  blockd.targetStatus.clear();
  blockd.blockTargetStatus.clear();
  kube.events.length = 0;
  kube.requests.length = 0;
  metrics = new Metrics("gluster-block-csi-controller", { defaultMetrics: false });
  ctl = await startController({ endpoints: blockd.endpoints, key: KEY, kubeconfig: await kube.kubeconfig(), gauges: metrics });
});

after(async () => {
  await ctl?.stop();
});

describe("a pass", () => {
  test("judges each volume as ControllerGetVolume does: a change is one Event on its claim, not one per pass; HARestored once when it recovers", async () => {
    const [a, b, c] = [await create("vol-a"), await create("vol-b"), await create("vol-c")];
    blockd.blockTargetStatus.set(`${HV}/vol-b 10.9.0.2`, LOST);
    const first = await ctl.running.health.pass();
    assert.deepEqual([first.volumes, first.checked, first.events], [3, 3, 1]);
    const degraded = events("DegradedHA");
    assert.equal(degraded.length, 1);
    assert.deepEqual(degraded[0]?.involvedObject.name, "claim-vol-b");
    assert.match(degraded[0]?.message ?? "", /10\.9\.0\.2: target-missing \(no LIO objects\)/);
    const g = await ctl.call<ControllerGetVolumeResponse__Output>("ControllerGetVolume", { volume_id: b });
    assert.match(
      degraded[0]?.message ?? "",
      new RegExp(g.status?.volume_condition?.message?.replace(/[.()]/g, "\\$&") ?? "-"),
      "the condition GetVolume reports",
    );
    // again, and ControllerGetVolume in between: the same state, no Event
    await ctl.running.health.pass();
    await ctl.call("ControllerGetVolume", { volume_id: b });
    assert.deepEqual(
      events().map((e) => [e.reason, e.count]),
      [["DegradedHA", 1]],
    );
    blockd.blockTargetStatus.clear();
    const back = await ctl.running.health.pass();
    assert.equal(back.events, 1);
    assert.deepEqual(
      events().map((e) => [e.reason, e.involvedObject.name, e.count]),
      [
        ["DegradedHA", "claim-vol-b", 1],
        ["HARestored", "claim-vol-b", 1],
      ],
    );
    assert.equal(ctl.running.deps.health.degraded, 0);
    for (const id of [a, c]) assert.ok(!events().some((e) => e.message.includes(id)), "healthy volumes: no Event");
  });

  test("a change ControllerGetVolume saw first is not sent again by the pass", async () => {
    const id = await create("vol-a");
    blockd.blockTargetStatus.set(`${HV}/vol-a 10.9.0.2`, LOST);
    await ctl.call("ControllerGetVolume", { volume_id: id });
    const r = await ctl.running.health.pass();
    assert.equal(r.events, 0);
    assert.equal(events("DegradedHA").length, 1);
  });

  test("sets gluster_block_volumes{state} and gluster_block_ha_paths_up{volume}; a deleted volume's series goes", async () => {
    const [a, b, c] = [await create("vol-a"), await create("vol-b"), await create("vol-c")];
    blockd.blockTargetStatus.set(`${HV}/vol-b 10.9.0.2`, LOST);
    const vc = blockd.block(HV, "vol-c");
    assert.ok(vc);
    vc.state = "creating";
    await create("vol-d");
    blockd.unreadable.set(`${HV}/vol-d`, "line 3: not a journal line");
    await ctl.running.health.pass();
    assert.deepEqual(await gauge("gluster_block_volumes"), { ready: 1, degraded: 1, creating: 1, unreadable: 1 });
    assert.deepEqual(await gauge("gluster_block_ha_paths_up"), { [a]: 3, [b]: 2, [c]: 3 });
    await ctl.call("DeleteVolume", { volume_id: a });
    await ctl.running.health.pass();
    assert.deepEqual(await gauge("gluster_block_ha_paths_up"), { [b]: 2, [c]: 3 });
    assert.deepEqual(await gauge("gluster_block_volumes"), { degraded: 1, creating: 1, unreadable: 1 });
  });

  test("a creating or deleting block is no HA change: no Event", async () => {
    await create("vol-a");
    const b = blockd.block(HV, "vol-a");
    assert.ok(b);
    b.state = "creating";
    b.exportedOn = [];
    const r = await ctl.running.health.pass();
    assert.equal(r.events, 0);
    assert.deepEqual(events(), []);
  });
});

describe("bounded", () => {
  test("LIO is checked for at most maxChecks blocks a pass, going on where the last pass stopped; a block not checked keeps its record", async () => {
    for (let i = 0; i < 5; i++) await create(`vol-${i}`);
    blockd.blockTargetStatus.set(`${HV}/vol-1 10.9.0.2`, LOST);
    const m = new HealthMonitor(ctl.running.deps, { intervalMs: 0, log: nullLogger, maxChecks: 2 });
    const asked: string[][] = [];
    for (let pass = 0; pass < 3; pass++) {
      blockd.calls.length = 0;
      const r = await m.pass();
      assert.equal(r.checked, 2);
      asked.push(blockd.callsOf("GetTargetStatuses").flatMap((c) => c.request.blocks as string[]));
    }
    assert.deepEqual(asked, [
      ["vol-0", "vol-1"],
      ["vol-2", "vol-3"],
      ["vol-4", "vol-0"],
    ]);
    // vol-1 was found degraded in the first pass, not checked since: still recorded, no HARestored
    assert.equal(events("DegradedHA").length, 1);
    assert.equal(events("HARestored").length, 0);
    assert.equal(ctl.running.deps.health.degraded, 1);
  });

  test("at most maxEvents Events a pass; the other changes are sent by the next", async () => {
    for (let i = 0; i < 5; i++) await create(`vol-${i}`);
    blockd.targetStatus.set("10.9.0.2", LOST);
    const m = new HealthMonitor(ctl.running.deps, { intervalMs: 0, log: nullLogger, maxEvents: 2 });
    const sent = [];
    for (let pass = 0; pass < 3; pass++) {
      const r = await m.pass();
      sent.push([r.events, r.deferred]);
    }
    assert.deepEqual(sent, [
      [2, 3],
      [2, 1],
      [1, 0],
    ]);
    assert.equal(events("DegradedHA").length, 5);
  });

  test("memory: a deleted volume is forgotten; a hosting volume that cannot be listed forgets nothing", async () => {
    const [a, b] = [await create("vol-a"), await create("vol-b")];
    blockd.targetStatus.set("10.9.0.2", LOST);
    await ctl.running.health.pass();
    assert.equal(ctl.running.deps.health.degraded, 2);
    blockd.failNext.set("ListBlocks", new StatusError(status.FAILED_PRECONDITION, `volume ${HV} is not started`));
    await ctl.running.health.pass();
    assert.equal(ctl.running.deps.health.degraded, 2, "not listed: nothing is known to be gone");
    await ctl.call("DeleteVolume", { volume_id: a });
    assert.equal(ctl.running.deps.health.degraded, 1, "DeleteVolume forgets it at once");
    blockd.volumes.get(HV)?.blocks.delete("vol-b"); // gone behind the controller's back
    await ctl.running.health.pass();
    assert.equal(ctl.running.deps.health.degraded, 0);
    assert.ok(b);
  });

  test("a restarted controller sends each degraded volume's DegradedHA once more: the same Event, its count raised", async () => {
    await create("vol-a");
    blockd.blockTargetStatus.set(`${HV}/vol-a 10.9.0.2`, LOST);
    await ctl.running.health.pass();
    await ctl.stop();
    // it knows the hosting volume from a StorageClass, as a chart install does (it has seen no CreateVolume)
    kube.storageClasses = [{ metadata: { name: "sc" }, provisioner: "block.csi.gluster.org", parameters: { hostingVolume: HV } }];
    ctl = await startController({ endpoints: blockd.endpoints, key: KEY, kubeconfig: await kube.kubeconfig() });
    try {
      await ctl.running.health.pass();
      await ctl.running.health.pass();
    } finally {
      kube.storageClasses = [];
    }
    assert.deepEqual(
      events().map((e) => [e.reason, e.count]),
      [["DegradedHA", 2]],
    );
  });
});

describe("the timer", () => {
  test("runs passes on its own, jittered inside the interval, one at a time; stop() ends them", async () => {
    await create("vol-a");
    const m = new HealthMonitor(ctl.running.deps, { intervalMs: 200, log: nullLogger, random: () => 0 });
    blockd.calls.length = 0;
    m.start();
    for (let i = 0; i < 500 && blockd.callsOf("ListBlocks").length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    await m.stop();
    const lists = blockd.callsOf("ListBlocks").length;
    assert.ok(lists >= 3, `three passes ran (${lists})`);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(blockd.callsOf("ListBlocks").length, lists, "none after stop()");
  });

  test("interval 0 is off: start() schedules nothing", async () => {
    await create("vol-a");
    blockd.calls.length = 0;
    const m = new HealthMonitor(ctl.running.deps, { intervalMs: 0, log: nullLogger });
    m.start();
    await new Promise((r) => setTimeout(r, 100));
    await m.stop();
    assert.deepEqual(blockd.callsOf("ListBlocks"), []);
  });
});
