// The lab as a Kubernetes cluster: the control plane on the host, n1-n3 as
// workers that are storage nodes too (labelled for blockd's DaemonSet), the
// product's and the sidecars' images in each node's containerd, and the
// chart installed with helm as a user installs it. Everything is reused when
// it runs already.
import { join } from "node:path";
import { LAB_SCRIPTS } from "../config.js";
import { CHART_DIR, helmWithCluster, type HelmResult } from "../helm.js";
import type { Lab } from "../harness/lab.js";
import { stopNodePlugin } from "../harness/node-plugin.js";
import { stopBlockdEverywhere } from "../harness/product.js";
import { productArchive } from "../harness/product-image.js";
import { k8sBins, K8S_SKIP } from "./config.js";
import { ADMIN_KUBECONFIG, ensureControlPlane, kubectl, stopControlPlane } from "./control-plane.js";
import { ensureClusterImages, SIDECARS, type ClusterImages, type SidecarKey } from "./images.js";
import { ensureWorker, stopWorker, type Archive } from "./workers.js";

export const RELEASE = "gluster-block-csi";
/** the release's blockd DaemonSet, for `kubectl exec ds/...` (the CLI runs in its pods) */
export const RELEASE_BLOCKD = `${RELEASE}-blockd`;
export const NAMESPACE = "gluster-block-csi";
export const K8S_VALUES = join(LAB_SCRIPTS, "chart/k8s-values.yaml");
export const STORAGE_NODE_LABEL = "gluster.org/storage-node";

export interface Cluster {
  lab: Lab;
  images: ClusterImages;
  /** the product image's ID in the nodes' containerd: a new build is a new ID */
  productImageId: string;
  /** seconds per phase of this call */
  phases: { name: string; seconds: number }[];
}

async function phase<T>(phases: Cluster["phases"], name: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const r = await f();
  phases.push({ name, seconds: Math.round((performance.now() - t0) / 100) / 10 });
  return r;
}

/** kubectl that must succeed; its stdout */
export async function kc(args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await kubectl(args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Control plane, workers, images: a cluster of the lab's nodes, every node Ready. */
export async function ensureCluster(lab: Lab): Promise<Cluster> {
  const bins = k8sBins();
  if (!bins) throw new Error(K8S_SKIP);
  const phases: Cluster["phases"] = [];
  await phase(phases, "control plane", () =>
    ensureControlPlane(
      bins.dir,
      lab.nodes.map((n) => n.name),
    ),
  );
  const images = await phase(phases, "sidecar and pause images", () => ensureClusterImages(bins.dir));
  const product = await phase(phases, "product image", () => productArchive());
  // the chart's pods take blockd's port and the plugin's socket: the podman-run programs of the e2e go
  await phase(phases, "stop the e2e's podman programs", async () => {
    await stopBlockdEverywhere(lab);
    await Promise.all(lab.nodes.map((n) => stopNodePlugin(n)));
  });
  const archives: Archive[] = [
    { guestPath: product.guestArchive, stamp: product.hash },
    { guestPath: images.pause.guestArchive, stamp: images.pause.tag },
    ...Object.values(images.sidecars).map((s) => ({ guestPath: s.guestArchive, stamp: s.tag })),
  ];
  await phase(phases, "workers (containerd, CNI, images, kubelet)", () => Promise.all(lab.nodes.map((n) => ensureWorker(n, bins.dir, archives))));
  await phase(phases, "nodes Ready", async () => {
    for (let k = 0; k < 300; k++) {
      const names = (await kubectl(["get", "nodes", "-o", "name"])).stdout.split("\n").filter(Boolean);
      if (names.length >= lab.nodes.length) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    await kc(["wait", "--for=condition=Ready", "node", "--all", "--timeout=600s"], { timeoutMs: 660_000 });
    await kc(["label", "node", "--overwrite", ...lab.nodes.map((n) => n.name), `${STORAGE_NODE_LABEL}=true`]);
  });
  return { lab, images, productImageId: product.imageId, phases };
}

/** The --set flags that name the sidecar images made from the given binaries. */
export function sidecarValues(images: ClusterImages): string[] {
  return (Object.keys(SIDECARS) as SidecarKey[]).flatMap((k) => {
    const i = images.sidecars[k];
    return [`images.${k}.repository=${i.repository}`, `images.${k}.tag=${i.tag}`, `images.${k}.pullPolicy=Never`];
  });
}

/**
 * The product image's ID on each component's pods. Its tag stays 0.1.0 from
 * build to build, so without it a new image in containerd left the running
 * pods on the old one (nothing in their template changed); with it a new
 * build rolls them, and the same build changes nothing.
 */
export function imageAnnotations(imageId: string): string[] {
  const id = imageId.replace(/^sha256:/, "").slice(0, 12);
  return ["controller", "node", "blockd"].map((c) => `${c}.podAnnotations.lab\\.gluster\\.org/image=${id}`);
}

/** helm against the lab cluster */
export function helm(args: readonly string[], timeoutMs = 300_000): Promise<HelmResult> {
  return helmWithCluster(ADMIN_KUBECONFIG, args, timeoutMs);
}

/**
 * The chart installed (or upgraded) as the README says: the namespace made
 * and labelled for privileged pods first, then `helm upgrade --install
 * --wait` with the lab's values.
 */
export async function installChart(c: Cluster, extra: readonly string[] = []): Promise<HelmResult> {
  await kubectl(["create", "namespace", NAMESPACE]);
  await settlePendingRelease();
  await kc(["label", "namespace", NAMESPACE, "--overwrite", "pod-security.kubernetes.io/enforce=privileged"]);
  const set = [...sidecarValues(c.images), ...imageAnnotations(c.productImageId)].flatMap((s) => ["--set-string", s]);
  const r = await helm(
    ["upgrade", "--install", RELEASE, CHART_DIR, "--namespace", NAMESPACE, "--values", K8S_VALUES, ...set, ...extra, "--wait", "--timeout", "15m"],
    16 * 60_000,
  );
  if (r.code !== 0) throw new Error(`helm upgrade --install failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r;
}

/**
 * A helm that was killed during `upgrade --install --wait` (a run cut short)
 * leaves the release pending, and every later upgrade answers "another
 * operation (install/upgrade/rollback) is in progress". Helm's own way out,
 * as an admin would take it: a pending upgrade or rollback is rolled back to
 * the release before it (not waited for: the upgrade that follows waits);
 * a pending first install is uninstalled.
 */
async function settlePendingRelease(): Promise<void> {
  const st = await helm(["status", RELEASE, "--namespace", NAMESPACE, "-o", "json"]);
  if (st.code !== 0) return; // no release yet
  const status = (JSON.parse(st.stdout) as { info?: { status?: string } }).info?.status ?? "";
  if (!status.startsWith("pending-")) return;
  process.stderr.write(`[k8s] release ${RELEASE} is ${status} (a helm cut short): settling it first\n`);
  const r =
    status === "pending-install"
      ? await helm(["uninstall", RELEASE, "--namespace", NAMESPACE, "--wait"], 600_000)
      : await helm(["rollback", RELEASE, "--namespace", NAMESPACE], 300_000);
  if (r.code !== 0) throw new Error(`release ${RELEASE} is ${status} and could not be settled (${r.code}): ${r.stderr}${r.stdout}`);
}

/** The cluster stopped: every kubelet and pod container on the lab's nodes, then the control plane (its state kept for the next start). */
export async function stopCluster(lab: Lab): Promise<void> {
  await Promise.all(lab.nodes.map((n) => stopWorker(n)));
  await stopControlPlane();
}
