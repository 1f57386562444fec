// The driver's topology key and the label rules the zones follow.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isLabelKey, isLabelValue, zoneKey, zoneSegments, ZONE_NODE_LABEL } from "../../../src/csi/topology.js";
import { DEFAULT_DRIVER_NAME } from "../../../src/csi/identity-server.js";

test("the key is the driver's own, a label key the kubelet can write onto the Node, never the standard zone label", () => {
  assert.equal(zoneKey(DEFAULT_DRIVER_NAME), "topology.block.csi.gluster.org/zone");
  assert.equal(zoneKey("block2.csi.example.org"), "topology.block2.csi.example.org/zone");
  assert.ok(isLabelKey(zoneKey(DEFAULT_DRIVER_NAME)));
  // the longest driver name (63 characters) still makes a valid key
  assert.ok(isLabelKey(zoneKey(`${"a".repeat(61)}.b`)));
  assert.notEqual(zoneKey(DEFAULT_DRIVER_NAME), ZONE_NODE_LABEL);
});

test("one segment per zone, in order, each once", () => {
  const key = zoneKey(DEFAULT_DRIVER_NAME);
  assert.deepEqual(zoneSegments(key, ["b", "a", "b"]), [{ segments: { [key]: "b" } }, { segments: { [key]: "a" } }]);
  assert.deepEqual(zoneSegments(key, []), []);
});

test("label keys and values as Kubernetes checks them", () => {
  for (const k of ["topology.kubernetes.io/zone", "zone", "example.org/rack_1", "a.b-c/x.y-z"]) assert.ok(isLabelKey(k), k);
  for (const k of ["", "/zone", "Example.org/zone", "zone a", "example.org/", "-zone", `${"a".repeat(64)}`, "a/b/c"]) assert.ok(!isLabelKey(k), k);
  for (const v of ["", "zone-a", "us-east-1a", "A_b.c", "a".repeat(63)]) assert.ok(isLabelValue(v), v);
  for (const v of ["zone a", "-a", "a-", "a".repeat(64), "a/b"]) assert.ok(!isLabelValue(v), v);
});
