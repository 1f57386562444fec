// What the Kubernetes layer's tests share beyond lab/k8s/workload.ts (which
// it re-exports): the cluster prepared with the chart installed, notes
// printed after a file's tests, and the check that a deleted volume left
// nothing. Each file prepares the cluster itself (ensureLab, ensureCluster
// and the chart reuse what runs already).
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { ensureLab, HOSTING_VOLUME, type Lab, type LabNode } from "../../lab/harness/lab.js";
import { traces, NOTHING } from "../../lab/harness/node-plugin.js";
import { ensureCluster, installChart, kc, NAMESPACE, type Cluster } from "../../lab/k8s/cluster.js";
import { glusterBlockList, STORAGE_CLASS } from "../../lab/k8s/workload.js";
import { k8sBins, K8S_SKIP, type K8sBins } from "../../lab/k8s/config.js";
import type { PvJson } from "../../lab/k8s/workload.js";
import { CHAP_SECRET_PREFIX } from "../../src/controller/chap-secrets.js";
export * from "../../lab/k8s/workload.js";

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

export interface K8sFile {
  /** false, or why the file's tests are skipped (no Kubernetes binaries) */
  skip: false | string;
  bins: K8sBins | undefined;
  notes: Notes;
  /** the lab and the cluster, once the file's before hook has prepared them */
  readonly lab: Lab;
  readonly cluster: Cluster;
}

/**
 * What every file of the layer starts with: skipped in one line without
 * Kubernetes binaries; otherwise a before hook that prepares the cluster
 * with the chart installed, then runs the file's own `setup`, and an after
 * hook that prints the file's notes. A file's set-up goes here, not in a
 * `before` of its own: node:test runs a top-level `before` registered after
 * the first one at once, beside it, before the cluster is prepared (sanity
 * and topology failed so). A file may add `after` hooks.
 */
export function k8sFile(setup?: (ready: { lab: Lab; cluster: Cluster; notes: Notes }) => Promise<void>): K8sFile {
  const bins = k8sBins();
  if (!bins) console.log(`# k8s layer skipped: ${K8S_SKIP}`);
  const n = notes();
  let ready: { lab: Lab; cluster: Cluster } | undefined;
  before(async () => {
    if (!bins) return;
    const r = await prepare(n);
    ready = r;
    if (setup) await setup({ ...r, notes: n });
  });
  after(() => {
    if (ready) n.print();
  });
  const need = (): { lab: Lab; cluster: Cluster } => {
    if (!ready) throw new Error("the cluster is not prepared (no Kubernetes binaries, or the before hook failed)");
    return ready;
  };
  return {
    skip: bins ? false : K8S_SKIP,
    bins,
    notes: n,
    get lab() {
      return need().lab;
    },
    get cluster() {
      return need().cluster;
    },
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
  const list = await glusterBlockList(HOSTING_VOLUME);
  assert.ok(!list.includes(pv.metadata.name), `${claimName}: the block is gone (${list.trim()})`);
}

/**
 * The chart's StorageClass as another class `name` (the manifest to apply):
 * its parameters with `parameters` over them, and `fields` (a binding mode,
 * allowed topologies) beside them.
 */
export async function classFromChart(name: string, parameters: Record<string, string>, fields: Record<string, unknown> = {}): Promise<string> {
  const sc = JSON.parse(await kc(["get", "storageclass", STORAGE_CLASS, "-o", "json"])) as { parameters: Record<string, string> } & Record<string, unknown>;
  return JSON.stringify({ ...sc, metadata: { name }, parameters: { ...sc.parameters, ...parameters }, ...fields });
}
