// ControllerUnpublishVolume as the external-attacher repeats it after a
// detach: answered from GetBlock alone when the journal proves no exporting
// host lets the node in (BlockInfo.acl_synced), through SetInitiatorAccess
// (every HA host) otherwise. The fake blockd keeps each HA host's LIO ACLs
// apart from the journal's lists, as the engine's convergence does, so a host
// an unpublish could not reach is seen to keep the ACL.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { FakeBlockd } from "../../doubles/fake-blockd.js";
import { KubeApiStandin } from "../../../lab/harness/kube-api-standin.js";
import { startController, codeOf, mountCap, type LocalController } from "../../../lab/harness/local-controller.js";
import type { CreateVolumeResponse__Output } from "../../../src/generated/csi/v1/CreateVolumeResponse.js";

const KEY = "unit-test-blockd-key-unpublish-3c2d";
const HV = "block-hv";
const HOSTS = ["10.9.0.1", "10.9.0.2", "10.9.0.3"];
const IQN1 = "iqn.1993-08.org.debian:01:worker1";
const NODE1 = `worker-1/${IQN1}`;
const NODE2 = "worker-2/iqn.1993-08.org.debian:01:worker2";

let blockd: FakeBlockd;
let kube: KubeApiStandin;
let ctl: LocalController;

before(async () => {
  kube = await new KubeApiStandin().start();
  blockd = await new FakeBlockd(KEY).start(HOSTS);
  ctl = await startController({ endpoints: blockd.endpoints, key: KEY, kubeconfig: await kube.kubeconfig() });
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
  blockd.reportsAclSync = true;
  blockd.aclUnreachable.clear();
});

async function published(name: string): Promise<string> {
  const id =
    (
      await ctl.call<CreateVolumeResponse__Output>("CreateVolume", {
        name,
        volume_capabilities: [mountCap("xfs")],
        parameters: { hostingVolume: HV, auth: "false" },
      })
    ).volume?.volume_id ?? "";
  await ctl.call("ControllerPublishVolume", { volume_id: id, node_id: NODE1, volume_capability: mountCap("xfs") });
  return id;
}

/** the blockd methods one CSI call made */
async function callsOf(fn: () => Promise<unknown>): Promise<string[]> {
  const before = blockd.calls.length;
  await fn();
  return blockd.calls.slice(before).map((c) => c.method);
}

const unpublish = (volumeId: string, nodeId = NODE1) => ctl.call("ControllerUnpublishVolume", { volume_id: volumeId, node_id: nodeId });
const lio = (block: string): string[][] => HOSTS.map((h) => blockd.block(HV, block)?.lioAcls.get(h) ?? ["no such block"]);

test("the unpublish the attacher repeats after a detach costs one GetBlock: the journal proves no HA host lets the node in", async () => {
  const id = await published("pvc-repeat");
  assert.deepEqual(lio("pvc-repeat"), [[IQN1], [IQN1], [IQN1]]);
  assert.deepEqual(await callsOf(() => unpublish(id)), ["GetBlock", "SetInitiatorAccess"], "the first one revokes it on every HA host");
  assert.deepEqual(lio("pvc-repeat"), [[], [], []]);
  for (let i = 0; i < 3; i++) assert.deepEqual(await callsOf(() => unpublish(id)), ["GetBlock"], "a repeat: nothing to revoke, no HA host asked");
  // a node the volume was never published to: the same
  assert.deepEqual(await callsOf(() => unpublish(id, NODE2)), ["GetBlock"]);
});

test("an unpublish one HA host could not take: the journal no longer names the node but that host still lets it in, so no repeat answers OK until a SetInitiatorAccess converged it", async () => {
  const id = await published("pvc-lagging");
  blockd.aclUnreachable.add(HOSTS[1] ?? "");
  assert.equal((await codeOf(unpublish(id))).code, status.UNAVAILABLE);
  assert.deepEqual(blockd.block(HV, "pvc-lagging")?.initiators, [], "the journal's lists: revoked");
  assert.deepEqual(lio("pvc-lagging"), [[], [IQN1], []], "one host's LIO: still let in");
  // the attacher retries: the metadata says gone, the proof is missing, the full path runs (and fails while the host lags)
  const retry = await callsOf(() => codeOf(unpublish(id)).then((e) => assert.equal(e.code, status.UNAVAILABLE)));
  assert.deepEqual(retry, ["GetBlock", "SetInitiatorAccess"]);
  blockd.aclUnreachable.clear();
  assert.deepEqual(await callsOf(() => unpublish(id)), ["GetBlock", "SetInitiatorAccess"], "converged by the full path");
  assert.deepEqual(lio("pvc-lagging"), [[], [], []]);
  assert.deepEqual(await callsOf(() => unpublish(id)), ["GetBlock"], "then proven: repeats are cheap again");
});

test("a blockd older than acl_synced proves nothing: every unpublish takes the full path", async () => {
  const id = await published("pvc-old-blockd");
  blockd.reportsAclSync = false;
  await unpublish(id);
  for (let i = 0; i < 2; i++) assert.deepEqual(await callsOf(() => unpublish(id)), ["GetBlock", "SetInitiatorAccess"]);
});

test("a block with generated ACLs (made by the CLI) has no per-initiator ACL to revoke: one GetBlock", async () => {
  blockd.addBlock(HV, "cli-block", { aclMode: "ACL_MODE_GENERATED" });
  assert.deepEqual(await callsOf(() => unpublish(`v1/${HV}/cli-block`)), ["GetBlock"]);
});

test("no node ID: every listed initiator revoked; with none listed and no proof, a ReloadBlock still converges the hosts", async () => {
  const id = await published("pvc-all");
  assert.deepEqual(await callsOf(() => unpublish(id, "")), ["GetBlock", "SetInitiatorAccess"]);
  assert.deepEqual(lio("pvc-all"), [[], [], []]);
  assert.deepEqual(await callsOf(() => unpublish(id, "")), ["GetBlock"], "proven: nothing left on any host");
  // lists empty, one host's LIO still letting a node in, no proof (a blockd that died mid-unpublish)
  blockd.addBlock(HV, "pvc-stale", { lioAcls: new Map(HOSTS.map((h, i) => [h, i === 2 ? [IQN1] : []])) });
  assert.deepEqual(await callsOf(() => unpublish(`v1/${HV}/pvc-stale`, "")), ["GetBlock", "ReloadBlock"]);
  assert.deepEqual(lio("pvc-stale"), [[], [], []]);
});

test("no node ID, none listed, no proof, and a host ReloadBlock cannot converge: UNAVAILABLE while that host still lets a node in, never OK", async () => {
  blockd.addBlock(HV, "pvc-stale-lagging", { lioAcls: new Map(HOSTS.map((h, i) => [h, i === 1 ? [IQN1] : []])) });
  const id = `v1/${HV}/pvc-stale-lagging`;
  blockd.aclUnreachable.add(HOSTS[1] ?? "");
  // blockd answers ReloadBlock OK with the host in failed_on: the controller must not take that for done
  for (let i = 0; i < 2; i++) {
    const calls = await callsOf(() => codeOf(unpublish(id, "")).then((e) => assert.equal(e.code, status.UNAVAILABLE)));
    assert.deepEqual(calls, ["GetBlock", "ReloadBlock"], "no proof was left: every retry converges again");
  }
  assert.deepEqual(lio("pvc-stale-lagging"), [[], [IQN1], []]);
  blockd.aclUnreachable.clear();
  assert.deepEqual(await callsOf(() => unpublish(id, "")), ["GetBlock", "ReloadBlock"]);
  assert.deepEqual(lio("pvc-stale-lagging"), [[], [], []]);
  assert.deepEqual(await callsOf(() => unpublish(id, "")), ["GetBlock"], "then proven");
});

test("a block being deleted, or gone: OK, as before (blockd changes no ACL of it)", async () => {
  blockd.addBlock(HV, "pvc-deleting", { state: "deleting", initiators: [IQN1] });
  assert.deepEqual(await callsOf(() => unpublish(`v1/${HV}/pvc-deleting`)), ["GetBlock", "SetInitiatorAccess"]);
  assert.deepEqual(await callsOf(() => unpublish(`v1/${HV}/pvc-gone`)), ["GetBlock"]);
});
