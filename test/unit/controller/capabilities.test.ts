import { test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { StatusError } from "../../../src/rpc/errors.js";
import type { VolumeCapability__Output } from "../../../src/generated/csi/v1/VolumeCapability.js";
import { capabilityProblem, checkCapabilities } from "../../../src/controller/capabilities.js";

type Mode = NonNullable<VolumeCapability__Output["access_mode"]>["mode"];
const mount = (mode: Mode, fs_type = ""): VolumeCapability__Output => ({
  mount: { fs_type, mount_flags: [], volume_mount_group: "" },
  access_mode: { mode },
  access_type: "mount",
});
const block = (mode: Mode): VolumeCapability__Output => ({ block: {}, access_mode: { mode }, access_type: "block" });

test("the three single-node modes and read-only on many nodes are accepted, filesystem and block", () => {
  for (const m of ["SINGLE_NODE_WRITER", "SINGLE_NODE_SINGLE_WRITER", "SINGLE_NODE_READER_ONLY", "MULTI_NODE_READER_ONLY"] as const) {
    assert.equal(capabilityProblem(mount(m, "xfs")), undefined);
    assert.equal(capabilityProblem(block(m)), undefined);
  }
});

test("other access modes, fs types and a missing access type are refused", () => {
  for (const m of ["MULTI_NODE_SINGLE_WRITER", "MULTI_NODE_MULTI_WRITER", "SINGLE_NODE_MULTI_WRITER", "UNKNOWN"] as const) {
    assert.match(capabilityProblem(mount(m)) ?? "", new RegExp(`access mode ${m}`));
  }
  assert.match(capabilityProblem(mount("SINGLE_NODE_WRITER", "btrfs")) ?? "", /fs_type "btrfs"/);
  assert.match(capabilityProblem({ access_mode: { mode: "SINGLE_NODE_WRITER" } }) ?? "", /access_type is required/);
  assert.match(capabilityProblem({ block: {}, access_mode: null, access_type: "block" }) ?? "", /access mode UNKNOWN/);
});

test("checkCapabilities: INVALID_ARGUMENT naming the bad entry; summary of the rest", () => {
  const bad = (caps: VolumeCapability__Output[] | undefined, re: RegExp) =>
    assert.throws(
      () => checkCapabilities(caps),
      (e: unknown) => e instanceof StatusError && e.code === status.INVALID_ARGUMENT && re.test(e.message),
    );
  bad(undefined, /volume_capabilities is required/);
  bad([], /volume_capabilities is required/);
  bad([mount("SINGLE_NODE_WRITER"), mount("MULTI_NODE_MULTI_WRITER")], /volume_capabilities\[1\]/);
  bad([mount("SINGLE_NODE_WRITER", "xfs"), mount("SINGLE_NODE_WRITER", "ext4")], /conflicting fs_type/);
  assert.deepEqual(checkCapabilities([mount("SINGLE_NODE_WRITER", "ext4"), block("SINGLE_NODE_WRITER")]), { block: true, mount: true, fsType: "ext4" });
  assert.deepEqual(checkCapabilities([block("SINGLE_NODE_READER_ONLY")]), { block: true, mount: false, fsType: "" });
});
