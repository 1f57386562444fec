// Kubernetes in the lab (issue 23, test 9): csi-sanity against the driver as
// the chart runs it. The controller's socket is in its pod's emptyDir and the
// node plugin's under the kubelet's plugin directory, so csi-sanity runs on
// the node of the controller's pod and reaches both as the sidecars and the
// kubelet do. Every spec passes or is skipped for a capability the driver
// does not claim; the skips are listed. Needs K8S_BIN_DIR (or the fixed
// place, lab/k8s/config.ts); skipped with one line otherwise.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { HOSTING_VOLUME } from "../../lab/harness/lab.js";
import { NODE_SOCKET } from "../../lab/harness/node-plugin.js";
import { installChart, kc, NAMESPACE } from "../../lab/k8s/cluster.js";
import { share } from "../../lab/k8s/images.js";
import { k8sFile } from "./workload.js";

/**
 * csi-sanity calls NodeStageVolume once, with no deadline of its own, and
 * fails on DEADLINE_EXCEEDED, which the kubelet would retry: the node
 * plugin's call budget is raised for it (mkfs.xfs of a fresh volume takes
 * over 20 s in the lab's emulated VMs). The next file's install puts the
 * lab's values back.
 */
const SANITY_BUDGET = ["--set", "node.callBudgetSeconds=120"];

const f = k8sFile(async ({ cluster, notes }) => {
  const t0 = performance.now();
  await installChart(cluster, SANITY_BUDGET);
  notes.note(`helm upgrade ${SANITY_BUDGET.join(" ")}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
});
const SKIP = f.skip;
const n = f.notes;

/** where csi-sanity keeps its files and makes its target and staging paths: under the kubelet's directory, which the plugin's pod sees */
const WORK = "/var/lib/kubelet/plugins/csi-sanity";
/** csi-sanity's output on its node, kept after the run */
const LOG = "/var/tmp/csi-sanity.log";
/**
 * csi-sanity's own limit. About 75 specs, some 40 of which create a volume
 * (HA 3, CHAP) and some stage one (three logins, a map, mkfs): 25-40 s a
 * create in the lab's emulated VMs with the cluster on them.
 */
const SANITY_MINUTES = 90;

/**
 * The chart's StorageClass parameters, except CHAP: csi-sanity gives
 * NodeStageVolume one fixed secret from a file, while the driver makes a new
 * CHAP user and password per volume (the Secret the StorageClass's
 * node-stage-secret-name template points the kubelet at).
 */
async function sanityParameters(): Promise<Record<string, string>> {
  const sc = JSON.parse(await kc(["get", "storageclass", "gluster-block", "-o", "json"])) as { parameters: Record<string, string> };
  const p = Object.fromEntries(Object.entries(sc.parameters).filter(([k]) => !k.startsWith("csi.storage.k8s.io/")));
  return { ...p, auth: "false" };
}

test(
  "csi-sanity against the running driver's controller and node services: every spec passes or is skipped for a capability not claimed",
  { skip: SKIP, timeout: (SANITY_MINUTES + 10) * 60_000 },
  async () => {
    const ctl = JSON.parse(await kc(["get", "pods", "-n", NAMESPACE, "-l", "app.kubernetes.io/component=controller", "-o", "json"])) as {
      items: { metadata: { uid: string; name: string }; spec: { nodeName: string } }[];
    };
    const pod = ctl.items[0];
    assert.ok(pod, "the controller's pod");
    const node = f.lab.nodes.find((x) => x.name === pod.spec.nodeName);
    assert.ok(node, `the controller runs on a lab node (${pod.spec.nodeName})`);
    const controllerSocket = `/var/lib/kubelet/pods/${pod.metadata.uid}/volumes/kubernetes.io~empty-dir/socket-dir/csi.sock`;
    const params = await sanityParameters();
    assert.equal(params.hostingVolume, HOSTING_VOLUME);
    const sanity = share(join(f.bins?.dir ?? "", "csi-sanity"));
    await node.must(`rm -rf ${WORK}; mkdir -p ${WORK}; cat > ${WORK}/parameters.yaml`, {
      input: Object.entries(params)
        .map(([k, v]) => `${k}: ${JSON.stringify(v)}\n`)
        .join(""),
    });
    const t0 = performance.now();
    // the log is kept on the node as it is written (${LOG}): a run cut short still shows how far it got
    const args = [
      sanity,
      `--csi.endpoint=unix://${NODE_SOCKET}`,
      `--csi.controllerendpoint=unix://${controllerSocket}`,
      `--csi.mountdir=${WORK}/target`,
      `--csi.stagingdir=${WORK}/staging`,
      `--csi.testvolumeparameters=${WORK}/parameters.yaml`,
      `--csi.testvolumesize=${1024 ** 3}`,
      `--csi.testvolumeexpandsize=${2 * 1024 ** 3}`,
      "--ginkgo.no-color",
      "--ginkgo.v",
      `--ginkgo.timeout=${SANITY_MINUTES}m`,
    ];
    const r = await node.run(`set -o pipefail; ${args.join(" ")} 2>&1 | tee ${LOG}`, { timeoutMs: (SANITY_MINUTES + 5) * 60_000 });
    const out = r.stdout + r.stderr;
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    const ran = /Ran \d+ of \d+ Specs in [\d.]+ seconds/.exec(out)?.[0] ?? "(no summary)";
    const counts = /(SUCCESS|FAIL)! -- \d+ Passed \| \d+ Failed \| \d+ Pending \| \d+ Skipped/.exec(out)?.[0] ?? "(no counts)";
    n.note(`csi-sanity on ${node.name} (${seconds} s): ${ran}; ${counts}`);
    // a skipped spec prints "[SKIPPED] <reason>"; list each reason once with how often
    const reasons = new Map<string, number>();
    for (const m of out.matchAll(/\[SKIPPED\] (.+)$/gm)) reasons.set(m[1] ?? "", (reasons.get(m[1] ?? "") ?? 0) + 1);
    n.note(`skips:\n${[...reasons].map(([why, k]) => `  ${k}x ${why}`).join("\n") || "  none"}`);
    const failures = [...out.matchAll(/^\s*\[FAIL\] (.+)$/gm)].map((m) => m[1]);
    assert.equal(r.code, 0, `csi-sanity failed: ${counts}\n${failures.join("\n")}\n${out.slice(-6000)}`);
    assert.match(counts, /^SUCCESS! -- \d+ Passed \| 0 Failed/);
    await node.run(`rm -rf ${WORK}`);
  },
);
