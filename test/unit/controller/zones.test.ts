// The controller's zone rules on their own: requirements read as zones, the
// HA set chosen within them, the storage nodes' zones and a volume's.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { status } from "@grpc/grpc-js";
import { zoneRequirement, meetsRequirement, type ZoneRequirement } from "../../../src/controller/zone-requirement.js";
import { chooseInZones } from "../../../src/controller/zone-placement.js";
import { StorageZones } from "../../../src/controller/storage-zones.js";
import { volumeZones } from "../../../src/controller/volume-zones.js";
import { rankNodes } from "../../../src/controller/placement.js";
import type { NodeLoad } from "../../../src/controller/blockd-client.js";
import type { PoolMember } from "../../../src/controller/discovery.js";
import { StatusError } from "../../../src/rpc/errors.js";

const KEY = "topology.block.csi.gluster.org/zone";
const seg = (zone: string, key = KEY) => ({ segments: { [key]: zone } });
const codeOf = (f: () => unknown): number => {
  try {
    f();
  } catch (err) {
    return err instanceof StatusError ? err.code : -1;
  }
  return status.OK;
};

describe("zoneRequirement", () => {
  test("requisite and preferred as zones, in order, each once; preferred only within requisite", () => {
    assert.deepEqual(zoneRequirement({ requisite: [seg("a"), seg("b"), seg("a")], preferred: [seg("b"), seg("c"), seg("a")] }, KEY), {
      requisite: ["a", "b"],
      preferred: ["b", "a"],
    });
  });

  test("nothing that constrains is no requirement: none, empty lists, empty segments", () => {
    assert.equal(zoneRequirement(null, KEY), undefined);
    assert.equal(zoneRequirement({ requisite: [], preferred: [] }, KEY), undefined);
    assert.equal(zoneRequirement({ requisite: [{ segments: {} }], preferred: [{ segments: {} }] }, KEY), undefined);
  });

  test("preferences alone: anywhere, those first", () => {
    assert.deepEqual(zoneRequirement({ requisite: [], preferred: [seg("b")] }, KEY), { preferred: ["b"] });
  });

  test("another key, alone or beside ours, or a value that is no label value: INVALID_ARGUMENT", () => {
    assert.equal(
      codeOf(() => zoneRequirement({ requisite: [seg("a", "topology.kubernetes.io/zone")], preferred: [] }, KEY)),
      status.INVALID_ARGUMENT,
    );
    assert.equal(
      codeOf(() => zoneRequirement({ requisite: [{ segments: { [KEY]: "a", rack: "r1" } }], preferred: [] }, KEY)),
      status.INVALID_ARGUMENT,
    );
    assert.equal(
      codeOf(() => zoneRequirement({ requisite: [], preferred: [seg("a b")] }, KEY)),
      status.INVALID_ARGUMENT,
    );
    assert.equal(
      codeOf(() => zoneRequirement({ requisite: [seg("")], preferred: [] }, KEY)),
      status.INVALID_ARGUMENT,
    );
  });

  test("meetsRequirement: a volume in one requisite zone is usable; one confined to no zone is usable anywhere", () => {
    const r: ZoneRequirement = { requisite: ["a"], preferred: ["a"] };
    assert.equal(meetsRequirement(["b", "a"], r), true);
    assert.equal(meetsRequirement(["b"], r), false);
    assert.equal(meetsRequirement(undefined, r), true);
    assert.equal(meetsRequirement(["b"], { preferred: ["a"] }), true);
    assert.equal(meetsRequirement(["b"], undefined), true);
  });
});

const node = (host: string, activePaths = 0, ready = true): NodeLoad => ({ endpoint: `${host}:24010`, host, activePaths, targets: 0, ready });

describe("chooseInZones", () => {
  const zoneOfHost: Record<string, string | undefined> = { "10.0.0.1": "a", "10.0.0.2": "a", "10.0.0.3": "b", "10.0.0.4": undefined };
  const zoneOf = (n: NodeLoad): string | undefined => zoneOfHost[n.host];
  const ranked = rankNodes([node("10.0.0.1", 2), node("10.0.0.2", 1), node("10.0.0.3", 3), node("10.0.0.4", 0)]);
  const hosts = (r: ZoneRequirement, ha: number): string[] | undefined => chooseInZones(ranked, ha, zoneOf, r)?.map((n) => n.host);

  test("the preferred zones in order, each by load; then the rest of requisite; the node in no zone only without requisite", () => {
    assert.deepEqual(hosts({ requisite: ["a", "b"], preferred: ["b", "a"] }, 1), ["10.0.0.3"]);
    assert.deepEqual(hosts({ requisite: ["a", "b"], preferred: ["b", "a"] }, 3), ["10.0.0.3", "10.0.0.2", "10.0.0.1"]);
    assert.deepEqual(hosts({ requisite: ["a", "b"], preferred: [] }, 2), ["10.0.0.2", "10.0.0.1"], "requisite alone: by load");
    assert.deepEqual(hosts({ requisite: ["a"], preferred: ["a"] }, 2), ["10.0.0.2", "10.0.0.1"]);
    assert.equal(hosts({ requisite: ["a"], preferred: ["a"] }, 3), undefined, "the idle node in no zone is not taken");
    assert.equal(hosts({ requisite: ["a", "b"], preferred: ["a", "b"] }, 4), undefined);
    assert.deepEqual(hosts({ preferred: ["b"] }, 2), ["10.0.0.3", "10.0.0.4"], "preferences alone: then anywhere, by load");
  });

  test("property: the HA set is ha distinct live nodes, all in requisite zones, the preferred zone's as many as it has", () => {
    const zones = ["a", "b", "c"];
    fc.assert(
      fc.property(
        fc.array(fc.record({ zone: fc.option(fc.constantFrom(...zones), { nil: undefined }), load: fc.nat(5), ready: fc.boolean() }), { maxLength: 8 }),
        fc.subarray(zones, { minLength: 1 }),
        fc.integer({ min: 1, max: 4 }),
        (spec, requisite, ha) => {
          const all = spec.map((s, i) => node(`10.0.1.${i + 1}`, s.load, s.ready));
          const zoneAt = new Map(all.map((n, i) => [n.host, spec[i]?.zone]));
          const z = (n: NodeLoad): string | undefined => zoneAt.get(n.host);
          const live = rankNodes(all);
          const preferred = [...requisite].reverse();
          const chosen = chooseInZones(live, ha, z, { requisite, preferred });
          const eligible = live.filter((n) => requisite.includes(z(n) ?? ""));
          if (eligible.length < ha) return chosen === undefined;
          if (!chosen || chosen.length !== ha || new Set(chosen.map((n) => n.host)).size !== ha) return false;
          if (!chosen.every((n) => n.ready && requisite.includes(z(n) ?? ""))) return false;
          const first = preferred[0];
          const inFirst = live.filter((n) => z(n) === first).length;
          return chosen.filter((n) => z(n) === first).length === Math.min(ha, inFirst);
        },
      ),
    );
  });
});

describe("StorageZones and volumeZones", () => {
  const pool: PoolMember[] = [
    { name: "b-1", endpoint: "10.0.0.1:24010", address: "10.0.0.1", zone: "a" },
    { name: "b-2", endpoint: "10.0.0.2:24010", address: "10.0.0.2", zone: "b" },
    { name: "b-3", notCounted: "phase Pending", address: "fd00::3", zone: "b" },
    { name: "b-4", endpoint: "10.0.0.4:24010", address: "10.0.0.4" },
  ];
  // blockd's own address may differ from the pod's host IP: the live node that answers from the endpoint says
  const live = [{ ...node("10.0.0.1"), host: "192.168.0.1" }, node("10.0.0.4")];
  const zones = new StorageZones(pool, live);

  test("a host's zone through its live node, else its pod's host IP; a node in no zone; an address nobody is at", () => {
    assert.deepEqual(zones.ofHost("192.168.0.1"), { zone: "a" });
    assert.deepEqual(zones.ofHost("10.0.0.2"), { zone: "b" }, "not answering: its pod's host IP");
    assert.deepEqual(zones.ofHost("fd00:0::3"), { zone: "b" }, "IPv6 compared canonically");
    assert.deepEqual(zones.ofHost("10.0.0.4"), {});
    assert.equal(zones.ofHost("10.0.0.9"), undefined);
    assert.equal(zones.ofLoad(live[0] ?? node("x")), "a");
    assert.deepEqual(
      zones.membersIn(["b"]).map((m) => m.name),
      ["b-2", "b-3"],
      "unready ones too: what the zone can ever hold",
    );
    assert.deepEqual(
      zones.zoneless().map((m) => m.name),
      ["b-4"],
    );
  });

  test("a volume's zones: its hosts', in order, each once; none when a host is in no zone; UNAVAILABLE when a host cannot be found", () => {
    assert.deepEqual(volumeZones(zones, ["10.0.0.2", "192.168.0.1", "fd00::3"]), ["b", "a"]);
    assert.equal(volumeZones(zones, ["10.0.0.2", "10.0.0.4"]), undefined);
    assert.equal(
      codeOf(() => volumeZones(zones, ["10.0.0.2", "10.0.0.9"])),
      status.UNAVAILABLE,
    );
  });
});
