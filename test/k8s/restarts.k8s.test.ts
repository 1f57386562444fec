// Kubernetes in the lab (issue 23, tests 6 and 7): the driver's own pods go
// away under load. The node plugin's pod deleted, then the kubelet killed,
// while a pod writes to its volume: the writes go on, and the new plugin pod
// unstages the volume later. A storage node's blockd pod deleted during a
// burst of 10 claims: every claim ends Bound and `gluster-block audit` finds
// nothing on any node. Needs K8S_BIN_DIR (or the fixed place,
// lab/k8s/config.ts); skipped with one line otherwise.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { HOSTING_VOLUME, type LabNode } from "../../lab/harness/lab.js";
import { kc, NAMESPACE } from "../../lab/k8s/cluster.js";
import { KUBELET_UNIT } from "../../lab/k8s/workers.js";
import { assertGone, claim, claimAndPod, glusterBlockList, deleteObjects, pvOf, until, waitReady, type PvJson, k8sFile, readyPodOn } from "./workload.js";

const f = k8sFile();
const SKIP = f.skip;
const n = f.notes;

const COMPONENT = "app.kubernetes.io/component";
const BURST = Array.from({ length: 10 }, (_, k) => `burst-${k}`);

// a test that failed half-way leaves no claim behind for the next file (their volumes are deleted with them)
after(async () => {
  if (f.skip) return;
  await deleteObjects("pod", "writer");
  await deleteObjects("pvc", "writer", ...BURST);
});

/** A writer: a line with a counter appended and synced to the volume every half second; a failed write goes to /tmp/errors. */
const WRITER = "( i=0; while :; do i=$((i+1)); if echo $i >> /data/count && sync /data/count; then :; else echo $i >> /tmp/errors; fi; sleep 0.5; done ) &";

/**
 * Where the writer's files are on its node's host: its volume's mount and
 * its container's root. Read there, not with `kubectl exec`, which goes
 * through the kubelet this test kills.
 */
interface WriterFiles {
  node: LabNode;
  volume: string;
  rootfs: string;
}

async function writerFiles(node: LabNode): Promise<WriterFiles> {
  const p = JSON.parse(await kc(["get", "pod", "writer", "-n", "default", "-o", "json"])) as {
    metadata: { uid: string };
    status: { containerStatuses?: { containerID?: string }[] };
  };
  const container = (p.status.containerStatuses?.[0]?.containerID ?? "").replace(/^containerd:\/\//, "");
  assert.ok(container, "the writer's container ID");
  return {
    node,
    volume: `/var/lib/kubelet/pods/${p.metadata.uid}/volumes/kubernetes.io~csi/${(await pvOf("writer")).metadata.name}/mount`,
    rootfs: `/run/containerd/io.containerd.runtime.v2.task/k8s.io/${container}/rootfs`,
  };
}

const written = async (w: WriterFiles): Promise<number> => Number((await w.node.must(`tail -n 1 ${w.volume}/count 2>/dev/null || echo 0`)).stdout.trim());
const errors = async (w: WriterFiles): Promise<string> => (await w.node.must(`cat ${w.rootfs}/tmp/errors 2>/dev/null || true`)).stdout.trim();

/** The writer's counter goes on (10 more writes within 60 s) after `from`, and no write failed. */
async function writesGoOn(w: WriterFiles, from: number, what: string): Promise<number> {
  const now = await until(60, async () => {
    const c = await written(w);
    return c > from + 10 ? c : undefined;
  });
  assert.ok(now, `${what}: the pod's writes go on (counter ${from} -> ${await written(w)})`);
  assert.equal(await errors(w), "", `${what}: no write failed`);
  return now;
}

test(
  "the node plugin's pod deleted, then the kubelet killed, while a pod on n1 writes: the writes go on; the new plugin pod unstages later",
  { skip: SKIP, timeout: 1_800_000 },
  async () => {
    const n1 = f.lab.node(1);
    await kc(["apply", "-f", "-"], { input: claimAndPod("writer", "n1", { script: WRITER }) });
    n.note(`writer: pod Ready in ${(await waitReady("writer")).toFixed(1)} s`);
    const podUid = (await kc(["get", "pod", "writer", "-n", "default", "-o", "jsonpath={.metadata.uid}"])).trim();
    const w = await writerFiles(n1);
    let count = await writesGoOn(w, await written(w), "before anything");

    const plugin = await readyPodOn("node", "n1", 60);
    assert.ok(plugin, "the node plugin's pod on n1");
    const t0 = performance.now();
    await kc(["delete", "pod", plugin, "-n", NAMESPACE, "--wait=false"]);
    count = await writesGoOn(w, count, "the plugin's pod deleted");
    const next = await readyPodOn("node", "n1", 600, plugin);
    assert.ok(next, "a new node plugin pod on n1 is Ready within 600 s");
    n.note(`node plugin pod ${plugin} deleted: ${next} Ready ${((performance.now() - t0) / 1000).toFixed(1)} s later; the writer's counter at ${count}`);
    count = await writesGoOn(w, count, "after the new plugin pod");

    const t1 = performance.now();
    await n1.must(`systemctl kill -s SIGKILL ${KUBELET_UNIT}`);
    count = await writesGoOn(w, count, "the kubelet killed");
    await kc(["wait", "--for=condition=Ready", "node/n1", "--timeout=300s"], { timeoutMs: 360_000 });
    await until(120, async () => ((await n1.run(`systemctl is-active ${KUBELET_UNIT}`)).stdout.trim() === "active" ? true : undefined));
    count = await writesGoOn(w, count, "after the kubelet came back");
    n.note(`kubelet on n1 killed: back and the node Ready ${((performance.now() - t1) / 1000).toFixed(1)} s later; the writer's counter at ${count}`);
    const same = JSON.parse(await kc(["get", "pod", "writer", "-n", "default", "-o", "json"])) as {
      metadata: { uid: string };
      status: { containerStatuses: { restartCount: number }[] };
    };
    assert.equal(same.metadata.uid, podUid, "the writer is the same pod");
    assert.equal(same.status.containerStatuses[0]?.restartCount, 0, "its container never restarted");

    const pv = await pvOf("writer");
    await deleteObjects("pod", "writer");
    await deleteObjects("pvc", "writer");
    await assertGone([n1], pv, "writer");
  },
);

/** `gluster-block audit` in every blockd pod: the output of each that reports anything. */
async function auditEveryNode(): Promise<string[]> {
  const pods = (await kc(["get", "pods", "-n", NAMESPACE, "-l", `${COMPONENT}=blockd`, "-o", "name"])).split("\n").filter(Boolean);
  assert.equal(pods.length, f.lab.nodes.length, "a blockd pod per storage node");
  const out: string[] = [];
  for (const p of pods) {
    const r = await kc(["exec", "-n", NAMESPACE, p, "--", "gluster-block", "audit", HOSTING_VOLUME]).catch((e: Error) => `failed: ${e.message}`);
    if (r !== `VOLUME: ${HOSTING_VOLUME}\nRESULT: SUCCESS\n`) out.push(`${p}: ${r.trim().replace(/\n/g, " | ")}`);
  }
  return out;
}

test(
  "a storage node's blockd pod deleted during a burst of 10 claims: every claim Bound, the audit clean; deleted, nothing left",
  { skip: SKIP, timeout: 2_400_000 },
  async () => {
    const names = BURST;
    const t0 = performance.now();
    await kc(["apply", "-f", "-"], { input: names.map((c) => claim(c)).join("---\n") });
    await new Promise((r) => setTimeout(r, 5000));
    const blockd = await readyPodOn("blockd", "n2", 60);
    assert.ok(blockd, "blockd's pod on n2");
    await kc(["delete", "pod", blockd, "-n", NAMESPACE, "--wait=false"]);
    n.note(`blockd pod ${blockd} deleted ${((performance.now() - t0) / 1000).toFixed(1)} s into the burst`);

    const phases = async (): Promise<Record<string, string>> => {
      const list = JSON.parse(await kc(["get", "pvc", ...names, "-n", "default", "-o", "json"])) as {
        items: { metadata: { name: string }; status: { phase: string } }[];
      };
      return Object.fromEntries(list.items.map((i) => [i.metadata.name, i.status.phase]));
    };
    const bound = await until(1500, async () => {
      const p = await phases();
      return Object.values(p).every((s) => s === "Bound") ? p : undefined;
    });
    assert.ok(bound, `every claim Bound within 1500 s: ${JSON.stringify(await phases())}`);
    n.note(`10 claims Bound ${((performance.now() - t0) / 1000).toFixed(1)} s after they were made, with blockd's pod on n2 deleted among them`);
    assert.ok(await readyPodOn("blockd", "n2", 600, blockd), "a new blockd pod on n2 is Ready");
    const pvs: PvJson[] = [];
    for (const c of names) pvs.push(await pvOf(c));
    const list = await glusterBlockList(HOSTING_VOLUME);
    for (const pv of pvs) assert.ok(list.includes(pv.metadata.name), `${pv.metadata.name}'s block is listed`);
    assert.deepEqual(await auditEveryNode(), [], "gluster-block audit finds nothing on any node after the burst");

    await deleteObjects("pvc", ...names);
    for (const pv of pvs) await assertGone([], pv, pv.metadata.name);
    assert.deepEqual(await auditEveryNode(), [], "gluster-block audit finds nothing on any node after the deletes");
  },
);
