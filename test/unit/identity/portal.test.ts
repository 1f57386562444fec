// One text form of an iSCSI portal for LIO, iscsiadm and the volume context.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_ISCSI_PORT, portalOf } from "../../../src/identity/portal.js";

test("portalOf: ip:port, IPv6 in brackets (once)", () => {
  assert.equal(portalOf("10.0.0.1", DEFAULT_ISCSI_PORT), "10.0.0.1:3260");
  assert.equal(portalOf("fd00::1", 3260), "[fd00::1]:3260");
  assert.equal(portalOf("[fd00::1]", 3260), "[fd00::1]:3260");
  assert.equal(portalOf("10.0.0.1", "13260"), "10.0.0.1:13260");
});
