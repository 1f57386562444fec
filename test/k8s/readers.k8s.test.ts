// Kubernetes in the lab (issue 24, item 4): read-only many. A volume written
// by a pod on n1 is then given to readers as an admin does it: a
// ReadOnlyMany PV of the same volume handle (reclaim policy Retain) and a
// claim bound to it; pods on n2 and n3 mount it at once and read the data.
// The readers are read-only at the target, not only in their mounts: each
// reader's LUN mapping on every storage node is write protected, and a raw
// write from a reader's host to the multipath device is refused. Afterwards
// the readers go without the volume (Retain), and the writer's claim takes
// it away with nothing left. Needs K8S_BIN_DIR (or the fixed place,
// lab/k8s/config.ts); skipped with one line otherwise.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { HOSTING_VOLUME, type LabNode } from "../../lab/harness/lab.js";
import { kc } from "../../lab/k8s/cluster.js";
import {
  assertGone,
  attachedTo,
  claimAndPod,
  deleteObjects,
  execIn,
  glusterBlockList,
  initiatorOf,
  pvOf,
  until,
  waitReady,
  WRITE_BLOB,
  k8sFile,
} from "./workload.js";

const f = k8sFile();
const SKIP = f.skip;
const n = f.notes;
const READERS_PV = "readers-of-rox-src";

after(async () => {
  if (f.skip) return;
  await deleteObjects("pod", "reader-2", "reader-3", "rox-src");
  await deleteObjects("pvc", "rox-readers", "rox-src");
  await kc(["delete", "pv", READERS_PV, "--ignore-not-found", "--wait=true", "--timeout=300s"], { timeoutMs: 360_000 });
});

interface SourcePv {
  metadata: { name: string };
  spec: { capacity: { storage: string }; csi: Record<string, unknown> & { volumeAttributes: Record<string, string> } };
}

/** A read-only pod on `node` with the claim mounted read-only at /data. */
function reader(name: string, node: string, claimName: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: default}
spec:
  nodeSelector: {kubernetes.io/hostname: ${node}}
  terminationGracePeriodSeconds: 2
  securityContext: {runAsUser: 10001, runAsGroup: 10001}
  containers:
    - name: app
      image: gluster-block-csi:0.1.0
      imagePullPolicy: Never
      command: ["sh", "-c", "touch /tmp/ready; exec sleep 100000"]
      readinessProbe: {exec: {command: [test, -e, /tmp/ready]}, periodSeconds: 2}
      volumeMounts: [{name: d, mountPath: /data, readOnly: true}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: ${claimName}, readOnly: true}}]
`;
}

/** Per storage node holding the target: each ACL's initiator and its LUN mapping's write_protect. */
async function mappings(iqn: string): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = {};
  for (const s of f.lab.nodes) {
    if ((await s.run(`test -d /sys/kernel/config/target/iscsi/${iqn}`)).code !== 0) continue;
    const r = await s.must(
      `for d in /sys/kernel/config/target/iscsi/${iqn}/tpgt_*/acls/*; do [ -e "$d" ] && echo "$(basename "$d") $(cat "$d/lun_0/write_protect")"; done | sort -u`,
    );
    out[s.name] = Object.fromEntries(
      r.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(" ") as [string, string]),
    );
  }
  return out;
}

/** A raw 4 KiB write to the volume's multipath device on `node`'s host, below the pods: its exit code and message. */
async function rawWrite(node: LabNode, wwid: string): Promise<{ code: number; out: string }> {
  const r = await node.run(`dd if=/dev/zero of=/dev/mapper/${wwid} bs=4096 count=1 seek=200000 oflag=direct conv=notrunc status=none`);
  return { code: r.code, out: (r.stdout + r.stderr).trim() };
}

test(
  "ReadOnlyMany: a volume written on n1, then a ROX PV of it read by pods on n2 and n3 at once; each reader write protected at the target; the readers gone, the writer's claim deletes it",
  { skip: SKIP, timeout: 2_400_000 },
  async () => {
    const [n1, n2, n3] = [f.lab.node(1), f.lab.node(2), f.lab.node(3)];
    await kc(["apply", "-f", "-"], { input: claimAndPod("rox-src", "n1", { script: WRITE_BLOB }) });
    n.note(`rox-src: written on n1, pod Ready in ${(await waitReady("rox-src")).toFixed(1)} s`);
    const srcPv = await pvOf("rox-src");
    const src = JSON.parse(await kc(["get", "pv", srcPv.metadata.name, "-o", "json"])) as SourcePv;
    const { iqn = "", wwid = "" } = src.spec.csi.volumeAttributes;
    await deleteObjects("pod", "rox-src");
    assert.ok(await until(300, async () => ((await attachedTo(src.metadata.name)).length === 0 ? true : undefined)), "n1 detached within 300 s");

    // what an admin writes to share the data read-only: the same volume handle, secrets and attributes; ROX; Retain
    const pv = {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: READERS_PV },
      spec: {
        accessModes: ["ReadOnlyMany"],
        capacity: src.spec.capacity,
        persistentVolumeReclaimPolicy: "Retain",
        storageClassName: "",
        volumeMode: "Filesystem",
        claimRef: { namespace: "default", name: "rox-readers" },
        csi: { ...src.spec.csi, readOnly: true },
      },
    };
    const claim = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "rox-readers", namespace: "default" },
      spec: { accessModes: ["ReadOnlyMany"], storageClassName: "", volumeName: READERS_PV, resources: { requests: { storage: src.spec.capacity.storage } } },
    };
    await kc(["apply", "-f", "-"], {
      input: `${JSON.stringify(pv)}\n---\n${JSON.stringify(claim)}\n---\n${reader("reader-2", "n2", "rox-readers")}---\n${reader("reader-3", "n3", "rox-readers")}`,
    });
    const t0 = performance.now();
    await waitReady("reader-2");
    await waitReady("reader-3");
    n.note(`readers on n2 and n3 Ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    assert.deepEqual((await attachedTo(READERS_PV)).sort(), ["n2", "n3"], "attached to n2 and n3 at once");

    for (const r of ["reader-2", "reader-3"]) {
      assert.match(await execIn(r, "cd /data && sha256sum -c blob.sha256"), /blob: OK/, `${r} reads what n1 wrote`);
      const w = await execIn(r, "touch /data/new 2>&1 && echo WROTE || true");
      assert.doesNotMatch(w, /WROTE/, `${r} cannot write`);
      assert.match(w, /Read-only file system/, w);
    }

    const [i2, i3] = [await initiatorOf(n2), await initiatorOf(n3)];
    const maps = await mappings(iqn);
    assert.equal(Object.keys(maps).length, 3, "the target on the 3 storage nodes");
    for (const [node, acl] of Object.entries(maps))
      assert.deepEqual(acl, { [i2]: "1", [i3]: "1" }, `${node}: n2 and n3 alone in the ACL, each write protected`);
    for (const node of [n2, n3]) {
      const w = await rawWrite(node, wwid);
      assert.notEqual(w.code, 0, `${node.name}: a raw write to /dev/mapper/${wwid} below the pod is refused`);
      n.note(`${node.name}: raw write to the device refused: ${w.out}`);
    }

    await deleteObjects("pod", "reader-2", "reader-3");
    await deleteObjects("pvc", "rox-readers");
    assert.ok(await until(300, async () => ((await attachedTo(READERS_PV)).length === 0 ? true : undefined)), "n2 and n3 detached within 300 s");
    await kc(["delete", "pv", READERS_PV, "--wait=true", "--timeout=300s"], { timeoutMs: 360_000 });
    assert.ok((await glusterBlockList(HOSTING_VOLUME)).includes(src.metadata.name), "the readers' PV (Retain) leaves the block");
    assert.deepEqual(await mappings(iqn), { n1: {}, n2: {}, n3: {} }, "no initiator left in any ACL");

    await deleteObjects("pvc", "rox-src");
    await assertGone([n1, n2, n3], srcPv, "rox-src");
  },
);
