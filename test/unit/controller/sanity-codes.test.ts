// The Controller specs of csi-sanity v5.3.1 (kubernetes-csi/csi-test
// pkg/sanity/controller.go) that check a gRPC code, with its requests as it
// sends them over gRPC: its generated IDs ("fake-vol-id-"/"fake-node-id-" + 10
// characters of a UUID, "fake-vol-id" as the invalid one), the fields it leaves
// out. Required fields first (INVALID_ARGUMENT), then what the IDs name
// (NOT_FOUND); a request refused changes nothing on blockd.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { controllerOverFakes } from "../../doubles/controller-over-fakes.js";
import { codeOf, mountCap, GiB } from "../../../lab/harness/local-controller.js";
import type { CreateVolumeResponse__Output } from "../../../src/generated/csi/v1/CreateVolumeResponse.js";

const KEY = "unit-test-blockd-key-sanity-9a8b";
const HV = "block-hv";
const HOSTS = ["10.9.0.1", "10.9.0.2", "10.9.0.3"];
/** what NodeGetInfo answers on a node of ours */
const NODE = "worker-1/iqn.1993-08.org.debian:01:worker1";
/** DefaultIDGenerator: unique "valid" IDs of no volume or node of ours, and its "invalid" volume ID */
const FAKE_VOLUME_ID = "fake-vol-id-1f0e2d3c-4";
const FAKE_NODE_ID = "fake-node-id-5b6a7c8d-9";
const INVALID_VOLUME_ID = "fake-vol-id";
/** TestVolumeCapabilityWithAccessType(SINGLE_NODE_WRITER), access type mount */
const CAP = mountCap();
/** csi-sanity's --csi.testvolumeparameters for this driver */
const PARAMETERS = { hostingVolume: HV };

const f = controllerOverFakes({ key: KEY, hosts: HOSTS, volumes: [HV] });

const createVolume = async (name: string): Promise<string> =>
  (await f.ctl.call<CreateVolumeResponse__Output>("CreateVolume", { name, volume_capabilities: [CAP], parameters: PARAMETERS })).volume?.volume_id ?? "";

/** The code of a call that must fail; blockd saw no call that changes state. */
async function refused(method: string, req: Record<string, unknown>): Promise<string> {
  const before = f.blockd.mutations().length;
  const { code } = await codeOf(f.ctl.call(method, req));
  assert.deepEqual(
    f.blockd
      .mutations()
      .slice(before)
      .map((c) => c.method),
    [],
    "nothing changed on blockd",
  );
  return status[code] ?? String(code);
}

describe("csi-sanity v5.3.1 Controller specs: the code each expects", () => {
  test("CreateVolume should fail when no name / no volume capabilities are provided", async () => {
    assert.equal(await refused("CreateVolume", { volume_capabilities: [CAP], parameters: PARAMETERS }), "INVALID_ARGUMENT");
    assert.equal(await refused("CreateVolume", { name: "sanity-controller-create-no-caps", parameters: PARAMETERS }), "INVALID_ARGUMENT");
  });

  test("CreateVolume should fail when requesting to create a volume with already existing name and different capacity", async () => {
    const name = "sanity-controller-create-twice-different";
    await f.ctl.call("CreateVolume", { name, volume_capabilities: [CAP], parameters: PARAMETERS, capacity_range: { required_bytes: String(GiB) } });
    assert.equal(
      await refused("CreateVolume", {
        name,
        volume_capabilities: [CAP],
        parameters: PARAMETERS,
        capacity_range: { required_bytes: String(2 * GiB), limit_bytes: String(2 * GiB) },
      }),
      "ALREADY_EXISTS",
    );
  });

  test("DeleteVolume should fail when no volume id is provided; should succeed when an invalid volume id is used", async () => {
    assert.equal(await refused("DeleteVolume", {}), "INVALID_ARGUMENT");
    await f.ctl.call("DeleteVolume", { volume_id: INVALID_VOLUME_ID });
  });

  test("ValidateVolumeCapabilities: no volume id, no capabilities (of a volume that exists): INVALID_ARGUMENT; a volume that does not exist: NOT_FOUND", async () => {
    assert.equal(await refused("ValidateVolumeCapabilities", {}), "INVALID_ARGUMENT");
    const id = await createVolume("sanity-controller-validate-nocaps");
    assert.equal(await refused("ValidateVolumeCapabilities", { volume_id: id }), "INVALID_ARGUMENT");
    assert.equal(await refused("ValidateVolumeCapabilities", { volume_id: FAKE_VOLUME_ID, volume_capabilities: [CAP] }), "NOT_FOUND");
  });

  test("ControllerPublishVolume: no volume id, no node id, no volume capability: INVALID_ARGUMENT, before the IDs are looked up", async () => {
    assert.equal(await refused("ControllerPublishVolume", {}), "INVALID_ARGUMENT");
    assert.equal(await refused("ControllerPublishVolume", { volume_id: FAKE_VOLUME_ID }), "INVALID_ARGUMENT");
    assert.equal(await refused("ControllerPublishVolume", { volume_id: FAKE_VOLUME_ID, node_id: FAKE_NODE_ID }), "INVALID_ARGUMENT");
  });

  test("ControllerPublishVolume should fail when the volume does not exist / when the node does not exist: NOT_FOUND", async () => {
    assert.equal(await refused("ControllerPublishVolume", { volume_id: FAKE_VOLUME_ID, node_id: FAKE_NODE_ID, volume_capability: CAP }), "NOT_FOUND");
    const id = await createVolume("sanity-controller-wrong-node");
    assert.equal(await refused("ControllerPublishVolume", { volume_id: id, node_id: FAKE_NODE_ID, volume_capability: CAP }), "NOT_FOUND");
  });

  test("ControllerPublishVolume should fail when the volume is already published but is incompatible: ALREADY_EXISTS", async () => {
    const id = await createVolume("sanity-controller-published-incompatible");
    await f.ctl.call("ControllerPublishVolume", { volume_id: id, node_id: NODE, volume_capability: CAP, readonly: false });
    assert.equal(await refused("ControllerPublishVolume", { volume_id: id, node_id: NODE, volume_capability: CAP, readonly: true }), "ALREADY_EXISTS");
  });

  test("ControllerUnpublishVolume should fail when no volume id is provided; IDs that name nothing are OK (CSI: regarded as unpublished)", async () => {
    assert.equal(await refused("ControllerUnpublishVolume", {}), "INVALID_ARGUMENT");
    await f.ctl.call("ControllerUnpublishVolume", { volume_id: FAKE_VOLUME_ID, node_id: FAKE_NODE_ID });
    const id = await createVolume("sanity-controller-unpublish-fake-node");
    await f.ctl.call("ControllerUnpublishVolume", { volume_id: id, node_id: FAKE_NODE_ID });
    assert.equal(f.blockd.callsOf("SetInitiatorAccess").length, 0);
  });

  test("ControllerExpandVolume should fail if no volume id / no capacity range is given: INVALID_ARGUMENT; a volume that does not exist: NOT_FOUND", async () => {
    assert.equal(await refused("ControllerExpandVolume", { capacity_range: { required_bytes: String(2 * GiB) } }), "INVALID_ARGUMENT");
    assert.equal(await refused("ControllerExpandVolume", {}), "INVALID_ARGUMENT");
    assert.equal(await refused("ControllerExpandVolume", { volume_id: FAKE_VOLUME_ID }), "INVALID_ARGUMENT");
    assert.equal(await refused("ControllerExpandVolume", { volume_id: FAKE_VOLUME_ID, capacity_range: { required_bytes: String(2 * GiB) } }), "NOT_FOUND");
  });

  test("ControllerGetVolume (CSI spec, not in v5.3.1's specs): no volume id INVALID_ARGUMENT, a volume that does not exist NOT_FOUND", async () => {
    assert.equal(await refused("ControllerGetVolume", {}), "INVALID_ARGUMENT");
    assert.equal(await refused("ControllerGetVolume", { volume_id: FAKE_VOLUME_ID }), "NOT_FOUND");
  });
});
