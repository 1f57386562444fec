// Kubernetes in the lab (issue 26): the road off the original. A block as
// gluster-block 0.5.1 leaves it (random GBID, generate_node_acls=1 on every
// TPG, no ACL: any initiator with the CHAP secret gets in), made with the
// gluster-block CLI's create in the original's mode; an in-tree `iscsi` PV
// for it as the external-storage gluster-block provisioner writes one, its
// CHAP Secret in the claim's namespace; a pod on n1 writes through the
// kubelet's in-tree iscsi plugin. Then, as the README's migration section
// says: the pod goes, `gluster-block-csi import` runs in the controller's
// container, and the pod made again on n2 reads the same bytes through this
// driver; afterwards the block is fenced (n1 is not in its ACL and its login
// is refused), the in-tree PV is Released with Retain and the block is still
// there. Needs K8S_BIN_DIR (or the fixed place, lab/k8s/config.ts); skipped
// with one line otherwise.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { HOSTING_VOLUME, type LabNode } from "../../lab/harness/lab.js";
import { installChart, kc, NAMESPACE, RELEASE_BLOCKD } from "../../lab/k8s/cluster.js";
import { attachedTo, deleteObjects, execIn, glusterBlockList, initiatorOf, pod, until, waitReady, WRITE_BLOB, k8sFile, loginProbe } from "./workload.js";

const BLOCK = "legacy-a1";
const OLD_PV = "legacy-pv";
const NEW_PV = `${OLD_PV}-csi`;
const CLAIM = "legacy";
const OLD_CLASS = "glusterblock";
/** the import's RBAC, off by default (the chart's values) */
const IMPORT_ON = ["--set", "controller.import.enabled=true"];

const f = k8sFile(async ({ cluster, notes }) => {
  const t0 = performance.now();
  await installChart(cluster, IMPORT_ON);
  notes.note(`helm upgrade ${IMPORT_ON.join(" ")}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
});
const SKIP = f.skip;
const n = f.notes;

after(async () => {
  if (f.skip) return;
  await deleteObjects("pod", CLAIM);
  await deleteObjects("pvc", CLAIM);
  await kc(["delete", "pv", OLD_PV, NEW_PV, "--ignore-not-found", "--wait=false"]);
  await kc(["delete", "secret", "-n", "default", "-l", "lab.gluster.org/migrate=1", "--ignore-not-found"]);
  if ((await glusterBlockList(HOSTING_VOLUME)).split("\n").includes(BLOCK)) await gb(["delete", `${HOSTING_VOLUME}/${BLOCK}`]).catch(() => "");
});

/** the gluster-block CLI as an admin runs it in the cluster (a blockd pod) */
function gb(args: string[]): Promise<string> {
  return kc(["exec", "-n", NAMESPACE, `ds/${RELEASE_BLOCKD}`, "--", "gluster-block", ...args], { timeoutMs: 600_000 });
}

/** the import in the controller's container, as the README runs it: its output and exit status */
async function importRun(extra: string[]): Promise<string> {
  return kc(
    [
      "exec",
      "-n",
      NAMESPACE,
      "deploy/gluster-block-csi-controller",
      "-c",
      "gluster-block-csi",
      "--",
      "gluster-block-csi",
      "import",
      "--pv",
      OLD_PV,
      "--hosting-volume",
      HOSTING_VOLUME,
      ...extra,
    ],
    { timeoutMs: 900_000 },
  );
}

/** each TPG's generate_node_acls and ACLs of the target, per storage node that holds it */
async function lio(iqn: string): Promise<Record<string, { generated: string[]; acls: string[] }>> {
  const out: Record<string, { generated: string[]; acls: string[] }> = {};
  for (const s of f.lab.nodes) {
    const base = `/sys/kernel/config/target/iscsi/${iqn}`;
    if ((await s.run(`test -d ${base}`)).code !== 0) continue;
    const generated = (await s.must(`cat ${base}/tpgt_*/attrib/generate_node_acls`)).stdout.split("\n").filter(Boolean);
    const acls = (await s.must(`for d in ${base}/tpgt_*/acls/*; do [ -e "$d" ] && basename "$d"; done | sort -u`)).stdout.split("\n").filter(Boolean);
    out[s.name] = { generated, acls };
  }
  return out;
}

interface Made {
  iqn: string;
  gbid: string;
  password: string;
  portals: string[];
}

/** `gluster-block create` in the original's mode (generated ACLs), its --json answer */
async function createAsTheOriginal(): Promise<Made> {
  const hosts = f.lab.addresses.join(",");
  const out = await gb(["create", `${HOSTING_VOLUME}/${BLOCK}`, "ha", "3", "auth", "enable", "prealloc", "no", hosts, "1GiB", "--json"]);
  const j = JSON.parse(out) as { IQN: string; USERNAME: string; PASSWORD: string; "PORTAL(S)": string[]; RESULT: string };
  assert.equal(j.RESULT, "SUCCESS", out);
  return { iqn: j.IQN, gbid: j.USERNAME, password: j.PASSWORD, portals: j["PORTAL(S)"] };
}

/**
 * The block formatted xfs, as a heketi user's volume has been since its first
 * pod: from n1 with the block's own CHAP login, `mkfs.xfs -K` (no discard).
 * The kubelet's in-tree plugin formats a blank volume with a whole-device
 * discard, which tcmu-runner's glfs handler does not finish in the lab's
 * emulated VMs ("error reading existing superblock: Input/output error",
 * seen on 2026-12-07); with a filesystem there it only mounts.
 */
async function formatAsInUse(from: LabNode, m: Made): Promise<void> {
  const portal = m.portals[0] ?? "";
  await from.must(
    // the password on stdin: a failed command is quoted whole in the test's output
    `set -e
    IFS= read -r pw
    iscsiadm -m node -T ${m.iqn} -p ${portal} -o new >/dev/null
    iscsiadm -m node -T ${m.iqn} -p ${portal} -o update -n node.startup -v manual
    iscsiadm -m node -T ${m.iqn} -p ${portal} -o update -n node.session.auth.authmethod -v CHAP
    iscsiadm -m node -T ${m.iqn} -p ${portal} -o update -n node.session.auth.username -v '${m.gbid}'
    iscsiadm -m node -T ${m.iqn} -p ${portal} -o update -n node.session.auth.password -v "$pw"
    iscsiadm -m node -T ${m.iqn} -p ${portal} --login
    dev=""
    for k in $(seq 60); do dev=$(ls -d /dev/disk/by-path/ip-${portal}-iscsi-${m.iqn}-lun-0 2>/dev/null || true); [ -n "$dev" ] && break; sleep 1; done
    [ -n "$dev" ]
    # multipathd may have mapped the one path: format the map then, and take it away before the logout
    holder=$(ls /sys/class/block/$(basename $(readlink -f "$dev"))/holders/ | head -1)
    [ -n "$holder" ] && dev=/dev/$holder
    mkfs.xfs -K -q "$dev"
    sync
    [ -n "$holder" ] && multipath -f "/dev/$holder" || true
    iscsiadm -m node -T ${m.iqn} -p ${portal} --logout
    iscsiadm -m node -T ${m.iqn} -p ${portal} -o delete`,
    { timeoutMs: 600_000, input: `${m.password}\n` },
  );
}

/** The in-tree PV, its claim and CHAP Secret, as kubernetes-incubator/external-storage's glusterblock-provisioner (v2.0.0) writes them. */
function inTree(m: Made): string {
  const [first, ...rest] = m.portals;
  return `apiVersion: v1
kind: Secret
metadata:
  name: glusterblk-${m.gbid}-secret
  namespace: default
  labels: {lab.gluster.org/migrate: "1"}
type: kubernetes.io/iscsi-chap
stringData:
  node.session.auth.username: "${m.gbid}"
  node.session.auth.password: "${m.password}"
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: ${OLD_PV}
  annotations:
    gluster.org/type: block
    glusterBlockShare: ${BLOCK}
    glusterBlkProvIdentity: gluster.org/glusterblock
    kubernetes.io/createdby: gluster-block
    pv.kubernetes.io/provisioned-by: gluster.org/glusterblock
    AccessKey: glusterblk-${m.gbid}-secret
    AccessKeyNs: default
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Delete
  storageClassName: ${OLD_CLASS}
  iscsi:
    targetPortal: "${first}"
    portals: [${rest.map((p) => `"${p}"`).join(", ")}]
    iqn: ${m.iqn}
    lun: 0
    fsType: xfs
    readOnly: false
    chapAuthSession: true
    secretRef: {name: glusterblk-${m.gbid}-secret}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: ${CLAIM}, namespace: default}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: ${OLD_CLASS}
  volumeName: ${OLD_PV}
  resources: {requests: {storage: 1Gi}}
`;
}

const jsonpath = async (kind: string, name: string, path: string, ns?: string): Promise<string> =>
  (await kc(["get", kind, name, ...(ns ? ["-n", ns] : []), "-o", `jsonpath={${path}}`])).trim();

test(
  "a block as gluster-block 0.5.1 leaves it, used through an in-tree iscsi PV on n1, imported: the pod made again on n2 reads the same data through the driver, the block is fenced, the in-tree PV is Released and the block kept",
  { skip: SKIP, timeout: 3_600_000 },
  async () => {
    const [n1, n2] = [f.lab.node(1), f.lab.node(2)];
    const made = await createAsTheOriginal();
    assert.match(made.gbid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, "a random (version 4) GBID, as 0.5.1 makes them");
    const before = await lio(made.iqn);
    assert.equal(Object.keys(before).length, 3, "a target on each storage node");
    for (const [node, t] of Object.entries(before)) {
      assert.deepEqual([...new Set(t.generated)], ["1"], `${node}: generate_node_acls=1 on every TPG, as 0.5.1 leaves them`);
      assert.deepEqual(t.acls, [], `${node}: no ACL`);
    }
    n.note(`block ${BLOCK}: GBID ${made.gbid}, portals ${made.portals.join(" ")}, generated ACLs on ${Object.keys(before).join(", ")}`);

    await formatAsInUse(n1, made);
    await kc(["apply", "-f", "-"], { input: `${inTree(made)}---\n${pod(CLAIM, "n1", { claimName: CLAIM, script: WRITE_BLOB })}` });
    n.note(`in-tree iscsi PV ${OLD_PV}: pod Ready on n1 in ${(await waitReady(CLAIM)).toFixed(1)} s`);
    assert.match(await execIn(CLAIM, "findmnt -n -o FSTYPE /data"), /^xfs$/m, "the in-tree plugin mounted its xfs");
    const sum = (await execIn(CLAIM, "cat /data/blob.sha256")).trim();

    // the README's steps: scale down, dry run, import
    await deleteObjects("pod", CLAIM);
    const sessions = await until(300, async () =>
      (await n1.run(`iscsiadm -m session 2>/dev/null | grep -c ${made.iqn}`)).stdout.trim() === "0" ? true : undefined,
    );
    assert.ok(sessions, "the in-tree plugin logged n1 out once the pod was gone");
    const dry = await importRun(["--dry-run"]);
    n.note(`import --dry-run:\n${dry.trim()}`);
    assert.equal(await jsonpath("pv", OLD_PV, ".spec.persistentVolumeReclaimPolicy"), "Delete", "the dry run changed nothing");
    assert.equal((await kc(["get", "pv", NEW_PV, "--ignore-not-found", "-o", "name"])).trim(), "", "the dry run made no PV");
    const t0 = performance.now();
    const report = await importRun([]);
    n.note(`import (${((performance.now() - t0) / 1000).toFixed(1)} s):\n${report.trim()}`);
    const again = await importRun([]);
    n.note(`import run again:\n${again.trim()}`);

    assert.equal(await jsonpath("pv", OLD_PV, ".spec.persistentVolumeReclaimPolicy"), "Retain");
    assert.equal(await jsonpath("pv", OLD_PV, ".metadata.annotations.block\\.csi\\.gluster\\.org/original-reclaim-policy"), "Delete");
    assert.equal(await jsonpath("pvc", CLAIM, ".spec.volumeName", "default"), NEW_PV, "the claim is bound to the CSI PV");
    const bound = await until(120, async () => ((await jsonpath("pvc", CLAIM, ".status.phase", "default")) === "Bound" ? true : undefined));
    assert.ok(bound, "the claim is Bound");
    const handle = await jsonpath("pv", NEW_PV, ".spec.csi.volumeHandle");
    assert.equal(handle, `v1/${HOSTING_VOLUME}/${BLOCK}`);
    assert.equal(await jsonpath("pv", NEW_PV, ".spec.csi.volumeAttributes.gbid"), made.gbid, "the GBID kept");
    n.note(`kubectl describe pv ${NEW_PV}:\n${await kc(["describe", "pv", NEW_PV])}`);
    const released = await until(120, async () => ((await jsonpath("pv", OLD_PV, ".status.phase")) === "Released" ? true : undefined));
    assert.ok(released, `${OLD_PV} is Released`);

    const t1 = performance.now();
    await kc(["apply", "-f", "-"], { input: pod(CLAIM, "n2", { claimName: CLAIM, script: "sha256sum -c /data/blob.sha256" }) });
    n.note(`pod made again on n2 through the driver: Ready in ${(await waitReady(CLAIM)).toFixed(1)} s (${((performance.now() - t1) / 1000).toFixed(1)} s)`);
    assert.match(await execIn(CLAIM, "sha256sum -c /data/blob.sha256"), /blob: OK/, "n2 reads what n1 wrote through the in-tree PV");
    assert.equal((await execIn(CLAIM, "cat /data/blob.sha256")).trim(), sum);
    assert.deepEqual(await attachedTo(NEW_PV), ["n2"]);

    // fenced: every TPG has per-initiator ACLs now, and only n2's initiator is in them
    const [i1, i2] = [await initiatorOf(n1), await initiatorOf(n2)];
    const afterLio = await lio(made.iqn);
    for (const [node, t] of Object.entries(afterLio)) {
      assert.deepEqual([...new Set(t.generated)], ["0"], `${node}: generate_node_acls=0 on every TPG`);
      assert.deepEqual(t.acls, [i2], `${node}: n2's initiator alone in the ACL`);
    }
    for (const portal of made.portals)
      assert.equal(await loginProbe(n1, portal, made.iqn, i1), "0x0202", `n1's login to ${portal} refused (initiator not authorized)`);
    n.note(`after the import: ACLs ${JSON.stringify(afterLio)}; n1's login probe 0x0202 on all ${made.portals.length} portals`);
    assert.ok((await glusterBlockList(HOSTING_VOLUME)).split("\n").includes(BLOCK), "the block is still there");

    // the in-tree PV deleted (Retain): the block stays; the claim deleted: the CSI PV's policy (the original Delete) deletes it
    await kc(["delete", "pv", OLD_PV, "--wait=true", "--timeout=120s"], { timeoutMs: 180_000 });
    assert.ok((await glusterBlockList(HOSTING_VOLUME)).split("\n").includes(BLOCK), "the in-tree PV's delete leaves the block");
    await deleteObjects("pod", CLAIM);
    await deleteObjects("pvc", CLAIM);
    await kc(["wait", "--for=delete", `pv/${NEW_PV}`, "--timeout=600s"], { timeoutMs: 660_000 });
    assert.ok(!(await glusterBlockList(HOSTING_VOLUME)).split("\n").includes(BLOCK), "the claim's delete, with the original Delete policy, deleted the block");
  },
);
