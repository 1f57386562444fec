// ListVolumes over many volumes: what a page costs in blockd calls (one
// ListBlocks{details} per hosting volume, one GetTargetStatuses per hosting
// volume and 200 of the page's blocks, never a call per volume), and that the
// batched answer is the per-volume one (a blockd that fills no details: a
// GetBlock per entry), page by page, with blocks mid-create, mid-delete, not
// begun, made by the CLI and published.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { FakeBlockd } from "../../doubles/fake-blockd.js";
import { KubeApiStandin } from "../../../lab/harness/kube-api-standin.js";
import { startController, mountCap, type LocalController } from "../../../lab/harness/local-controller.js";
import type { ListVolumesResponse__Output } from "../../../src/generated/csi/v1/ListVolumesResponse.js";

const KEY = "unit-test-blockd-key-listscale-7e6f";
const HV = "block-hv";
const HV2 = "block-hv2";
const HOSTS = ["10.9.0.1", "10.9.0.2", "10.9.0.3"];
const IQN1 = "iqn.1993-08.org.debian:01:worker1";
const NODE1 = `worker-1/${IQN1}`;

let blockd: FakeBlockd;
let kube: KubeApiStandin;
let ctl: LocalController;

before(async () => {
  kube = await new KubeApiStandin().start();
  blockd = await new FakeBlockd(KEY).start(HOSTS);
  ctl = await startController({
    endpoints: blockd.endpoints,
    key: KEY,
    kubeconfig: await kube.kubeconfig(),
    flags: ["--hosting-volumes", `${HV},${HV2}`],
  });
});
after(async () => {
  await ctl?.stop();
  await blockd?.stop();
  await kube?.stop();
});
beforeEach(() => {
  blockd.volumes.clear();
  blockd.addVolume(HV);
  blockd.addVolume(HV2);
  blockd.notBegun.clear();
  blockd.fillsDetails = true;
  blockd.calls.length = 0;
});

interface Paged {
  pages: ListVolumesResponse__Output[];
  /** blockd calls by method, one record per page */
  calls: Record<string, number>[];
}

async function listAll(maxEntries: number): Promise<Paged> {
  const out: Paged = { pages: [], calls: [] };
  let token = "";
  do {
    const before = blockd.calls.length;
    // counted, not timed: a generous deadline, for a loaded host (500 GetBlocks in one call on the per-volume path)
    const r = await ctl.call<ListVolumesResponse__Output>("ListVolumes", { max_entries: maxEntries, starting_token: token }, 120_000);
    const counts: Record<string, number> = {};
    for (const c of blockd.calls.slice(before)) counts[c.method] = (counts[c.method] ?? 0) + 1;
    out.pages.push(r);
    out.calls.push(counts);
    token = r.next_token;
  } while (token !== "");
  return out;
}

const name = (i: number): string => `pvc-${String(i).padStart(4, "0")}`;

test("500 volumes: a page costs one ListBlocks per hosting volume and one GetTargetStatuses per 200 entries, not a call per volume", async () => {
  for (let i = 0; i < 500; i++) blockd.addBlock(HV, name(i));
  const all = await listAll(0);
  assert.equal(all.pages.length, 1);
  assert.equal(all.pages[0]?.entries.length, 500);
  assert.deepEqual(all.calls[0], { ListBlocks: 2, GetTargetStatuses: 3 }, "2 hosting volumes; 500 blocks checked 200 at a time");

  const paged = await listAll(100);
  assert.equal(paged.pages.length, 5);
  assert.deepEqual(
    paged.pages.flatMap((p) => p.entries.map((e) => e.volume?.volume_id)),
    all.pages[0]?.entries.map((e) => e.volume?.volume_id),
    "the same entries, in the same order, across pages",
  );
  for (const c of paged.calls) assert.deepEqual(c, { ListBlocks: 2, GetTargetStatuses: 1 });

  // the per-volume path, for comparison: what a blockd without details costs (and what ListVolumes cost before details)
  blockd.fillsDetails = false;
  const slow = await listAll(0);
  assert.deepEqual(slow.calls[0], { ListBlocks: 2, GetBlock: 500, GetTargetStatuses: 3 });
  assert.deepEqual(slow.pages, all.pages);
});

test("the batched pages are the per-volume pages: mid-create, mid-delete, not begun, CLI-made, degraded and published blocks, across pages and hosting volumes", async () => {
  // published through the controller, so the node is named as the attacher knows it
  await ctl.call("CreateVolume", { name: "pvc-published", volume_capabilities: [mountCap("xfs")], parameters: { hostingVolume: HV, auth: "false" } });
  await ctl.call("ControllerPublishVolume", { volume_id: `v1/${HV}/pvc-published`, node_id: NODE1, volume_capability: mountCap("xfs") });
  for (let i = 0; i < 7; i++) blockd.addBlock(HV, name(i));
  blockd.addBlock(HV, "pvc-creating", { state: "creating" });
  blockd.addBlock(HV, "pvc-deleting", { state: "deleting", initiators: [IQN1] });
  blockd.addBlock(HV, "pvc-not-begun");
  blockd.notBegun.add(`${HV}/pvc-not-begun`);
  blockd.addBlock(HV, "cli_block", { aclMode: "ACL_MODE_GENERATED", auth: true, password: "fake-chap-password-cli-0123456789" });
  blockd.addBlock(HV, "pvc-degraded", { exportedOn: HOSTS.slice(0, 2), state: "degraded" });
  for (let i = 0; i < 4; i++) blockd.addBlock(HV2, name(i));
  for (const size of [1, 3, 4, 0]) {
    blockd.fillsDetails = true;
    const batched = await listAll(size);
    blockd.fillsDetails = false;
    const perVolume = await listAll(size);
    assert.deepEqual(batched.pages, perVolume.pages, `max_entries ${size}: the same pages`);
    const ids = batched.pages.flatMap((p) => p.entries.map((e) => e.volume?.volume_id ?? ""));
    assert.equal(ids.length, 1 + 7 + 4 + 4, "every block but the one whose create has not begun");
    assert.ok(!ids.includes(`v1/${HV}/pvc-not-begun`));
    assert.deepEqual(ids, [...ids].sort(), "in volume ID order");
    assert.ok(
      batched.calls.every((c) => (c.GetBlock ?? 0) === 0 && c.ListBlocks === 2),
      "batched: no GetBlock, not even for the block whose create has not begun",
    );
  }
  const all = (await listAll(0)).pages[0]?.entries ?? [];
  const entry = (id: string) => all.find((e) => e.volume?.volume_id === id);
  assert.deepEqual(entry(`v1/${HV}/pvc-published`)?.status?.published_node_ids, [NODE1]);
  assert.equal(entry(`v1/${HV}/pvc-degraded`)?.status?.volume_condition?.abnormal, true);
  assert.equal(entry(`v1/${HV}/cli_block`)?.volume?.volume_context?.password, undefined, "no password in a volume context");
});
