// Kubernetes in the lab (issue 23): the chart installed with helm on a
// cluster of real components (the control plane on the host, a kubelet and
// containerd on each lab VM, the sidecars from the given binaries), then what
// a user does: a PVC and a pod that writes, `kubectl describe pv`, a raw
// Block PVC, and everything deleted. Needs K8S_BIN_DIR (or the fixed place,
// lab/k8s/config.ts); skipped with one line otherwise.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ensureLab, type Lab, type LabNode } from "../../lab/harness/lab.js";
import { traces, NOTHING } from "../../lab/harness/node-plugin.js";
import { k8sBins, K8S_SKIP } from "../../lab/k8s/config.js";
import { ensureCluster, installChart, kc, NAMESPACE, type Cluster } from "../../lab/k8s/cluster.js";
import { kubectl } from "../../lab/k8s/control-plane.js";
import { DEFAULT_DRIVER_NAME } from "../../src/csi/identity-server.js";
import { CHAP_SECRET_PREFIX } from "../../src/controller/chap-secrets.js";

const bins = k8sBins();
const SKIP = bins ? false : K8S_SKIP;
if (!bins) console.log(`# k8s layer skipped: ${K8S_SKIP}`);

const RELEASE_BLOCKD = "gluster-block-csi-blockd";
let lab: Lab;
let cluster: Cluster;
const notes: string[] = [];
const note = (s: string): void => {
  notes.push(s);
  console.log(s);
};

interface PvJson {
  metadata: { name: string };
  spec: { csi: { driver: string; volumeHandle: string; volumeAttributes: Record<string, string> } };
}

before(async () => {
  if (!bins) return;
  lab = await ensureLab({ nodes: 3 });
  cluster = await ensureCluster(lab);
  note(`cluster: ${cluster.phases.map((p) => `${p.name} ${p.seconds}s`).join(", ")}`);
  const t0 = performance.now();
  await installChart(cluster);
  note(`helm upgrade --install --wait: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
});

after(() => {
  if (bins && lab) console.log(`--- k8s notes ---\n${notes.join("\n")}`);
});

const sh = (s: string): string => s.replace(/'/g, `'\\''`);

/** A claim of the chart's StorageClass and a pod on `node` that uses it (a mount at /data, or the device at /dev/xvda). */
function claimAndPod(name: string, node: string, opts: { block?: boolean; size?: string; script: string }): string {
  const mount = opts.block ? `volumeDevices: [{name: d, devicePath: /dev/xvda}]` : `volumeMounts: [{name: d, mountPath: /data}]`;
  return `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: ${name}, namespace: default}
spec:
  accessModes: [ReadWriteOnce]
  volumeMode: ${opts.block ? "Block" : "Filesystem"}
  resources: {requests: {storage: ${opts.size ?? "1Gi"}}}
---
apiVersion: v1
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
      command: ["sh", "-c", '${sh(opts.script)}; touch /tmp/ready; exec sleep 100000']
      readinessProbe: {exec: {command: [test, -e, /tmp/ready]}, periodSeconds: 2}
      ${mount}
  volumes: [{name: d, persistentVolumeClaim: {claimName: ${name}}}]
`;
}

async function pvOf(claim: string): Promise<PvJson> {
  const pvName = (await kc(["get", "pvc", claim, "-n", "default", "-o", "jsonpath={.spec.volumeName}"])).trim();
  assert.ok(pvName, `${claim} is bound`);
  return JSON.parse(await kc(["get", "pv", pvName, "-o", "json"])) as PvJson;
}

async function waitReady(pod: string, seconds = 900): Promise<number> {
  const t0 = performance.now();
  const r = await kubectl(["wait", "--for=condition=Ready", `pod/${pod}`, "-n", "default", `--timeout=${seconds}s`], { timeoutMs: (seconds + 60) * 1000 });
  if (r.code !== 0) {
    const d = await kubectl(["describe", "pod", pod, "-n", "default"]);
    throw new Error(`pod ${pod} not Ready: ${r.stderr}\n${d.stdout.split("\n").slice(-25).join("\n")}`);
  }
  return (performance.now() - t0) / 1000;
}

test(
  "helm install: every pod Running and Ready; node-driver-registrar registers the plugin with the node ID the plugin reports",
  { skip: SKIP, timeout: 600_000 },
  async () => {
    const pods = JSON.parse(await kc(["get", "pods", "-n", NAMESPACE, "-o", "json"])) as {
      items: { metadata: { name: string }; status: { phase: string; conditions?: { type: string; status: string }[] } }[];
    };
    const ready = (p: (typeof pods.items)[number]): boolean =>
      p.status.phase === "Running" && (p.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
    assert.deepEqual(
      pods.items.filter((p) => !ready(p)).map((p) => p.metadata.name),
      [],
      "every pod Running and Ready",
    );
    assert.equal(pods.items.filter((p) => p.metadata.name.includes("-blockd-")).length, 3, "blockd on the 3 storage nodes");
    assert.equal(pods.items.filter((p) => p.metadata.name.includes("-node-")).length, 3, "the node plugin on the 3 workers");
    note(`kubectl get pods -A:\n${await kc(["get", "pods", "-A", "-o", "wide"])}`);
    for (const n of lab.nodes) {
      // the kubelet registers the plugin after node-driver-registrar asks it to, once its pod runs: a user sees it within minutes
      const ours = await registered(n.name, 300);
      assert.ok(ours, `CSINode ${n.name} lists ${DEFAULT_DRIVER_NAME} within 300 s`);
      const iqn = (await n.must("sed -n 's/^InitiatorName=//p' /etc/iscsi/initiatorname.iscsi")).stdout.trim();
      assert.equal(ours.nodeID, `${n.name}/${iqn}`, "the node ID: the node's name and its initiator name, as NodeGetInfo reports them");
    }
  },
);

/** Our driver's entry in the node's CSINode, once the kubelet lists it (polled up to `seconds`). */
async function registered(node: string, seconds: number): Promise<{ name: string; nodeID: string } | undefined> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const r = await kubectl(["get", "csinode", node, "-o", "json"]);
    if (r.code === 0) {
      const csinode = JSON.parse(r.stdout) as { spec: { drivers?: { name: string; nodeID: string }[] } };
      const ours = (csinode.spec.drivers ?? []).find((d) => d.name === DEFAULT_DRIVER_NAME);
      if (ours) return ours;
    }
    if (Date.now() > end) return undefined;
    await new Promise((res) => setTimeout(res, 3000));
  }
}

async function assertGone(n: LabNode, pv: PvJson, claim: string): Promise<void> {
  const a = pv.spec.csi.volumeAttributes;
  await kc(["wait", "--for=delete", `pv/${pv.metadata.name}`, "--timeout=600s"], { timeoutMs: 660_000 });
  // mounts: this volume's (its PV name is in the staging and publish paths); the node's other pods keep theirs
  assert.deepEqual(
    await traces(n, a.iqn ?? "", a.wwid ?? "", `/var/lib/kubelet/.*/${pv.metadata.name}/`),
    NOTHING,
    `${claim}: no session, path, map, mount, record or WWID left on ${n.name}`,
  );
  const secrets = await kc(["get", "secrets", "-n", NAMESPACE, "-o", "name"]);
  assert.ok(!secrets.includes(`${CHAP_SECRET_PREFIX}${pv.metadata.name}`), `${claim}: its CHAP Secret is gone`);
  const list = await kc(["exec", "-n", NAMESPACE, `ds/${RELEASE_BLOCKD}`, "--", "gluster-block", "list", "block-test"]);
  assert.ok(!list.includes(pv.metadata.name), `${claim}: the block is gone (${list.trim()})`);
}

test(
  "a Filesystem PVC (xfs) and a pod on n1 that writes and reads back; kubectl describe pv; deleted, nothing is left",
  { skip: SKIP, timeout: 1_800_000 },
  async () => {
    const n1 = lab.node(1);
    await kc(["apply", "-f", "-"], {
      input: claimAndPod("data-xfs", "n1", {
        script: "dd if=/dev/urandom of=/data/blob bs=1M count=8 status=none && sync && sha256sum /data/blob > /data/blob.sha256",
      }),
    });
    const s = await waitReady("data-xfs");
    note(`PVC data-xfs bound, attached, staged, published and the pod Ready in ${s.toFixed(1)} s`);
    const pv = await pvOf("data-xfs");
    assert.equal(pv.spec.csi.driver, DEFAULT_DRIVER_NAME);
    const check = await kc([
      "exec",
      "data-xfs",
      "-n",
      "default",
      "--",
      "sh",
      "-c",
      "sha256sum -c /data/blob.sha256 && stat -c '%U:%G %a' /data && findmnt -n -o FSTYPE /data",
    ]);
    assert.match(check, /blob: OK/, check);
    assert.match(check, /^xfs$/m, check);
    const a = pv.spec.csi.volumeAttributes;
    const t = await traces(n1, a.iqn ?? "", a.wwid ?? "");
    assert.equal(t.sessions, 3, "3 sessions on n1");
    assert.equal(t.maps, 1, "one multipath map on n1");
    note(`kubectl describe pv:\n${await kc(["describe", "pv", pv.metadata.name])}`);
    await kc(["delete", "pod", "data-xfs", "-n", "default", "--wait=true", "--timeout=300s"], { timeoutMs: 360_000 });
    await kc(["delete", "pvc", "data-xfs", "-n", "default", "--wait=true", "--timeout=300s"], { timeoutMs: 360_000 });
    await assertGone(n1, pv, "data-xfs");
  },
);

test(
  "a raw Block PVC consumed by a pod on n2 as a device: written and read back through it; deleted, nothing is left",
  { skip: SKIP, timeout: 1_800_000 },
  async () => {
    const n2 = lab.node(2);
    await kc(["apply", "-f", "-"], {
      input: claimAndPod("data-raw", "n2", {
        block: true,
        script:
          "dd if=/dev/urandom of=/tmp/blob bs=1M count=8 status=none && dd if=/tmp/blob of=/dev/xvda bs=1M oflag=direct conv=fsync status=none && sha256sum < /tmp/blob > /tmp/blob.sha256",
      }),
    });
    const s = await waitReady("data-raw");
    note(`raw Block PVC data-raw: pod Ready in ${s.toFixed(1)} s`);
    const check = await kc([
      "exec",
      "data-raw",
      "-n",
      "default",
      "--",
      "sh",
      "-c",
      "dd if=/dev/xvda bs=1M count=8 iflag=direct status=none | sha256sum | cmp - /tmp/blob.sha256 && echo SAME && blockdev --getsize64 /dev/xvda",
    ]);
    assert.match(check, /^SAME$/m, check);
    assert.match(check, /^1073741824$/m, "the device is the claim's 1 GiB");
    const pv = await pvOf("data-raw");
    await kc(["delete", "pod", "data-raw", "-n", "default", "--wait=true", "--timeout=300s"], { timeoutMs: 360_000 });
    await kc(["delete", "pvc", "data-raw", "-n", "default", "--wait=true", "--timeout=300s"], { timeoutMs: 360_000 });
    await assertGone(n2, pv, "data-raw");
  },
);
