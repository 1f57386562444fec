// Kubernetes in the lab (issue 24, item 1): topology. n1 and n2 are labelled
// topology.kubernetes.io/zone=zone-a and n3 zone-b, and the chart is upgraded
// with topology.enabled: each node plugin registers its node's zone under
// topology.block.csi.gluster.org/zone (the kubelet writes that label onto
// the Node), the controller reads the storage nodes' zones from the blockd
// pods' Nodes. Then a WaitForFirstConsumer class places a pod's volume on
// its node's zone, an allowedTopologies class on the zone it names, and a
// class whose zone has fewer storage nodes than its haCount fails with a
// final error the claim's events show. Afterwards the chart goes back to the
// lab's values and the labels go. Needs K8S_BIN_DIR (or the fixed place,
// lab/k8s/config.ts); skipped with one line otherwise.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { HOSTING_VOLUME, type LabNode } from "../../lab/harness/lab.js";
import { installChart, kc, NAMESPACE } from "../../lab/k8s/cluster.js";
import { kubectl } from "../../lab/k8s/control-plane.js";
import { DEFAULT_DRIVER_NAME } from "../../src/csi/identity-server.js";
import { zoneKey, ZONE_NODE_LABEL } from "../../src/csi/topology.js";
import { assertGone, claim, classFromChart, deleteObjects, glusterBlockList, pod, pvOf, until, waitReady, k8sFile } from "./workload.js";

const KEY = zoneKey(DEFAULT_DRIVER_NAME);
const ZONES: Record<string, string> = { n1: "zone-a", n2: "zone-a", n3: "zone-b" };
const CLASSES = { wffc: "gb-zonal-wffc", zoneA: "gb-zone-a", zoneA3: "gb-zone-a-ha3" } as const;

const f = k8sFile(async ({ cluster, notes: n }) => {
  for (const [node, zone] of Object.entries(ZONES)) await kc(["label", "node", node, "--overwrite", `${ZONE_NODE_LABEL}=${zone}`]);
  const t0 = performance.now();
  await installChart(cluster, ["--set", "topology.enabled=true"]);
  // the node plugins re-registered (their pod template changed): the kubelet wrote each zone onto its Node and CSINode
  for (const [node, zone] of Object.entries(ZONES)) {
    const seen = await until(600, async () => {
      const r = await kubectl(["get", "node", node, "-o", "json"]);
      const labels = r.code === 0 ? ((JSON.parse(r.stdout) as { metadata: { labels?: Record<string, string> } }).metadata.labels ?? {}) : {};
      const csinode = await kubectl(["get", "csinode", node, "-o", "json"]);
      const keys =
        csinode.code === 0
          ? (JSON.parse(csinode.stdout) as { spec: { drivers?: { name: string; topologyKeys?: string[] }[] } }).spec.drivers?.find(
              (d) => d.name === DEFAULT_DRIVER_NAME,
            )?.topologyKeys
          : undefined;
      return labels[KEY] === zone && keys?.includes(KEY) ? true : undefined;
    });
    assert.ok(seen, `${node}: the plugin registered zone ${zone} (Node label ${KEY}, CSINode topology key) within 600 s`);
  }
  n.note(`topology on and every node registered with its zone in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
});
const SKIP = f.skip;
const n = f.notes;

after(async () => {
  if (f.skip) return;
  await kc(["delete", "pod", "zonal-b", "-n", "default", "--ignore-not-found", "--wait=true", "--timeout=300s"], { timeoutMs: 360_000 });
  await kc(["delete", "pvc", "zonal-b", "zonal-a", "zonal-a3", "-n", "default", "--ignore-not-found", "--wait=true", "--timeout=300s"], { timeoutMs: 360_000 });
  await kc(["delete", "storageclass", ...Object.values(CLASSES), "--ignore-not-found"]);
  // back to the lab's values: the plugins register without a zone; the labels the kubelet wrote stay until removed
  await installChart(f.cluster);
  for (const label of [ZONE_NODE_LABEL, KEY]) await kubectl(["label", "node", ...Object.keys(ZONES), `${label}-`]);
});

/** The chart's StorageClass under another name, with these parameters, binding mode and allowed zones. */
async function zonalClass(name: string, params: Record<string, string>, opts: { bindingMode: string; zones?: string[] }): Promise<void> {
  const fields = {
    volumeBindingMode: opts.bindingMode,
    ...(opts.zones ? { allowedTopologies: [{ matchLabelExpressions: [{ key: KEY, values: opts.zones }] }] } : {}),
  };
  await kc(["apply", "-f", "-"], { input: await classFromChart(name, params, fields) });
}

/** The storage nodes that hold a target of the IQN (configfs). */
async function targetsOf(iqn: string): Promise<string[]> {
  const out: string[] = [];
  for (const s of f.lab.nodes) if ((await s.run(`test -d /sys/kernel/config/target/iscsi/${iqn}`)).code === 0) out.push(s.name);
  return out;
}

/** The zones the PV's node affinity allows (one term per zone, each `KEY In [zone]`). */
async function affinityZones(pvName: string): Promise<string[]> {
  const pv = JSON.parse(await kc(["get", "pv", pvName, "-o", "json"])) as {
    spec: { nodeAffinity?: { required?: { nodeSelectorTerms: { matchExpressions?: { key: string; operator: string; values: string[] }[] }[] } } };
  };
  return (pv.spec.nodeAffinity?.required?.nodeSelectorTerms ?? []).flatMap((t) =>
    (t.matchExpressions ?? []).map((e) => (e.key === KEY && e.operator === "In" ? e.values.join("|") : `${e.key} ${e.operator}`)),
  );
}

const portalsOf = (nodes: LabNode[]): string[] => nodes.map((x) => `${x.address}:3260`).sort();

test(
  "WaitForFirstConsumer, haCount 1, a pod pinned to n3: the target on n3 alone, the PV's node affinity names zone-b",
  { skip: SKIP, timeout: 1_800_000 },
  async () => {
    const n3 = f.lab.node(3);
    await zonalClass(CLASSES.wffc, { haCount: "1" }, { bindingMode: "WaitForFirstConsumer" });
    await kc(["apply", "-f", "-"], {
      input: `${claim("zonal-b", { storageClass: CLASSES.wffc })}---\n${pod("zonal-b", "n3", { claimName: "zonal-b", script: "echo zonal > /data/where" })}`,
    });
    n.note(`zonal-b: pod Ready on n3 in ${(await waitReady("zonal-b")).toFixed(1)} s`);
    const pv = await pvOf("zonal-b");
    const a = pv.spec.csi.volumeAttributes;
    assert.deepEqual((a.portals ?? "").split(",").sort(), portalsOf([n3]), "one portal, n3's");
    assert.deepEqual(await targetsOf(a.iqn ?? ""), ["n3"], "a target on n3 only");
    assert.deepEqual(await affinityZones(pv.metadata.name), ["zone-b"]);
    n.note(`kubectl describe pv (zonal-b):\n${await kc(["describe", "pv", pv.metadata.name])}`);
    await deleteObjects("pod", "zonal-b");
    await deleteObjects("pvc", "zonal-b");
    await assertGone([n3], pv, "zonal-b");
  },
);

test("allowedTopologies zone-a, haCount 2: the targets on n1 and n2, the PV's node affinity names zone-a", { skip: SKIP, timeout: 1_200_000 }, async () => {
  const [n1, n2] = [f.lab.node(1), f.lab.node(2)];
  await zonalClass(CLASSES.zoneA, { haCount: "2" }, { bindingMode: "Immediate", zones: ["zone-a"] });
  await kc(["apply", "-f", "-"], { input: claim("zonal-a", { storageClass: CLASSES.zoneA }) });
  const bound = await until(600, async () =>
    (await kc(["get", "pvc", "zonal-a", "-n", "default", "-o", "jsonpath={.status.phase}"])).trim() === "Bound" ? true : undefined,
  );
  assert.ok(bound, "zonal-a Bound within 600 s");
  const pv = await pvOf("zonal-a");
  const a = pv.spec.csi.volumeAttributes;
  assert.deepEqual((a.portals ?? "").split(",").sort(), portalsOf([n1, n2]));
  assert.deepEqual(await targetsOf(a.iqn ?? ""), ["n1", "n2"]);
  assert.deepEqual(await affinityZones(pv.metadata.name), ["zone-a"]);
  await deleteObjects("pvc", "zonal-a");
  await assertGone([], pv, "zonal-a");
});

test(
  "allowedTopologies zone-a, haCount 3: zone-a has 2 storage nodes; the claim's events show the final error saying what to change, nothing is made",
  { skip: SKIP, timeout: 900_000 },
  async () => {
    await zonalClass(CLASSES.zoneA3, { haCount: "3" }, { bindingMode: "Immediate", zones: ["zone-a"] });
    await kc(["apply", "-f", "-"], { input: claim("zonal-a3", { storageClass: CLASSES.zoneA3 }) });
    const failed = await until(300, async () => {
      const events = JSON.parse(await kc(["get", "events", "-n", "default", "--field-selector", "involvedObject.name=zonal-a3", "-o", "json"])) as {
        items: { reason: string; message: string }[];
      };
      return events.items.find((e) => e.reason === "ProvisioningFailed" && e.message.includes("ResourceExhausted"));
    });
    assert.ok(failed, "a ProvisioningFailed event with ResourceExhausted within 300 s");
    assert.match(failed.message, /haCount 3 needs 3 storage nodes in zone zone-a, which has 2/);
    assert.match(failed.message, /lower haCount in the StorageClass, allow more zones/);
    n.note(`zonal-a3: ${failed.message}`);
    assert.equal((await kc(["get", "pvc", "zonal-a3", "-n", "default", "-o", "jsonpath={.status.phase}"])).trim(), "Pending");
    const pvName = `pvc-${(await kc(["get", "pvc", "zonal-a3", "-n", "default", "-o", "jsonpath={.metadata.uid}"])).trim()}`;
    assert.ok(!(await glusterBlockList(HOSTING_VOLUME)).includes(pvName), "no block made");
    await deleteObjects("pvc", "zonal-a3");
    assert.ok(!(await kc(["get", "secrets", "-n", NAMESPACE, "-o", "name"])).includes(pvName), "no CHAP Secret made");
  },
);
