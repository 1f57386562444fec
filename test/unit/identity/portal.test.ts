// One text form of an iSCSI portal for LIO, iscsiadm and the volume context.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_ISCSI_PORT, portalOf, splitPortal } from "../../../src/identity/portal.js";

test("portalOf: ip:port, IPv6 in brackets (once)", () => {
  assert.equal(portalOf("10.0.0.1", DEFAULT_ISCSI_PORT), "10.0.0.1:3260");
  assert.equal(portalOf("fd00::1", 3260), "[fd00::1]:3260");
  assert.equal(portalOf("[fd00::1]", 3260), "[fd00::1]:3260");
  assert.equal(portalOf("10.0.0.1", "13260"), "10.0.0.1:13260");
});

test("splitPortal: the host and port of what portalOf makes; anything else undefined", () => {
  assert.deepEqual(splitPortal("10.0.0.1:3260"), { host: "10.0.0.1", port: 3260 });
  assert.deepEqual(splitPortal("[fd00::1]:3260"), { host: "fd00::1", port: 3260 });
  assert.deepEqual(splitPortal(portalOf("fd00::1", 13260)), { host: "fd00::1", port: 13260 });
  for (const bad of ["host-a", "10.0.0.1", "fd00::1:3260", "10.0.0.1:0", "10.0.0.1:65536", "[fd00::1]", ":3260", "[x]:3260"])
    assert.equal(splitPortal(bad), undefined, bad);
});
