// Kubernetes in the lab (issue 24, items 2 and 3): what the chart switches
// on for the scheduler and for the admin, seen from the cluster. Storage
// capacity tracking: csi-provisioner publishes a CSIStorageCapacity object
// for a WaitForFirstConsumer class of the driver from GetCapacity, the
// scheduler places a pod whose claim fits and keeps one whose claim does not
// fit Pending, with nothing made. Volume health: a target removed on one
// storage node behind blockd's back is a DegradedHA Event on the claim and
// gluster_block_ha_paths_up 2, from the controller's own periodic check
// (nothing calls ControllerGetVolume in a chart install); that node's blockd
// pod deleted, its successor puts the target back before it is Ready:
// HARestored, 3. Published nodes: csi-attacher's reconcile gets the volume's
// node from ListVolumes. Needs
// K8S_BIN_DIR (or the fixed place, lab/k8s/config.ts); skipped with one line
// otherwise.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { HOSTING_VOLUME } from "../../lab/harness/lab.js";
import { kc, NAMESPACE } from "../../lab/k8s/cluster.js";
import { DEFAULT_DRIVER_NAME } from "../../src/csi/identity-server.js";
import {
  assertGone,
  claim,
  claimAndPod,
  classFromChart,
  deleteObjects,
  glusterBlockList,
  pod,
  pvOf,
  until,
  waitReady,
  WRITE_BLOB,
  k8sFile,
  readyPodOn,
} from "./workload.js";

const WFFC_CLASS = "gluster-block-wffc";
const f = k8sFile();
const SKIP = f.skip;
const n = f.notes;

after(async () => {
  if (f.skip) return;
  await deleteObjects("pod", "fits", "too-big", "health");
  await deleteObjects("pvc", "fits", "too-big", "health");
  await kc(["delete", "storageclass", WFFC_CLASS, "--ignore-not-found"]);
});

interface Capacity {
  metadata: { name: string };
  storageClassName: string;
  capacity?: string;
  nodeTopology?: unknown;
}

/** Kubernetes quantities as the provisioner writes them (plain bytes, or a binary suffix) in bytes. */
function bytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti)?$/.exec(q);
  assert.ok(m, `a quantity in bytes or a binary unit: ${q}`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 }[m[2] ?? ""] ?? 1;
  return Number(m[1]) * unit;
}

async function eventsOf(kind: "Pod" | "PersistentVolumeClaim", name: string): Promise<{ reason: string; message: string; count?: number }[]> {
  const e = JSON.parse(
    await kc(["get", "events", "-n", "default", "--field-selector", `involvedObject.kind=${kind},involvedObject.name=${name}`, "-o", "json"]),
  ) as { items: { reason: string; message: string; count?: number }[] };
  return e.items;
}

test(
  "storage capacity: a WaitForFirstConsumer class gets a CSIStorageCapacity; a pod whose claim fits runs, one whose claim is larger stays Pending and nothing is made",
  { skip: SKIP, timeout: 1_800_000 },
  async () => {
    await kc(["apply", "-f", "-"], { input: await classFromChart(WFFC_CLASS, {}, { volumeBindingMode: "WaitForFirstConsumer" }) });
    const t0 = performance.now();
    const cap = await until(300, async () => {
      const list = JSON.parse(await kc(["get", "csistoragecapacities", "-n", NAMESPACE, "-o", "json"])) as { items: Capacity[] };
      return list.items.find((c) => c.storageClassName === WFFC_CLASS && c.capacity !== undefined);
    });
    assert.ok(cap?.capacity, `a CSIStorageCapacity for ${WFFC_CLASS} with a capacity within 300 s`);
    const available = bytes(cap.capacity);
    n.note(
      `CSIStorageCapacity ${cap.metadata.name}: ${cap.capacity} for ${WFFC_CLASS} ${((performance.now() - t0) / 1000).toFixed(1)} s after the class; nodeTopology ${JSON.stringify(cap.nodeTopology ?? null)}`,
    );
    assert.ok(available >= 1024 ** 3, `the hosting volume has room for a 1 GiB claim (${cap.capacity})`);

    await kc(["apply", "-f", "-"], {
      input: `${claim("fits", { storageClass: WFFC_CLASS })}---\n${pod("fits", "n1", { claimName: "fits", script: WRITE_BLOB })}`,
    });
    n.note(`fits (1Gi, ${WFFC_CLASS}): pod Ready on n1 in ${(await waitReady("fits")).toFixed(1)} s`);

    // four times what the class has: no node can take it
    const tooBig = `${Math.ceil((4 * available) / 1024 ** 3)}Gi`;
    await kc(["apply", "-f", "-"], {
      input: `${claim("too-big", { storageClass: WFFC_CLASS, size: tooBig })}---\n${pod("too-big", "n2", { claimName: "too-big", script: "true" })}`,
    });
    const refused = await until(300, async () =>
      (await eventsOf("Pod", "too-big")).find((e) => e.reason === "FailedScheduling" && /enough free storage/.test(e.message)),
    );
    assert.ok(refused, `the scheduler refuses to place too-big (${tooBig}) for want of storage within 300 s`);
    n.note(`too-big (${tooBig}): ${refused.message}`);
    const phase = (await kc(["get", "pvc", "too-big", "-n", "default", "-o", "jsonpath={.status.phase}"])).trim();
    assert.equal(phase, "Pending", "the claim stays Pending");
    const provisioning = (await eventsOf("PersistentVolumeClaim", "too-big")).filter((e) => e.reason === "Provisioning");
    assert.deepEqual(provisioning, [], "the provisioner was never asked to make it");
    const uid = (await kc(["get", "pvc", "too-big", "-n", "default", "-o", "jsonpath={.metadata.uid}"])).trim();
    assert.ok(!(await glusterBlockList(HOSTING_VOLUME)).includes(`pvc-${uid}`), "no block made");

    await deleteObjects("pod", "too-big");
    await deleteObjects("pvc", "too-big");
    const pv = await pvOf("fits");
    await deleteObjects("pod", "fits");
    await deleteObjects("pvc", "fits");
    await assertGone([f.lab.node(1)], pv, "fits");
  },
);

/** The controller's gluster_block_ha_paths_up for the volume, read from its metrics endpoint inside its pod. */
async function haPathsUp(volumeId: string): Promise<number | undefined> {
  const port = 9822;
  const text = await kc([
    "exec",
    "-n",
    NAMESPACE,
    "deploy/gluster-block-csi-controller",
    "-c",
    "gluster-block-csi",
    "--",
    "node",
    "-e",
    `fetch('http://127.0.0.1:${port}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))`,
  ]);
  // the registry adds its default labels after the gauge's own: gluster_block_ha_paths_up{volume="...",component="..."} 3
  const line = text.split("\n").find((l) => l.startsWith("gluster_block_ha_paths_up{") && l.includes(`volume="${volumeId}"`));
  return line === undefined ? undefined : Number(line.split(" ").pop());
}

/** the driver's ID of a node, as its CSINode records it */
async function nodeIdOf(node: string): Promise<string> {
  const c = JSON.parse(await kc(["get", "csinode", node, "-o", "json"])) as { spec: { drivers?: { name: string; nodeID: string }[] } };
  const id = c.spec.drivers?.find((d) => d.name === DEFAULT_DRIVER_NAME)?.nodeID;
  assert.ok(id, `CSINode ${node} has ${DEFAULT_DRIVER_NAME}`);
  return id;
}

/** every published_node_ids the controller answered for `volumeId` in a ListVolumes, from its log (one JSON line per answer) */
async function publishedNodesListed(volumeId: string): Promise<string[][]> {
  const log = await kc(["logs", "-n", NAMESPACE, "deployment/gluster-block-csi-controller", "-c", "gluster-block-csi"]);
  const found: string[][] = [];
  for (const line of log.split("\n")) {
    if (!line.startsWith("{") || !line.includes('"method":"ListVolumes"') || !line.includes('"message":"response"')) continue;
    const r = JSON.parse(line) as { response?: { entries?: { volume?: { volume_id?: string }; status?: { published_node_ids?: string[] } }[] } };
    for (const e of r.response?.entries ?? []) if (e.volume?.volume_id === volumeId) found.push(e.status?.published_node_ids ?? []);
  }
  return found;
}

test(
  "volume health: ListVolumes names the volume's published node to the attacher; a target removed on n3 behind blockd's back is DegradedHA on the claim and 2 HA paths up; n3's blockd pod made again restores it (Ready once its target is back): HARestored, 3",
  { skip: SKIP, timeout: 2_400_000 },
  async () => {
    const n3 = f.lab.node(3);
    await kc(["apply", "-f", "-"], { input: claimAndPod("health", "n1", { script: WRITE_BLOB }) });
    n.note(`health: pod Ready on n1 in ${(await waitReady("health")).toFixed(1)} s`);
    const pv = await pvOf("health");
    const id = pv.spec.csi.volumeHandle;
    const iqn = pv.spec.csi.volumeAttributes.iqn ?? "";
    // the check's interval is the chart's 60 s (±10 %): two passes and some
    const up = await until(240, async () => ((await haPathsUp(id)) === 3 ? 3 : undefined));
    assert.equal(up, 3, "gluster_block_ha_paths_up 3 for a healthy HA-3 volume");
    // LIST_VOLUMES_PUBLISHED_NODES: csi-attacher's reconcile asks ListVolumes (each minute) and compares its
    // published nodes with the VolumeAttachments; the answer names n1's node ID for this volume
    const n1Id = await nodeIdOf("n1");
    const listed = await until(300, async () => ((await publishedNodesListed(id)).some((ids) => ids.includes(n1Id)) ? true : undefined));
    assert.ok(listed, `a ListVolumes answer to the attacher naming ${n1Id} as the volume's published node, within 300 s`);
    n.note(`ListVolumes (called by csi-attacher's reconcile) lists ${id} as published to ${n1Id}`);

    const t0 = performance.now();
    await n3.must(`targetcli /iscsi delete ${iqn}`, { timeoutMs: 300_000 });
    const degraded = await until(300, async () => (await eventsOf("PersistentVolumeClaim", "health")).find((e) => e.reason === "DegradedHA"));
    assert.ok(degraded, "a DegradedHA Event on the claim within 300 s");
    n.note(`target removed on n3: DegradedHA ${((performance.now() - t0) / 1000).toFixed(1)} s later: ${degraded.message}`);
    assert.match(degraded.message, /n3|10\.213\.0\.13/, "the Event names the host that lost its target");
    assert.equal(await until(120, async () => ((await haPathsUp(id)) === 2 ? 2 : undefined)), 2, "gluster_block_ha_paths_up 2");
    assert.match(await kc(["exec", "health", "-n", "default", "--", "sh", "-c", "sha256sum -c /data/blob.sha256"]), /blob: OK/, "the pod reads on");

    const old = await readyPodOn("blockd", "n3", 60);
    assert.ok(old, "blockd's pod on n3");
    const t1 = performance.now();
    await kc(["delete", "pod", old, "-n", NAMESPACE, "--wait=false"]);
    assert.ok(await readyPodOn("blockd", "n3", 600, old), "a new blockd pod on n3 is Ready within 600 s");
    // Ready is blockd's /readyz: its start-up reconcile, which exports the target again, is over
    const back = await n3.run(`test -d /sys/kernel/config/target/iscsi/${iqn}`);
    assert.equal(back.code, 0, "n3's target is back by the time its new blockd pod is Ready");
    n.note(`n3's target exported again ${((performance.now() - t1) / 1000).toFixed(1)} s after the pod's delete`);
    const restored = await until(300, async () => (await eventsOf("PersistentVolumeClaim", "health")).find((e) => e.reason === "HARestored"));
    assert.ok(restored, "a HARestored Event on the claim within 300 s");
    n.note(`n3's blockd pod deleted: HARestored ${((performance.now() - t1) / 1000).toFixed(1)} s later: ${restored.message}`);
    assert.equal(await until(120, async () => ((await haPathsUp(id)) === 3 ? 3 : undefined)), 3, "gluster_block_ha_paths_up 3 again");
    n.note(`kubectl describe pvc health (events):\n${(await kc(["describe", "pvc", "health", "-n", "default"])).split("Events:")[1] ?? ""}`);

    await deleteObjects("pod", "health");
    await deleteObjects("pvc", "health");
    await assertGone([f.lab.node(1)], pv, "health");
  },
);
