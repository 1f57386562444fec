// What a user does with the driver in the lab's cluster, as kubectl does it:
// claims of the chart's StorageClass and pods that use them (in the default
// namespace), waiting for them, their PVs and VolumeAttachments. The
// Kubernetes layer's tests and the demo share it.
import type { LabNode } from "../harness/lab.js";
import { DEFAULT_DRIVER_NAME } from "../../src/csi/identity-server.js";
import { kc, NAMESPACE, RELEASE_BLOCKD } from "./cluster.js";
import { kubectl } from "./control-plane.js";
import { NODE } from "../harness/product.js";

/** the chart's StorageClass in the lab's values (lab/chart/k8s-values.yaml) */
export const STORAGE_CLASS = "gluster-block";
export const GiB = 1024 ** 3;

export interface PvJson {
  metadata: { name: string };
  spec: { csi: { driver: string; volumeHandle: string; volumeAttributes: Record<string, string> } };
}

const sh = (s: string): string => s.replace(/'/g, `'\\''`);

export interface ClaimOpts {
  block?: boolean;
  size?: string;
  storageClass?: string;
}

/** A claim of the chart's StorageClass (or `storageClass`). */
export function claim(name: string, opts: ClaimOpts = {}): string {
  return `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: ${name}, namespace: default}
spec:
  accessModes: [ReadWriteOnce]
  volumeMode: ${opts.block ? "Block" : "Filesystem"}
  storageClassName: ${opts.storageClass ?? STORAGE_CLASS}
  resources: {requests: {storage: ${opts.size ?? "1Gi"}}}
`;
}

/** A pod on `node` that runs `script` on the claim `claimName` (a mount at /data, or the device at /dev/xvda), then is Ready. */
export function pod(name: string, node: string, opts: { claimName: string; block?: boolean; script: string }): string {
  const use = opts.block ? `volumeDevices: [{name: d, devicePath: /dev/xvda}]` : `volumeMounts: [{name: d, mountPath: /data}]`;
  // a script that ends in a background job (`... &`) takes no `;` after it: `&;` is a shell syntax error
  const script = /&\s*$/.test(opts.script) ? opts.script : `${opts.script};`;
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: default}
spec:
  nodeSelector: {kubernetes.io/hostname: ${node}}
  terminationGracePeriodSeconds: 2
  securityContext: {runAsUser: ${opts.block ? 0 : 10001}, runAsGroup: ${opts.block ? 0 : 10001}, fsGroup: 10001}
  containers:
    - name: app
      image: gluster-block-csi:0.1.0
      imagePullPolicy: Never
      command: ["sh", "-c", '${sh(script)} touch /tmp/ready; exec sleep 100000']
      readinessProbe: {exec: {command: [test, -e, /tmp/ready]}, periodSeconds: 2}
      ${use}
  volumes: [{name: d, persistentVolumeClaim: {claimName: ${opts.claimName}}}]
`;
}

/** A claim and a pod of the same name on `node` that uses it. */
export function claimAndPod(name: string, node: string, opts: ClaimOpts & { script: string }): string {
  return `${claim(name, opts)}---\n${pod(name, node, { claimName: name, block: opts.block, script: opts.script })}`;
}

/** Writes 8 MiB of random data to the volume and keeps its checksum (in the filesystem, or in the pod's /tmp for a device). */
export const WRITE_BLOB = "dd if=/dev/urandom of=/data/blob bs=1M count=8 status=none && sync && sha256sum /data/blob > /data/blob.sha256";
export const WRITE_DEVICE =
  "dd if=/dev/urandom of=/tmp/blob bs=1M count=8 status=none && dd if=/tmp/blob of=/dev/xvda bs=1M oflag=direct conv=fsync status=none && sha256sum < /tmp/blob > /tmp/blob.sha256";

/** `sh -c script` in the pod's container; its stdout */
export function execIn(podName: string, script: string): Promise<string> {
  return kc(["exec", podName, "-n", "default", "--", "sh", "-c", script]);
}

export async function pvOf(claimName: string): Promise<PvJson> {
  const pvName = (await kc(["get", "pvc", claimName, "-n", "default", "-o", "jsonpath={.spec.volumeName}"])).trim();
  if (!pvName) throw new Error(`${claimName} is not bound to a PV`);
  return JSON.parse(await kc(["get", "pv", pvName, "-o", "json"])) as PvJson;
}

/** Seconds until the pod is Ready; its events in the error when it is not within `seconds`. */
export async function waitReady(podName: string, seconds = 900): Promise<number> {
  const t0 = performance.now();
  const r = await kubectl(["wait", "--for=condition=Ready", `pod/${podName}`, "-n", "default", `--timeout=${seconds}s`], {
    timeoutMs: (seconds + 60) * 1000,
  });
  if (r.code !== 0) {
    const d = await kubectl(["describe", "pod", podName, "-n", "default"]);
    throw new Error(`pod ${podName} not Ready: ${r.stderr}\n${d.stdout.split("\n").slice(-25).join("\n")}`);
  }
  return (performance.now() - t0) / 1000;
}

export async function deleteObjects(kind: "pod" | "pvc", ...names: string[]): Promise<void> {
  await kc(["delete", kind, ...names, "-n", "default", "--ignore-not-found", "--wait=true", "--timeout=300s"], { timeoutMs: 360_000 });
}

/** Polls `probe` every 3 s until it answers something other than undefined, for up to `seconds`. */
export async function until<T>(seconds: number, probe: () => Promise<T | undefined>): Promise<T | undefined> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) return undefined;
    await new Promise((res) => setTimeout(res, 3000));
  }
}

/** Our driver's entry in the node's CSINode, once the kubelet lists it (polled up to `seconds`). */
export function registered(node: string, seconds: number): Promise<{ name: string; nodeID: string } | undefined> {
  return until(seconds, async () => {
    const r = await kubectl(["get", "csinode", node, "-o", "json"]);
    if (r.code !== 0) return undefined;
    const csinode = JSON.parse(r.stdout) as { spec: { drivers?: { name: string; nodeID: string }[] } };
    return (csinode.spec.drivers ?? []).find((d) => d.name === DEFAULT_DRIVER_NAME);
  });
}

/** The nodes the PV's VolumeAttachments name. */
export async function attachedTo(pvName: string): Promise<string[]> {
  const vas = JSON.parse(await kc(["get", "volumeattachments", "-o", "json"])) as {
    items: { spec: { nodeName: string; source: { persistentVolumeName?: string } } }[];
  };
  return vas.items.filter((v) => v.spec.source.persistentVolumeName === pvName).map((v) => v.spec.nodeName);
}

/** The initiator name of a lab node, as the node plugin reports it in its node ID. */
export async function initiatorOf(n: LabNode): Promise<string> {
  return (await n.must("sed -n 's/^InitiatorName=//p' /etc/iscsi/initiatorname.iscsi")).stdout.trim();
}

/** `gluster-block list <volume>` as an admin runs it in the cluster (`kubectl exec` in a blockd pod): its output. */
export function glusterBlockList(volume: string): Promise<string> {
  return kc(["exec", "-n", NAMESPACE, `ds/${RELEASE_BLOCKD}`, "--", "gluster-block", "list", volume]);
}

/** The name of the release's pod of `component` on `node`, once one is Ready (polled up to `seconds`). */
export function readyPodOn(component: "node" | "blockd", node: string, seconds: number, not?: string): Promise<string | undefined> {
  return until(seconds, async () => {
    const pods = JSON.parse(
      await kc(["get", "pods", "-n", NAMESPACE, "-l", `app.kubernetes.io/component=${component}`, "--field-selector", `spec.nodeName=${node}`, "-o", "json"]),
    ) as { items: { metadata: { name: string; deletionTimestamp?: string }; status: { conditions?: { type: string; status: string }[] } }[] };
    const p = pods.items.find(
      (i) => i.metadata.name !== not && !i.metadata.deletionTimestamp && (i.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
    );
    return p?.metadata.name;
  });
}

/**
 * The node plugin's login probe (dist/node/login-probe.js) run on `from`: the
 * status the target answers a login of `initiatorIqn` ("0x0000" admitted,
 * "0x0202" initiator not authorized).
 */
export async function loginProbe(from: LabNode, portal: string, targetIqn: string, initiatorIqn: string): Promise<string> {
  const args = JSON.stringify({ portal, targetIqn, initiatorIqn, timeoutMs: 15_000 });
  const script = `import { probeLogin, statusHex } from "/lab/repo/dist/node/login-probe.js"; console.log(statusHex(await probeLogin(${args})));`;
  return (await from.must([NODE, "--input-type=module", "-e", script])).stdout.trim();
}
