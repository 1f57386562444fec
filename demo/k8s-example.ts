// Part 2 when Kubernetes binaries are given (K8S_BIN_DIR, or the fixed place
// lab/k8s/config.ts names): the same volume through a real cluster, as a
// user makes it. The control plane runs on this host, a kubelet and
// containerd on each lab VM; the chart is installed with helm; a claim of
// the chart's StorageClass and a pod on n1 write and read back;
// `kubectl describe pv` shows what the provisioner made. The teardown
// deletes the pod and the claim, checks that nothing is left, uninstalls the
// release and stops the cluster (the lab's own programs take the VMs back).
import type { Lab, LabNode } from "../lab/harness/lab.js";
import { traces } from "../lab/harness/node-plugin.js";
import { ensureCluster, helm, installChart, kc, K8S_VALUES, NAMESPACE, RELEASE, stopCluster, type Cluster } from "../lab/k8s/cluster.js";
import { apiReady, kubectl } from "../lab/k8s/control-plane.js";
import { claim, deleteObjects, execIn, glusterBlockList, pod, pvOf, STORAGE_CLASS, waitReady, type PvJson } from "../lab/k8s/workload.js";
import { CHAP_SECRET_PREFIX } from "../src/controller/chap-secrets.js";
import { VOLUME, type DemoContext } from "./context.js";
import { mountsNaming } from "./lab-steps.js";
import { finishPart } from "./teardown.js";
import { Undo } from "./undo.js";

/** the demo's claim and pod (namespace default), found by name by a later run */
export const K8S_CLAIM = "demo-data";

const WRITE = `dd if=/dev/urandom of=/data/data.bin bs=1M count=16 status=none && sha256sum /data/data.bin > /data/data.sha256 && echo "hello from $(cat /proc/sys/kernel/hostname)" > /data/hello.txt && sync`;

export async function k8sExample(ctx: DemoContext): Promise<void> {
  const { lab, log, initiator: n1 } = ctx;
  const undo = new Undo();
  let pv: PvJson | undefined;
  try {
    undo.push("helm uninstall, stop the kubelets and the control plane", () => uninstallAndStop(lab));
    const cluster = await log.step(
      "a Kubernetes cluster: control plane on this host, kubelet + containerd on n1-n3",
      () => ensureCluster(lab),
      (c: Cluster) => c.phases.map((p) => `${p.name} ${p.seconds}s`).join(", "),
    );
    await log.step(
      `helm upgrade --install ${RELEASE} deploy/helm/gluster-block-csi -n ${NAMESPACE} --values lab/chart/k8s-values.yaml --wait`,
      () => installChart(cluster),
      () => `values: ${K8S_VALUES}`,
    );
    log.block((await kc(["get", "pods", "-n", NAMESPACE, "-o", "wide"])).trimEnd());

    undo.push(`kubectl delete pod,pvc ${K8S_CLAIM}; the PV, its block and its CHAP Secret go`, () => deleteClaim(pv));
    await log.step(
      `kubectl apply: PVC ${K8S_CLAIM} (StorageClass ${STORAGE_CLASS}, 1Gi) and a pod on ${n1.name} that writes 16 MiB`,
      async () => {
        await kc(["apply", "-f", "-"], { input: `${claim(K8S_CLAIM)}---\n${pod(K8S_CLAIM, n1.name, { claimName: K8S_CLAIM, script: WRITE })}` });
        return waitReady(K8S_CLAIM);
      },
      (s) => `pod Ready ${s.toFixed(1)} s after the apply: bound, attached, staged, published`,
    );
    pv = await pvOf(K8S_CLAIM);
    const a = pv.spec.csi.volumeAttributes;
    await log.step(
      `on ${n1.name}: what the volume is made of`,
      () => traces(n1, a.iqn ?? "", a.wwid ?? ""),
      (t) => `${t.sessions} iSCSI sessions, ${t.paths} paths, ${t.maps} multipath map /dev/mapper/${a.wwid ?? "?"}`,
    );
    await log.step(
      "kubectl exec: the pod reads its data back",
      () => execIn(K8S_CLAIM, "sha256sum -c /data/data.sha256 && cat /data/hello.txt && df -h /data | tail -1"),
      (out) => out.trim().replace(/\n/g, "; "),
    );
    log.say(`  kubectl describe pv ${pv.metadata.name}:`);
    log.block((await kc(["describe", "pv", pv.metadata.name])).trimEnd());
  } finally {
    await finishPart(ctx, undo, { name: `check: nothing of the claim's volume is left`, run: () => nothingLeft(n1, pv) });
  }
}

/** The release uninstalled and the cluster stopped, so the lab's own programs can take the VMs back. */
async function uninstallAndStop(lab: Lab): Promise<string> {
  const r = await helm(["uninstall", RELEASE, "-n", NAMESPACE, "--wait", "--ignore-not-found"], 600_000);
  if (r.code !== 0) throw new Error(`helm uninstall: ${r.stderr}`);
  await stopCluster(lab);
  return "the release's pods gone; its blockd key and TLS Secrets kept for a reinstall (as the chart's README says)";
}

/** What an earlier run with --keep (or one cut short) left of this part: its claim, the release, a running cluster. */
export async function sweepK8s(lab: Lab): Promise<string> {
  if (!(await apiReady())) return "no cluster runs";
  const claimGone = await deleteClaim(undefined);
  return `${claimGone}; ${await uninstallAndStop(lab)}`;
}

/** The demo's pod and claim deleted (also what an earlier run left); waits until the PV, its block and its CHAP Secret are gone. */
async function deleteClaim(pv: PvJson | undefined): Promise<string> {
  const known = pv ?? (await pvOf(K8S_CLAIM).catch(() => undefined));
  await deleteObjects("pod", K8S_CLAIM);
  await deleteObjects("pvc", K8S_CLAIM);
  if (!known) return "no claim was there";
  const name = known.metadata.name;
  await kc(["wait", "--for=delete", `pv/${name}`, "--timeout=600s"], { timeoutMs: 660_000 });
  const left: string[] = [];
  if ((await kubectl(["get", "secret", `${CHAP_SECRET_PREFIX}${name}`, "-n", NAMESPACE])).code === 0) left.push("its CHAP Secret");
  const list = await glusterBlockList(VOLUME);
  if (list.includes(name)) left.push(`${name} in gluster-block list`);
  if (left.length > 0) throw new Error(`the PV is gone but not ${left.join(", ")}`);
  return `${name} deleted: not in gluster-block list, its CHAP Secret gone`;
}

async function nothingLeft(n1: LabNode, pv: PvJson | undefined): Promise<string> {
  if (!pv) return "no volume was made";
  const a = pv.spec.csi.volumeAttributes;
  const t = await traces(n1, a.iqn ?? "", a.wwid ?? "");
  const left = Object.entries({ sessions: t.sessions, paths: t.paths, maps: t.maps, mounts: await mountsNaming(n1, pv.metadata.name), wwids: t.wwids })
    .filter(([, v]) => v !== 0)
    .map(([k, v]) => `${k}=${v}`);
  if (left.length > 0) throw new Error(`left behind on ${n1.name}: ${left.join(", ")}`);
  return `${n1.name}: 0 sessions, paths, maps, mounts, WWIDs`;
}
