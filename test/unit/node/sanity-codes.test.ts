// The Node specs of csi-sanity v5.3.1 (kubernetes-csi/csi-test pkg/sanity/node.go)
// that check a gRPC code, with its requests as it sends them: its generated IDs
// ("fake-vol-id-" + 10 characters of a UUID), its "some/path" volume_path, the
// fields it leaves out at their protobuf defaults. A required field missing is
// INVALID_ARGUMENT before anything is looked up; a volume that does not exist
// (an ID not of our form, or not at the path given) is NOT_FOUND; nothing runs.
import { test, describe, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { Metadata, status } from "@grpc/grpc-js";
import { FakeHost } from "../../doubles/fake-host.js";
import { gbidFor } from "../../doubles/names.js";
import { makeNodeDeps } from "../../../src/node/node-deps.js";
import { nodeServer } from "../../../src/node/node-server.js";
import { mapNodeError } from "../../../src/node/errors.js";
import { toStatusError, type RpcContext } from "../../../src/rpc/rpc.js";
import { nullLogger } from "../../../src/util/log.js";
import { iqnFor, wwidFor } from "../../../src/identity/names.js";
import { toVolumeContext } from "../../../src/csi/volume-context.js";
import type { NodeGetVolumeStatsRequest__Output } from "../../../src/generated/csi/v1/NodeGetVolumeStatsRequest.js";
import type { NodeExpandVolumeRequest__Output } from "../../../src/generated/csi/v1/NodeExpandVolumeRequest.js";
import type { NodePublishVolumeRequest__Output } from "../../../src/generated/csi/v1/NodePublishVolumeRequest.js";
import type { NodeStageVolumeRequest__Output } from "../../../src/generated/csi/v1/NodeStageVolumeRequest.js";

const VOL = "block-test";
const BLOCK = "pvc-sanity";
const GBID = gbidFor(VOL, BLOCK);
const IQN = iqnFor(GBID);
const WWID = wwidFor(GBID);
const VOLUME_ID = `v1/${VOL}/${BLOCK}`;
const PORTALS = ["10.0.0.1:3260", "10.0.0.2:3260", "10.0.0.3:3260"];
const CHAP = { username: GBID, password: "sanity-chap-password-77" };
/** DefaultIDGenerator.GenerateUniqueValidVolumeID */
const FAKE_VOLUME_ID = "fake-vol-id-1f0e2d3c-4";
/** what csi-sanity sends as the volume_path of a volume it expects not to find */
const SOME_PATH = "some/path";

const ctx: RpcContext = { requestId: "t", method: "test", log: nullLogger, peer: "unix:test", outgoing: new Metadata(), signal: new AbortController().signal };
const mountCap = {
  mount: { fs_type: "", mount_flags: [], volume_mount_group: "" },
  access_mode: { mode: "SINGLE_NODE_WRITER" as const },
  access_type: "mount" as const,
};

// requests as grpc-js decodes them: every field csi-sanity leaves out at its default
const statsReq = (r: Partial<NodeGetVolumeStatsRequest__Output>): NodeGetVolumeStatsRequest__Output => ({
  volume_id: "",
  volume_path: "",
  staging_target_path: "",
  ...r,
});
const expandReq = (r: Partial<NodeExpandVolumeRequest__Output>): NodeExpandVolumeRequest__Output => ({
  volume_id: "",
  volume_path: "",
  capacity_range: null,
  staging_target_path: "",
  volume_capability: null,
  secrets: {},
  ...r,
});
const publishReq = (r: Partial<NodePublishVolumeRequest__Output>): NodePublishVolumeRequest__Output => ({
  volume_id: "",
  publish_context: {},
  staging_target_path: "",
  target_path: "",
  volume_capability: null,
  readonly: false,
  secrets: {},
  volume_context: {},
  ...r,
});
const stageReq = (r: Partial<NodeStageVolumeRequest__Output>): NodeStageVolumeRequest__Output => ({
  volume_id: "",
  publish_context: {},
  staging_target_path: "",
  volume_capability: null,
  secrets: {},
  volume_context: {},
  ...r,
});

let host: FakeHost;
let srv: ReturnType<typeof nodeServer>;
const stagingPath = (): string => host.kubelet("plugins/kubernetes.io/csi/block.csi.gluster.org/sanity/globalmount");
const targetPath = (): string => host.kubelet("pods/sanity/volumes/kubernetes.io~csi/pv/mount");

beforeEach(async () => {
  host = await FakeHost.create();
  host.addTarget({ iqn: IQN, portals: PORTALS, wwid: WWID, sizeBytes: 64 * 1024 * 1024, chap: CHAP });
  const deps = makeNodeDeps(host.exec, host.paths, nullLogger, { sysfsWriter: host.sysfsWriter, allPathsWaitMs: 300, pollMs: 10, budgetMs: 5_000 });
  srv = nodeServer(deps, { nodeName: "worker1", maxVolumesPerNode: 64, topology: () => Promise.resolve({}) });
});
afterEach(async () => {
  await host.cleanup();
});

async function codeOf(p: Promise<unknown>): Promise<status> {
  try {
    await p;
  } catch (err) {
    return toStatusError(err, mapNodeError).code;
  }
  return status.OK;
}

describe("csi-sanity v5.3.1 Node specs: the code each expects, and nothing runs", () => {
  const specs: [string, () => Promise<unknown>, status][] = [
    ["NodePublishVolume should fail when no volume id is provided", () => srv.NodePublishVolume!(publishReq({}), ctx), status.INVALID_ARGUMENT],
    [
      "NodePublishVolume should fail when no target path is provided",
      () => srv.NodePublishVolume!(publishReq({ volume_id: FAKE_VOLUME_ID }), ctx),
      status.INVALID_ARGUMENT,
    ],
    [
      "NodePublishVolume should fail when no volume capability is provided",
      () => srv.NodePublishVolume!(publishReq({ volume_id: FAKE_VOLUME_ID, target_path: "/tmp/csi-mount/target" }), ctx),
      status.INVALID_ARGUMENT,
    ],
    [
      "NodeUnpublishVolume should fail when no volume id is provided",
      () => srv.NodeUnpublishVolume!({ volume_id: "", target_path: "" }, ctx),
      status.INVALID_ARGUMENT,
    ],
    [
      "NodeUnpublishVolume should fail when no target path is provided",
      () => srv.NodeUnpublishVolume!({ volume_id: FAKE_VOLUME_ID, target_path: "" }, ctx),
      status.INVALID_ARGUMENT,
    ],
    [
      "NodeStageVolume should fail when no volume id is provided",
      () =>
        srv.NodeStageVolume!(stageReq({ staging_target_path: "/tmp/csi-staging", volume_capability: mountCap, publish_context: { device: "/dev/mock" } }), ctx),
      status.INVALID_ARGUMENT,
    ],
    [
      "NodeStageVolume should fail when no staging target path is provided",
      () => srv.NodeStageVolume!(stageReq({ volume_id: FAKE_VOLUME_ID, volume_capability: mountCap, publish_context: { device: "/dev/mock" } }), ctx),
      status.INVALID_ARGUMENT,
    ],
    [
      "NodeStageVolume should fail when no volume capability is provided",
      () => srv.NodeStageVolume!(stageReq({ volume_id: VOLUME_ID, staging_target_path: "/tmp/csi-staging", publish_context: { device: "/dev/mock" } }), ctx),
      status.INVALID_ARGUMENT,
    ],
    [
      "NodeUnstageVolume should fail when no volume id is provided",
      () => srv.NodeUnstageVolume!({ volume_id: "", staging_target_path: "/tmp/csi-staging" }, ctx),
      status.INVALID_ARGUMENT,
    ],
    [
      "NodeUnstageVolume should fail when no staging target path is provided",
      () => srv.NodeUnstageVolume!({ volume_id: FAKE_VOLUME_ID, staging_target_path: "" }, ctx),
      status.INVALID_ARGUMENT,
    ],
    [
      "NodeGetVolumeStats should fail when no volume id is provided",
      () => srv.NodeGetVolumeStats!(statsReq({ volume_path: SOME_PATH }), ctx),
      status.INVALID_ARGUMENT,
    ],
    [
      "NodeGetVolumeStats should fail when no volume path is provided",
      () => srv.NodeGetVolumeStats!(statsReq({ volume_id: FAKE_VOLUME_ID }), ctx),
      status.INVALID_ARGUMENT,
    ],
    [
      "NodeGetVolumeStats should fail when volume is not found",
      () => srv.NodeGetVolumeStats!(statsReq({ volume_id: FAKE_VOLUME_ID, volume_path: SOME_PATH }), ctx),
      status.NOT_FOUND,
    ],
    [
      "NodeExpandVolume should fail when no volume id is provided",
      () => srv.NodeExpandVolume!(expandReq({ volume_path: "/tmp/csi-mount", volume_capability: mountCap }), ctx),
      status.INVALID_ARGUMENT,
    ],
    [
      "NodeExpandVolume should fail when no volume path is provided",
      () => srv.NodeExpandVolume!(expandReq({ volume_id: VOLUME_ID, volume_capability: mountCap }), ctx),
      status.INVALID_ARGUMENT,
    ],
    [
      "NodeExpandVolume should fail when volume is not found",
      () => srv.NodeExpandVolume!(expandReq({ volume_id: FAKE_VOLUME_ID, volume_path: SOME_PATH }), ctx),
      status.NOT_FOUND,
    ],
  ];
  for (const [name, call, code] of specs) {
    test(name, async () => {
      assert.equal(status[await codeOf(call())], status[code]);
      assert.deepEqual(host.calls, [], "no program ran");
      assert.deepEqual(await host.listDir("var/lib/gluster-block-csi/volumes"), [], "no record written");
    });
  }
});

describe("a volume staged and published here, asked about at a path it is not at", () => {
  beforeEach(async () => {
    const volume_context = toVolumeContext({
      iqn: IQN,
      portals: PORTALS,
      lun: 0,
      hostingVolume: VOL,
      gbid: GBID,
      ha: 3,
      wwid: WWID,
      fsType: "xfs",
      auth: true,
    });
    await srv.NodeStageVolume!(
      stageReq({ volume_id: VOLUME_ID, staging_target_path: stagingPath(), volume_capability: mountCap, secrets: CHAP, volume_context }),
      ctx,
    );
    await srv.NodePublishVolume!(
      publishReq({ volume_id: VOLUME_ID, staging_target_path: stagingPath(), target_path: targetPath(), volume_capability: mountCap }),
      ctx,
    );
    host.calls.length = 0;
  });

  test("NodeGetVolumeStats should fail when volume does not exist on the specified path: NOT_FOUND, and no program runs", async () => {
    const err = await srv.NodeGetVolumeStats!(statsReq({ volume_id: VOLUME_ID, volume_path: SOME_PATH }), ctx).catch((e: unknown) => e);
    assert.equal(status[toStatusError(err, mapNodeError).code], "NOT_FOUND");
    assert.match(String((err as Error).message), /no volume is staged or published at volume_path "some\/path": it is not an absolute path/);
    assert.deepEqual(host.calls, []);
  });

  test("an absolute volume_path that does not exist is NOT_FOUND, saying so", async () => {
    const err = await srv.NodeGetVolumeStats!(statsReq({ volume_id: VOLUME_ID, volume_path: "/no/such/path" }), ctx).catch((e: unknown) => e);
    assert.equal(status[toStatusError(err, mapNodeError).code], "NOT_FOUND");
    assert.match(String((err as Error).message), /is not at \/no\/such\/path: no such path/);
  });

  test("a volume_path with .. is NOT_FOUND for stats and expand; the volume's own paths answer", async () => {
    const climbing = `${targetPath()}/../mount`;
    assert.equal(status[await codeOf(srv.NodeGetVolumeStats!(statsReq({ volume_id: VOLUME_ID, volume_path: climbing }), ctx))], "NOT_FOUND");
    assert.equal(status[await codeOf(srv.NodeExpandVolume!(expandReq({ volume_id: VOLUME_ID, volume_path: climbing }), ctx))], "NOT_FOUND");
    assert.deepEqual(host.calls, []);
    const stats = await srv.NodeGetVolumeStats!(statsReq({ volume_id: VOLUME_ID, volume_path: targetPath() }), ctx);
    assert.ok(stats.usage?.some((u) => u.unit === "BYTES"));
  });
});
