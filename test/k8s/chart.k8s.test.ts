// Kubernetes in the lab (issue 23): the chart installed with helm on a
// cluster of real components (the control plane on the host, a kubelet and
// containerd on each lab VM, the sidecars from the given binaries), then what
// a user does: a PVC and a pod that writes, `kubectl describe pv`, a raw
// Block PVC, and everything deleted. Needs K8S_BIN_DIR (or the fixed place,
// lab/k8s/config.ts); skipped with one line otherwise.
// K8S_QUICK=1 (CI, scripts/test-all.sh): the install and the raw Block claim;
// the xfs claim is left out (its first mkfs in the emulated VMs takes minutes
// of kubelet retries; npm run test:k8s runs it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { traces } from "../../lab/harness/node-plugin.js";
import { kc, NAMESPACE } from "../../lab/k8s/cluster.js";
import { DEFAULT_DRIVER_NAME } from "../../src/csi/identity-server.js";
import { assertGone, claimAndPod, deleteObjects, execIn, initiatorOf, pvOf, registered, waitReady, WRITE_BLOB, WRITE_DEVICE, k8sFile } from "./workload.js";

const f = k8sFile();
const SKIP = f.skip;
const n = f.notes;
const note = (s: string): void => n.note(s);
const QUICK_SKIP =
  process.env.K8S_QUICK === "1" ? "K8S_QUICK=1: the raw Block claim takes the kubelet's path through the plugin; npm run test:k8s runs this one" : false;

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
    for (const node of f.lab.nodes) {
      // the kubelet registers the plugin after node-driver-registrar asks it to, once its pod runs: a user sees it within minutes
      const ours = await registered(node.name, 300);
      assert.ok(ours, `CSINode ${node.name} lists ${DEFAULT_DRIVER_NAME} within 300 s`);
      assert.equal(ours.nodeID, `${node.name}/${await initiatorOf(node)}`, "the node ID: the node's name and its initiator name, as NodeGetInfo reports them");
    }
  },
);

test(
  "a Filesystem PVC (xfs) and a pod on n1 that writes and reads back; kubectl describe pv; deleted, nothing is left",
  { skip: SKIP || QUICK_SKIP, timeout: 1_800_000 },
  async () => {
    const n1 = f.lab.node(1);
    await kc(["apply", "-f", "-"], {
      input: claimAndPod("data-xfs", "n1", { script: WRITE_BLOB }),
    });
    const s = await waitReady("data-xfs");
    note(`PVC data-xfs bound, attached, staged, published and the pod Ready in ${s.toFixed(1)} s`);
    const pv = await pvOf("data-xfs");
    assert.equal(pv.spec.csi.driver, DEFAULT_DRIVER_NAME);
    const check = await execIn("data-xfs", "sha256sum -c /data/blob.sha256 && stat -c '%U:%G %a' /data && findmnt -n -o FSTYPE /data");
    assert.match(check, /blob: OK/, check);
    assert.match(check, /^xfs$/m, check);
    const a = pv.spec.csi.volumeAttributes;
    const t = await traces(n1, a.iqn ?? "", a.wwid ?? "");
    assert.equal(t.sessions, 3, "3 sessions on n1");
    assert.equal(t.maps, 1, "one multipath map on n1");
    note(`kubectl describe pv:\n${await kc(["describe", "pv", pv.metadata.name])}`);
    await deleteObjects("pod", "data-xfs");
    await deleteObjects("pvc", "data-xfs");
    await assertGone([n1], pv, "data-xfs");
  },
);

test(
  "a raw Block PVC consumed by a pod on n2 as a device: written and read back through it; deleted, nothing is left",
  { skip: SKIP, timeout: 1_800_000 },
  async () => {
    const n2 = f.lab.node(2);
    await kc(["apply", "-f", "-"], {
      input: claimAndPod("data-raw", "n2", {
        block: true,
        script: WRITE_DEVICE,
      }),
    });
    const s = await waitReady("data-raw");
    note(`raw Block PVC data-raw: pod Ready in ${s.toFixed(1)} s`);
    const check = await execIn(
      "data-raw",
      "dd if=/dev/xvda bs=1M count=8 iflag=direct status=none | sha256sum | cmp - /tmp/blob.sha256 && echo SAME && blockdev --getsize64 /dev/xvda",
    );
    assert.match(check, /^SAME$/m, check);
    assert.match(check, /^1073741824$/m, "the device is the claim's 1 GiB");
    const pv = await pvOf("data-raw");
    await deleteObjects("pod", "data-raw");
    await deleteObjects("pvc", "data-raw");
    await assertGone([n2], pv, "data-raw");
  },
);
