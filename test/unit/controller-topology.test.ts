// Topology end to end over gRPC: the controller with --topology, a fake
// blockd cluster of four nodes (two in zone-a, one in zone-b, one in no
// zone: --blockd-zones names three of the four static endpoints), and
// CreateVolume / GetCapacity called with the requirements and segments
// external-provisioner sends (its README, "Topology support").
import { test, describe, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { FakeBlockd } from "./../doubles/fake-blockd.js";
import { startController, codeOf, mountCap, GiB, type LocalController } from "../../lab/harness/local-controller.js";
import { call } from "../../lab/harness/csi-client.js";
import { parseFlags, UsageError } from "../../src/util/flags.js";
import { CONTROLLER_FLAGS, controllerConfig } from "../../src/controller/config.js";
import { DEFAULT_DRIVER_NAME } from "../../src/csi/identity-server.js";
import { zoneKey } from "../../src/csi/topology.js";
import type { CreateVolumeResponse__Output } from "../../src/generated/csi/v1/CreateVolumeResponse.js";
import type { GetCapacityResponse__Output } from "../../src/generated/csi/v1/GetCapacityResponse.js";
import type { GetPluginCapabilitiesResponse__Output } from "../../src/generated/csi/v1/GetPluginCapabilitiesResponse.js";

const KEY = "unit-test-blockd-key-topology-4d2c";
const HV = "block-hv";
const ZONE = zoneKey(DEFAULT_DRIVER_NAME);
/** n1, n2 in zone-a; n3 in zone-b; n4 in no zone */
const [N1, N2, N3, N4] = ["10.7.0.1", "10.7.0.2", "10.7.0.3", "10.7.0.4"] as const;
const MiBn = 1024n * 1024n;

let blockd: FakeBlockd;
let ctl: LocalController;

const seg = (zone: string, key = ZONE) => ({ segments: { [key]: zone } });
const requirement = (requisite: string[], preferred: string[] = requisite) => ({
  requisite: requisite.map((z) => seg(z)),
  preferred: preferred.map((z) => seg(z)),
});
const createReq = (over: Record<string, unknown> = {}, params: Record<string, string> = {}, name = "pvc-topology-1") => ({
  name,
  capacity_range: { required_bytes: String(GiB) },
  volume_capabilities: [mountCap("xfs")],
  parameters: { hostingVolume: HV, haCount: "1", ...params },
  ...over,
});
const create = (over: Record<string, unknown> = {}, params: Record<string, string> = {}, name?: string) =>
  ctl.call<CreateVolumeResponse__Output>("CreateVolume", createReq(over, params, name));
const hostsOfCreate = (i = -1): string[] => (blockd.callsOf("CreateBlock").at(i)?.request.hosts as string[] | undefined) ?? [];
const zonesOf = (r: CreateVolumeResponse__Output): string[] => (r.volume?.accessible_topology ?? []).map((t) => t.segments[ZONE] ?? "?");
const load = (loads: Partial<Record<string, number>>): void => {
  for (const n of blockd.nodes) n.activePaths = loads[n.host] ?? 0;
};

before(async () => {
  blockd = await new FakeBlockd(KEY).start([N1, N2, N3, N4]);
  const [e1, e2, e3] = blockd.endpoints;
  ctl = await startController({
    endpoints: blockd.endpoints,
    key: KEY,
    flags: ["--default-auth", "false", "--topology", "true", "--blockd-zones", `${e1}=zone-a,${e2}=zone-a,${e3}=zone-b`],
  });
});

after(async () => {
  await ctl?.stop();
  await blockd?.stop();
});

beforeEach(() => {
  blockd.volumes.clear();
  blockd.addVolume(HV);
  blockd.calls.length = 0;
  for (const n of blockd.nodes) Object.assign(n, { activePaths: 0, targets: 0, ready: true });
});

describe("CreateVolume with accessibility requirements", () => {
  test("WaitForFirstConsumer (requisite every zone, the pod's first): haCount 1 lands in the pod's zone, and the topology names it", async () => {
    const r = await create({ accessibility_requirements: requirement(["zone-a", "zone-b"], ["zone-b", "zone-a"]) });
    assert.deepEqual(hostsOfCreate(), [N3]);
    assert.deepEqual(r.volume?.accessible_topology, [{ segments: { [ZONE]: "zone-b" } }]);
    // the pod in zone-a: the less loaded of its two nodes
    load({ [N1]: 5 });
    const a = await create({ accessibility_requirements: requirement(["zone-a", "zone-b"], ["zone-a", "zone-b"]) }, {}, "pvc-topology-2");
    assert.deepEqual(hostsOfCreate(), [N2]);
    assert.deepEqual(zonesOf(a), ["zone-a"]);
  });

  test("the pod's zone short of haCount: its node first (coordinator, active path), then the other allowed zones; the topology names both", async () => {
    const r = await create({ accessibility_requirements: requirement(["zone-a", "zone-b"], ["zone-b", "zone-a"]) }, { haCount: "2" });
    const hosts = hostsOfCreate();
    assert.equal(hosts[0], N3, "the pod's zone's node first");
    assert.ok(hosts[1] === N1 || hosts[1] === N2, `then zone-a: ${hosts.join(",")}`);
    assert.deepEqual(zonesOf(r), ["zone-b", "zone-a"]);
  });

  test("allowedTopologies (requisite zone-a alone): the HA set on zone-a's nodes, never the node in no zone, however idle", async () => {
    load({ [N1]: 3, [N2]: 4, [N3]: 0, [N4]: 0 });
    const r = await create({ accessibility_requirements: requirement(["zone-a"]) }, { haCount: "2" });
    assert.deepEqual(hostsOfCreate(), [N1, N2]);
    assert.deepEqual(zonesOf(r), ["zone-a"]);
  });

  test("fewer storage nodes in the allowed zones than haCount: RESOURCE_EXHAUSTED naming the zone, its nodes and what to change; nothing made", async () => {
    const e = await codeOf(create({ accessibility_requirements: requirement(["zone-a"]) }, { haCount: "3" }));
    assert.equal(e.code, status.RESOURCE_EXHAUSTED, e.details);
    assert.match(
      e.details,
      /haCount 3 needs 3 storage nodes in zone zone-a, which has 2 \(zone-a: 2 \(127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+\); in no zone: 127\.0\.0\.1:\d+;/,
    );
    assert.match(e.details, /lower haCount in the StorageClass, allow more zones/);
    assert.deepEqual(blockd.callsOf("CreateBlock"), []);
    // more than every storage node: INVALID_ARGUMENT first, as without topology
    const all = await codeOf(create({ accessibility_requirements: requirement(["zone-a"]) }, { haCount: "5" }));
    assert.equal(all.code, status.INVALID_ARGUMENT, all.details);
  });

  test("enough nodes in the zone but one down: UNAVAILABLE (retried) naming it, not RESOURCE_EXHAUSTED", async () => {
    await blockd.stopNode(N1);
    try {
      const e = await codeOf(create({ accessibility_requirements: requirement(["zone-a"]) }, { haCount: "2" }));
      assert.equal(e.code, status.UNAVAILABLE, e.details);
      assert.match(e.details, /haCount 2 needs 2 live gluster-blockd nodes in zone zone-a; 1 of 2 answer and are ready/);
      assert.match(e.details, /gluster-blockd does not answer$/);
    } finally {
      await blockd.restartNode(N1);
    }
  });

  test("no requirement: the least-loaded node, one in no zone too; a volume on it is confined to no zone (no accessible_topology)", async () => {
    load({ [N1]: 2, [N2]: 2, [N3]: 2, [N4]: 0 });
    const r = await create();
    assert.deepEqual(hostsOfCreate(), [N4]);
    assert.deepEqual(r.volume?.accessible_topology, []);
    load({ [N1]: 2, [N2]: 2, [N3]: 0, [N4]: 2 });
    const b = await create({}, {}, "pvc-topology-2");
    assert.deepEqual(hostsOfCreate(), [N3]);
    assert.deepEqual(zonesOf(b), ["zone-b"], "every host in a zone: confined to it");
  });

  test("a retry answers the same topology from the block's own hosts, whatever the loads and the preference say now", async () => {
    const req = { accessibility_requirements: requirement(["zone-a", "zone-b"], ["zone-b", "zone-a"]) };
    const first = await create(req, { haCount: "2" });
    load({ [N3]: 50 });
    const again = await create(req, { haCount: "2" });
    assert.deepEqual(again, first);
    assert.deepEqual(hostsOfCreate(-1), hostsOfCreate(0), "converged on the same hosts");
    // the pod now prefers zone-a: the volume is still usable there, so it is the same volume
    assert.deepEqual(await create({ accessibility_requirements: requirement(["zone-a", "zone-b"], ["zone-a", "zone-b"]) }, { haCount: "2" }), first);
    // a requisite the volume's zones miss: a volume of that name, not accessible from it (CSI: ALREADY_EXISTS)
    const other = await codeOf(create({ accessibility_requirements: requirement(["zone-c"]) }, { haCount: "2" }));
    assert.equal(other.code, status.ALREADY_EXISTS, other.details);
    assert.match(other.details, /in zones zone-b, zone-a, which the request does not allow \(zone zone-c\)/);
  });

  test("a retry whose host's blockd is gone cannot tell that host's zone: UNAVAILABLE, never a narrower topology", async () => {
    await create({ accessibility_requirements: requirement(["zone-b"]) });
    await blockd.stopNode(N3);
    try {
      const e = await codeOf(create({ accessibility_requirements: requirement(["zone-b"]) }));
      assert.equal(e.code, status.UNAVAILABLE, e.details);
      assert.match(e.details, /cannot tell the zone of HA host 10\.7\.0\.3/);
    } finally {
      await blockd.restartNode(N3);
    }
  });

  test("a requirement on another key is INVALID_ARGUMENT naming it and the driver's key, before any call", async () => {
    const e = await codeOf(
      create({
        accessibility_requirements: { requisite: [seg("zone-a", "topology.kubernetes.io/zone")], preferred: [seg("zone-a", "topology.kubernetes.io/zone")] },
      }),
    );
    assert.equal(e.code, status.INVALID_ARGUMENT);
    assert.match(
      e.details,
      /requisite\[0\]: topology key "topology\.kubernetes\.io\/zone" is not this driver's; it places volumes by topology\.block\.csi\.gluster\.org\/zone alone/,
    );
    assert.deepEqual(blockd.calls, []);
  });

  test("the class's own hosts: their zones are the topology; outside the allowed zones RESOURCE_EXHAUSTED", async () => {
    const r = await create({ accessibility_requirements: requirement(["zone-a"]) }, { hosts: N1 });
    assert.deepEqual(hostsOfCreate(), [N1]);
    assert.deepEqual(zonesOf(r), ["zone-a"]);
    const e = await codeOf(create({ accessibility_requirements: requirement(["zone-a"]) }, { hosts: N3 }, "pvc-topology-2"));
    assert.equal(e.code, status.RESOURCE_EXHAUSTED);
    assert.match(e.details, /the StorageClass's hosts 10\.7\.0\.3 are in zone zone-b, and the request allows zone zone-a/);
  });
});

describe("GetCapacity per zone: what a volume in that zone could get", () => {
  const capacity = (params: Record<string, string>, segments?: Record<string, string>) =>
    ctl.call<GetCapacityResponse__Output>("GetCapacity", {
      parameters: { hostingVolume: HV, ...params },
      ...(segments ? { accessible_topology: { segments } } : {}),
    });

  test("the hosting volume's room in a zone with haCount storage nodes, 0 in one with fewer or none; no segment: the room", async () => {
    const room = String((blockd.volumes.get(HV)?.freeBytes ?? 0n) - 10n * MiBn);
    assert.equal((await capacity({ haCount: "2" }, { [ZONE]: "zone-a" })).available_capacity, room);
    assert.equal((await capacity({ haCount: "3" }, { [ZONE]: "zone-a" })).available_capacity, "0");
    assert.equal((await capacity({ haCount: "1" }, { [ZONE]: "zone-b" })).available_capacity, room);
    const short = await capacity({ haCount: "2" }, { [ZONE]: "zone-b" });
    assert.equal(short.available_capacity, "0");
    assert.equal(short.maximum_volume_size?.value, "0");
    assert.equal((await capacity({ haCount: "1" }, { [ZONE]: "zone-c" })).available_capacity, "0", "a zone without storage nodes");
    assert.equal((await capacity({ haCount: "3" })).available_capacity, room);
    assert.equal((await capacity({ haCount: "3" }, {})).available_capacity, room);
    assert.deepEqual(blockd.callsOf("GetNodeStatus"), [], "counted from discovery, no fan-out to every blockd");
  });

  test("a segment on another key is INVALID_ARGUMENT, as CreateVolume refuses it", async () => {
    const e = await codeOf(capacity({}, { rack: "r1" }));
    assert.equal(e.code, status.INVALID_ARGUMENT);
    assert.match(e.details, /topology key "rack"/);
  });
});

describe("VOLUME_ACCESSIBILITY_CONSTRAINTS", () => {
  const caps = async (c: LocalController): Promise<string[]> =>
    (await call<GetPluginCapabilitiesResponse__Output>(c.csi.identity, "GetPluginCapabilities", {})).capabilities.map(
      (x) => x.service?.type ?? x.volume_expansion?.type ?? "?",
    );

  test("advertised with --topology; without it neither advertised nor honoured (requirements ignored, no accessible_topology)", async () => {
    assert.ok((await caps(ctl)).includes("VOLUME_ACCESSIBILITY_CONSTRAINTS"));
    const off = await startController({ endpoints: blockd.endpoints, key: KEY, flags: ["--default-auth", "false"] });
    try {
      assert.deepEqual(await caps(off), ["CONTROLLER_SERVICE", "ONLINE"]);
      load({ [N1]: 1, [N2]: 1, [N3]: 1, [N4]: 0 });
      const r = await off.call<CreateVolumeResponse__Output>(
        "CreateVolume",
        createReq({ accessibility_requirements: { requisite: [seg("zone-a", "rack")], preferred: [] } }),
      );
      assert.deepEqual(hostsOfCreate(), [N4]);
      assert.deepEqual(r.volume?.accessible_topology, []);
    } finally {
      await off.stop();
    }
  });
});

describe("flags", () => {
  const cfg = (...argv: string[]) =>
    controllerConfig(parseFlags(["--blockd-insecure-no-auth", "--kube-api", "off", ...argv], CONTROLLER_FLAGS), DEFAULT_DRIVER_NAME, {});

  test("--topology=true reads the zone label (topology.kubernetes.io/zone by default) and the static endpoints' zones", () => {
    assert.equal(cfg().topology, undefined);
    assert.deepEqual(cfg("--topology", "true").topology, { zoneLabel: "topology.kubernetes.io/zone", staticZones: new Map() });
    const c = cfg(
      "--topology",
      "true",
      "--topology-zone-label",
      "example.org/zone",
      "--blockd-endpoints",
      "10.0.0.1:24010,[fd00::2]:24010",
      "--blockd-zones",
      "[fd00::2]:24010=zone-b",
    );
    assert.deepEqual(c.topology, { zoneLabel: "example.org/zone", staticZones: new Map([["[fd00::2]:24010", "zone-b"]]) });
  });

  test("what cannot work stops the program at start (a usage error naming the flag)", () => {
    const bad: [string[], RegExp][] = [
      [["--topology", "yes"], /--topology must be true or false/],
      [["--blockd-endpoints", "10.0.0.1:24010", "--blockd-zones", "10.0.0.1:24010=a"], /--blockd-zones needs --topology=true/],
      [["--topology", "true", "--blockd-zones", "10.0.0.1:24010=a"], /--blockd-zones names the zones of --blockd-endpoints/],
      [
        ["--topology", "true", "--blockd-endpoints", "10.0.0.1:24010", "--blockd-zones", "10.0.0.2:24010=a"],
        /10\.0\.0\.2:24010 is not one of --blockd-endpoints/,
      ],
      [["--topology", "true", "--blockd-endpoints", "10.0.0.1:24010", "--blockd-zones", "10.0.0.1:24010"], /is not endpoint=zone/],
      [["--topology", "true", "--blockd-endpoints", "10.0.0.1:24010", "--blockd-zones", "10.0.0.1:24010=zone a"], /is not endpoint=zone/],
      [["--topology", "true", "--blockd-endpoints", "10.0.0.1:24010", "--blockd-zones", "10.0.0.1:24010=a,10.0.0.1:24010=b"], /names 10\.0\.0\.1:24010 twice/],
      [["--topology", "true", "--topology-zone-label", "zone label"], /--topology-zone-label: "zone label" is not a label key/],
    ];
    for (const [argv, re] of bad)
      assert.throws(
        () => cfg(...argv),
        (e: unknown) => e instanceof UsageError && re.test(e.message),
        argv.join(" "),
      );
  });
});
