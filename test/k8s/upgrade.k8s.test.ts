// Kubernetes in the lab (issue 23, test 10): the release's life after the
// install. `helm upgrade` with nothing changed restarts nothing (the same
// pods, every workload's generation unchanged); `helm uninstall` leaves what
// the chart's README says it leaves (the blockd key and TLS Secrets, the
// sidecars' leader-election Leases, the namespace) and removes the rest; a
// new install takes the kept Secrets over and runs. Needs K8S_BIN_DIR (or
// the fixed place, lab/k8s/config.ts); skipped with one line otherwise.
import { test } from "node:test";
import assert from "node:assert/strict";
import { helm, installChart, kc, NAMESPACE, RELEASE } from "../../lab/k8s/cluster.js";
import { kubectl } from "../../lab/k8s/control-plane.js";
import { DEFAULT_DRIVER_NAME } from "../../src/csi/identity-server.js";
import { STORAGE_CLASS, until, k8sFile } from "./workload.js";

const f = k8sFile();
const SKIP = f.skip;
const n = f.notes;

interface Workloads {
  /** kind/name -> metadata.generation */
  generations: Record<string, number>;
  /** pod name -> uid */
  pods: Record<string, string>;
}

async function workloads(): Promise<Workloads> {
  const list = JSON.parse(await kc(["get", "deployments,daemonsets,pods", "-n", NAMESPACE, "-o", "json"])) as {
    items: { kind: string; metadata: { name: string; uid: string; generation?: number } }[];
  };
  const generations: Record<string, number> = {};
  const pods: Record<string, string> = {};
  for (const i of list.items) {
    if (i.kind === "Pod") pods[i.metadata.name] = i.metadata.uid;
    else generations[`${i.kind}/${i.metadata.name}`] = i.metadata.generation ?? -1;
  }
  return { generations, pods };
}

const revision = async (): Promise<number> => {
  const r = await helm(["history", RELEASE, "-n", NAMESPACE, "--max", "1", "-o", "json"]);
  return (JSON.parse(r.stdout) as { revision: number }[])[0]?.revision ?? -1;
};

test(
  "helm upgrade with nothing changed: a new revision, the same pods, every workload's generation unchanged",
  { skip: SKIP, timeout: 1_200_000 },
  async () => {
    const was = await workloads();
    const rev = await revision();
    await installChart(f.cluster);
    assert.equal(await revision(), rev + 1, "helm made a new revision");
    // a changed pod template would roll the pods within seconds; give it time to show
    await new Promise((r) => setTimeout(r, 20_000));
    const now = await workloads();
    assert.deepEqual(now.generations, was.generations, "no Deployment or DaemonSet changed");
    assert.deepEqual(now.pods, was.pods, "no pod was restarted or replaced");
    n.note(`helm upgrade (revision ${rev} -> ${rev + 1}): generations ${JSON.stringify(now.generations)}; ${Object.keys(now.pods).length} pods, the same`);
  },
);

test("helm uninstall leaves what the chart's README says; a new install takes the kept Secrets over and runs", { skip: SKIP, timeout: 1_800_000 }, async () => {
  const secretsBefore = (await kc(["get", "secrets", "-n", NAMESPACE, "-o", "name"]))
    .split("\n")
    .filter((s) => /-(blockd-key|blockd-tls|controller-tls)$/.test(s));
  assert.equal(secretsBefore.length, 3, `the blockd key and two TLS Secrets exist (${secretsBefore.join(", ")})`);
  const uids = async (): Promise<string> => kc(["get", ...secretsBefore, "-n", NAMESPACE, "-o", "jsonpath={.items[*].metadata.uid}"]);
  const kept = await uids();

  const r = await helm(["uninstall", RELEASE, "-n", NAMESPACE, "--wait", "--timeout", "10m"], 11 * 60_000);
  assert.equal(r.code, 0, `helm uninstall: ${r.stderr}`);
  const podsLeft = await until(300, async () => ((await kc(["get", "pods", "-n", NAMESPACE, "-o", "name"])).trim() === "" ? true : undefined));
  assert.ok(podsLeft, "every pod of the release is gone");
  const absent = async (args: string[]): Promise<boolean> => (await kubectl(["get", ...args])).code !== 0;
  assert.ok(await absent(["csidriver", DEFAULT_DRIVER_NAME]), "the CSIDriver is removed");
  assert.ok(await absent(["storageclass", STORAGE_CLASS]), "the chart's StorageClass is removed");
  const roles = await kc(["get", "clusterroles", "-o", "name"]);
  assert.ok(
    !roles.includes(RELEASE),
    `no ClusterRole of the release is left (${roles
      .split("\n")
      .filter((x) => x.includes("gluster"))
      .join(", ")})`,
  );
  assert.equal(await uids(), kept, "the blockd key and TLS Secrets are kept, the same objects");
  const leases = (await kc(["get", "leases", "-n", NAMESPACE, "-o", "name"])).split("\n").filter(Boolean);
  for (const l of ["block-csi-gluster-org", "external-attacher-leader-block-csi-gluster-org", "external-resizer-block-csi-gluster-org"]) {
    assert.ok(leases.includes(`lease.coordination.k8s.io/${l}`), `the Lease ${l} is left, as the README says (${leases.join(", ")})`);
  }
  const left = await kc(["get", "all,secrets,configmaps,leases,serviceaccounts,roles,rolebindings", "-n", NAMESPACE, "-o", "name"]);
  n.note(`left in ${NAMESPACE} after helm uninstall:\n${left.trim()}`);

  const t0 = performance.now();
  await installChart(f.cluster);
  n.note(`installed again: Ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  assert.equal(await uids(), kept, "the new release uses the kept Secrets");
});
