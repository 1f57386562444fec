// What the Kubernetes layer's tests share beyond lab/k8s/workload.ts (which
// it re-exports): the cluster prepared with the chart installed, notes
// printed after a file's tests, and the check that a deleted volume left
// nothing. Each file prepares the cluster itself (ensureLab, ensureCluster
// and the chart reuse what runs already).
import assert from "node:assert/strict";
import { ensureLab, type Lab, type LabNode } from "../../lab/harness/lab.js";
import { traces, NOTHING } from "../../lab/harness/node-plugin.js";
import { ensureCluster, installChart, kc, NAMESPACE, type Cluster } from "../../lab/k8s/cluster.js";
import type { PvJson } from "../../lab/k8s/workload.js";
import { CHAP_SECRET_PREFIX } from "../../src/controller/chap-secrets.js";
export * from "../../lab/k8s/workload.js";

export const RELEASE_BLOCKD = "gluster-block-csi-blockd";
export interface Notes {
  note(s: string): void;
  /** every note of the file, printed once after its tests */
  print(): void;
}

export function notes(): Notes {
  const all: string[] = [];
  return {
    note: (s) => {
      all.push(s);
      console.log(s);
    },
    print: () => console.log(`--- k8s notes ---\n${all.join("\n")}`),
  };
}

/** The lab's 3 VMs as a cluster with the chart installed; how long each part took goes to `n`. */
export async function prepare(n: Notes): Promise<{ lab: Lab; cluster: Cluster }> {
  const lab = await ensureLab({ nodes: 3 });
  const cluster = await ensureCluster(lab);
  n.note(`cluster: ${cluster.phases.map((p) => `${p.name} ${p.seconds}s`).join(", ")}`);
  const t0 = performance.now();
  await installChart(cluster);
  n.note(`helm upgrade --install --wait: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { lab, cluster };
}

/** The PV's volume, after its claim was deleted: the PV, its CHAP Secret and its block gone; on `nodes`, no session, path, map, mount, record or WWID. */
export async function assertGone(nodes: readonly LabNode[], pv: PvJson, claimName: string): Promise<void> {
  const a = pv.spec.csi.volumeAttributes;
  await kc(["wait", "--for=delete", `pv/${pv.metadata.name}`, "--timeout=600s"], { timeoutMs: 660_000 });
  for (const n of nodes) {
    // mounts: this volume's (its PV name is in the staging and publish paths); the node's other pods keep theirs
    assert.deepEqual(
      await traces(n, a.iqn ?? "", a.wwid ?? "", `/var/lib/kubelet/.*/${pv.metadata.name}/`),
      NOTHING,
      `${claimName}: no session, path, map, mount, record or WWID left on ${n.name}`,
    );
  }
  const secrets = await kc(["get", "secrets", "-n", NAMESPACE, "-o", "name"]);
  assert.ok(!secrets.includes(`${CHAP_SECRET_PREFIX}${pv.metadata.name}`), `${claimName}: its CHAP Secret is gone`);
  const list = await kc(["exec", "-n", NAMESPACE, `ds/${RELEASE_BLOCKD}`, "--", "gluster-block", "list", "block-test"]);
  assert.ok(!list.includes(pv.metadata.name), `${claimName}: the block is gone (${list.trim()})`);
}
