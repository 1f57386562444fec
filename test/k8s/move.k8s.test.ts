// Kubernetes in the lab (issue 23, test 3): a pod that moves. An ext4 claim
// written by a pod on n1; the pod deleted and made again on n2. The
// VolumeAttachment moves with it, n1's initiator leaves the target's ACL on
// every storage node, a login from n1 with the volume's own CHAP credentials
// is refused, and n2 reads what n1 wrote. Needs K8S_BIN_DIR (or the fixed
// place, lab/k8s/config.ts); skipped with one line otherwise.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import type { LabNode } from "../../lab/harness/lab.js";
import { traces, NOTHING } from "../../lab/harness/node-plugin.js";
import { kc, NAMESPACE } from "../../lab/k8s/cluster.js";
import { CHAP_SECRET_PREFIX } from "../../src/controller/chap-secrets.js";
import {
  assertGone,
  attachedTo,
  claim,
  classFromChart,
  deleteObjects,
  execIn,
  initiatorOf,
  pod,
  pvOf,
  until,
  waitReady,
  WRITE_BLOB,
  k8sFile,
  loginProbe,
} from "./workload.js";

const EXT4_CLASS = "gluster-block-ext4";
const f = k8sFile();
const SKIP = f.skip;
const n = f.notes;

after(async () => {
  if (f.skip) return;
  // a test that failed half-way leaves no pod or claim behind for the next file
  await deleteObjects("pod", "data-move");
  await deleteObjects("pvc", "data-move");
  await kc(["delete", "storageclass", EXT4_CLASS, "--ignore-not-found"]);
});

/** The initiators in the target's ACLs (of any of its TPGs), per storage node that holds the target. */
async function acls(iqn: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const s of f.lab.nodes) {
    if ((await s.run(`test -d /sys/kernel/config/target/iscsi/${iqn}`)).code !== 0) continue;
    const r = await s.must(`for d in /sys/kernel/config/target/iscsi/${iqn}/tpgt_*/acls/*; do [ -e "$d" ] && basename "$d"; done | sort -u`);
    out[s.name] = r.stdout.split("\n").filter(Boolean);
  }
  return out;
}

/** A login from `from` to every portal of the target with the volume's CHAP credentials, as an intruder with the Secret would try. */
async function loginWithSecret(from: LabNode, iqn: string, portals: string[], pvName: string): Promise<{ code: number; out: string }> {
  const field = async (k: string): Promise<string> =>
    Buffer.from(await kc(["get", "secret", `${CHAP_SECRET_PREFIX}${pvName}`, "-n", NAMESPACE, "-o", `jsonpath={.data.${k}}`]), "base64").toString();
  const [user, password] = [await field("username"), await field("password")];
  assert.ok(user && password, "the volume's CHAP Secret has a username and a password");
  let out = "";
  for (const p of portals) {
    const r = await from.run(`set -e
      iscsiadm -m node -T ${iqn} -p ${p} -o new >/dev/null
      iscsiadm -m node -T ${iqn} -p ${p} -o update -n node.startup -v manual
      iscsiadm -m node -T ${iqn} -p ${p} -o update -n node.session.auth.authmethod -v CHAP
      iscsiadm -m node -T ${iqn} -p ${p} -o update -n node.session.auth.username -v '${user}'
      iscsiadm -m node -T ${iqn} -p ${p} -o update -n node.session.auth.password -v '${password}'
      iscsiadm -m node -T ${iqn} -p ${p} --login`);
    out += r.stdout + r.stderr;
    if (r.code === 0) {
      await from.run(`iscsiadm -m node -T ${iqn} --logout; iscsiadm -m node -T ${iqn} -o delete; true`);
      return { code: 0, out };
    }
  }
  await from.run(`iscsiadm -m node -T ${iqn} -o delete 2>/dev/null; true`);
  return { code: 1, out };
}

test(
  "an ext4 claim written on n1, its pod made again on n2: the attachment moves, n1 is off the ACLs and refused, n2 reads the data",
  { skip: SKIP, timeout: 2_400_000 },
  async () => {
    const [n1, n2] = [f.lab.node(1), f.lab.node(2)];
    await kc(["apply", "-f", "-"], { input: await classFromChart(EXT4_CLASS, { "csi.storage.k8s.io/fstype": "ext4" }) });
    await kc(["apply", "-f", "-"], {
      input: `${claim("data-move", { storageClass: EXT4_CLASS })}---\n${pod("data-move", "n1", { claimName: "data-move", script: WRITE_BLOB })}`,
    });
    n.note(`ext4 claim data-move: pod Ready on n1 in ${(await waitReady("data-move")).toFixed(1)} s`);
    assert.match(await execIn("data-move", "findmnt -n -o FSTYPE /data"), /^ext4$/m);
    const pv = await pvOf("data-move");
    const a = pv.spec.csi.volumeAttributes;
    const iqn = a.iqn ?? "";
    const portals = (a.portals ?? "").split(",").filter(Boolean);
    const [i1, i2] = [await initiatorOf(n1), await initiatorOf(n2)];
    assert.deepEqual(await attachedTo(pv.metadata.name), ["n1"], "attached to n1");
    const aclsBefore = await acls(iqn);
    assert.equal(Object.keys(aclsBefore).length, portals.length, `a target on each of the ${portals.length} storage nodes of its portals`);
    for (const [node, list] of Object.entries(aclsBefore)) assert.deepEqual(list, [i1], `${node}: n1's initiator alone in the ACL`);

    await deleteObjects("pod", "data-move");
    const t0 = performance.now();
    await kc(["apply", "-f", "-"], { input: pod("data-move", "n2", { claimName: "data-move", script: "sha256sum -c /data/blob.sha256" }) });
    const s = await waitReady("data-move");
    n.note(`pod made again on n2: Ready in ${s.toFixed(1)} s (${((performance.now() - t0) / 1000).toFixed(1)} s after the delete)`);
    assert.match(await execIn("data-move", "sha256sum -c /data/blob.sha256"), /blob: OK/, "n2 reads what n1 wrote");

    // the attach-detach controller deletes n1's VolumeAttachment once the attacher has unpublished it
    const moved = await until(300, async () => {
      const nodes = await attachedTo(pv.metadata.name);
      return nodes.length === 1 && nodes[0] === "n2" ? nodes : undefined;
    });
    assert.deepEqual(moved, ["n2"], "one VolumeAttachment, for n2");
    const aclsAfter = await acls(iqn);
    for (const [node, list] of Object.entries(aclsAfter)) assert.deepEqual(list, [i2], `${node}: n2's initiator alone in the ACL (n1's gone)`);
    n.note(`ACLs after the move: ${JSON.stringify(aclsAfter)}`);
    assert.deepEqual(await traces(n1, iqn, a.wwid ?? "", `/var/lib/kubelet/.*/${pv.metadata.name}/`), NOTHING, "n1 holds nothing of the volume");

    // the node plugin's way of telling an ACL refusal from a CHAP one (iscsiadm exits 24 for both): the target's own status
    for (const [who, initiator, want] of [
      [n1, i1, "0x0202"],
      [n2, i2, "0x0000"],
    ] as const) {
      for (const portal of portals) {
        const got = await loginProbe(who, portal, iqn, initiator);
        assert.equal(got, want, `the login probe from ${who.name} to ${portal}: ${want === "0x0000" ? "admitted" : "initiator not authorized"}`);
      }
    }
    n.note(`login probe: n1 -> 0x0202 (not authorized) and n2 -> 0x0000 on all ${portals.length} portals`);
    const refused = await loginWithSecret(n1, iqn, portals, pv.metadata.name);
    assert.notEqual(refused.code, 0, `n1's login with the volume's own CHAP credentials must be refused:\n${refused.out}`);
    assert.match(refused.out, /authoriz/i, refused.out);
    n.note(`n1's login refused: ${refused.out.trim().split("\n").slice(-2).join(" | ")}`);

    await deleteObjects("pod", "data-move");
    await deleteObjects("pvc", "data-move");
    await assertGone([n1, n2], pv, "data-move");
  },
);
