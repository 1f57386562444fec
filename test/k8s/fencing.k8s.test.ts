// Kubernetes in the lab (issue 24, item 5): fencing after node loss. A pod on
// n1 writes to a raw Block volume whose targets are on n2 and n3 (n1 is only
// an initiator for it). n1 freezes (its VM stopped, as a hung or cut-off node
// looks to the cluster); the admin follows Kubernetes' non-graceful node
// shutdown flow and taints n1 out-of-service; the pod is made again on n2.
// The force detach unpublishes n1: its initiator leaves every target's ACL,
// and LIO closes its sessions with it. n1 then thaws with its writer still
// running: not one byte of it reaches the volume (the region it wrote to has
// the same checksum before and after), no target holds a session of n1's,
// and once the admin lifts the taint n1's kubelet cleans up. Needs
// K8S_BIN_DIR (or the fixed place, lab/k8s/config.ts); skipped with one line
// otherwise.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import type { LabNode } from "../../lab/harness/lab.js";
import { traces, NOTHING } from "../../lab/harness/node-plugin.js";
import { qemuPid } from "../../lab/vm.js";
import { kc, NAMESPACE } from "../../lab/k8s/cluster.js";
import { kubectl } from "../../lab/k8s/control-plane.js";
import { assertGone, attachedTo, claim, classFromChart, deleteObjects, execIn, initiatorOf, pod, pvOf, until, waitReady, k8sFile } from "./workload.js";

const FENCE_CLASS = "gluster-block-fence";
const TAINT = "node.kubernetes.io/out-of-service";
const f = k8sFile();
const SKIP = f.skip;
const n = f.notes;

/** the frozen VM, so that a failed test never leaves it stopped */
let frozen: number | undefined;
const thaw = (): void => {
  if (frozen !== undefined) process.kill(frozen, "SIGCONT");
  frozen = undefined;
};

after(async () => {
  thaw();
  if (f.skip) return;
  await kubectl(["taint", "nodes", "n1", `${TAINT}-`]);
  await kc(["delete", "storageclass", FENCE_CLASS, "--ignore-not-found"]);
});

/**
 * A writer on the device: a 4 KiB record naming n1 and a counter, written
 * direct every 0.2 s to one of the first 16384 blocks (the first 64 MiB),
 * round and round; the last counter written goes to /tmp/count, each failure
 * to /tmp/errors.
 */
const WRITER =
  '( i=0; while :; do i=$((i+1)); if printf "n1 %d\\n" $i | dd of=/dev/xvda bs=4096 seek=$((i % 16384)) count=1 conv=sync oflag=direct status=none; ' +
  "then echo $i > /tmp/count; else echo $i >> /tmp/errors; fi; sleep 0.2; done ) &";
/** the sha256 of the region n1's writer writes to, read direct from the device */
const REGION_SUM = "dd if=/dev/xvda bs=1M count=64 iflag=direct status=none | sha256sum | cut -c1-64";
/** n2 writes too: a record in a block n1's writer never touches */
const N2_WRITES = 'printf "n2\\n" | dd of=/dev/xvda bs=4096 seek=131072 count=1 conv=sync oflag=direct status=none';

/** Per target host of `iqn`: the initiators in its ACLs and those with a session (dynamic or not). */
async function admitted(hosts: readonly LabNode[], iqn: string): Promise<Record<string, { acls: string[]; sessions: string[] }>> {
  const out: Record<string, { acls: string[]; sessions: string[] }> = {};
  for (const h of hosts) {
    const base = `/sys/kernel/config/target/iscsi/${iqn}`;
    const acls = await h.must(`for d in ${base}/tpgt_*/acls/*; do [ -e "$d" ] && basename "$d"; done | sort -u`);
    // a session under an ACL shows in its info file; a session without one (generated ACLs) in dynamic_sessions
    const sessions = await h.must(
      `{ for i in ${base}/tpgt_*/acls/*/info; do [ -e "$i" ] && grep -q 'LIO Session ID' "$i" && basename "$(dirname "$i")"; done; ` +
        `cat ${base}/tpgt_*/dynamic_sessions 2>/dev/null | tr -d '\\0'; } | grep . | sort -u || true`,
    );
    out[h.name] = { acls: acls.stdout.split("\n").filter(Boolean), sessions: sessions.stdout.split("\n").filter(Boolean) };
  }
  return out;
}

async function nodeReady(name: string): Promise<string> {
  return (await kc(["get", "node", name, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`])).trim();
}

test(
  "n1 frozen under a writer, tainted out-of-service, its pod made again on n2: n1 is cut off, and thawed it writes not a byte; its kubelet cleans up",
  { skip: SKIP, timeout: 2_400_000 },
  async () => {
    const [n1, n2, n3] = [f.lab.node(1), f.lab.node(2), f.lab.node(3)];
    await kc(["apply", "-f", "-"], { input: await classFromChart(FENCE_CLASS, { hosts: [n2, n3].map((h) => h.address).join(","), haCount: "2" }) });
    await kc(["apply", "-f", "-"], {
      input: `${claim("fenced", { block: true, storageClass: FENCE_CLASS })}---\n${pod("fenced", "n1", { claimName: "fenced", block: true, script: WRITER })}`,
    });
    n.note(`fenced: raw Block claim with targets on n2 and n3, writer pod Ready on n1 in ${(await waitReady("fenced")).toFixed(1)} s`);
    const pv = await pvOf("fenced");
    const a = pv.spec.csi.volumeAttributes;
    const iqn = a.iqn ?? "";
    const portals = (a.portals ?? "").split(",").filter(Boolean);
    assert.deepEqual(portals.map((p) => p.split(":")[0]).sort(), [n2.address, n3.address].sort(), "the targets are on n2 and n3 only");
    const i1 = await initiatorOf(n1);
    const count = async (): Promise<number> => Number((await execIn("fenced", "cat /tmp/count 2>/dev/null || echo 0")).trim());
    assert.ok(await until(60, async () => ((await count()) > 10 ? true : undefined)), "n1's writer writes");
    assert.equal((await execIn("fenced", "cat /tmp/errors 2>/dev/null || true")).trim(), "", "no write of n1's failed before the freeze");
    for (const [h, s] of Object.entries(await admitted([n2, n3], iqn))) {
      assert.deepEqual(s, { acls: [i1], sessions: [i1] }, `${h}: n1 alone in the ACL, with a session`);
    }

    // n1 freezes: its VM stops, writer and all, in the middle of its writes
    const pid = qemuPid(1);
    assert.ok(pid, "n1's qemu");
    const written = await count();
    process.kill(pid, "SIGSTOP");
    frozen = pid;
    const t0 = performance.now();
    const secs = (): string => ((performance.now() - t0) / 1000).toFixed(1);
    assert.ok(await until(300, async () => ((await nodeReady("n1")) === "Unknown" ? true : undefined)), "n1 NotReady within 300 s");
    n.note(`n1 frozen (writer at record ${written}): NotReady ${secs()} s later`);

    // the admin, sure n1 is gone, taints it; the pod is deleted, and n1's attachment force-detached
    await kc(["taint", "nodes", "n1", `${TAINT}=nodeshutdown:NoExecute`, "--overwrite"]);
    const gone = await until(600, async () => ((await kubectl(["get", "pod", "fenced", "-n", "default"])).code !== 0 ? true : undefined));
    assert.ok(gone, "the pod on n1 deleted within 600 s of the taint");
    const detached = await until(600, async () => ((await attachedTo(pv.metadata.name)).length === 0 ? true : undefined));
    assert.ok(detached, `n1's VolumeAttachment gone within 600 s of the taint: ${JSON.stringify(await attachedTo(pv.metadata.name))}`);
    n.note(`tainted ${TAINT}: pod gone and n1 detached ${secs()} s after the freeze`);
    for (const [h, s] of Object.entries(await admitted([n2, n3], iqn))) {
      assert.deepEqual(s, { acls: [], sessions: [] }, `${h}: n1's ACL and its session gone while n1 is frozen`);
    }

    await kc(["apply", "-f", "-"], { input: pod("fenced", "n2", { claimName: "fenced", block: true, script: N2_WRITES }) });
    n.note(`pod made again on n2: Ready in ${(await waitReady("fenced")).toFixed(1)} s (${secs()} s after the freeze)`);
    assert.deepEqual(await attachedTo(pv.metadata.name), ["n2"], "attached to n2 alone");
    const before = (await execIn("fenced", REGION_SUM)).trim();

    // n1 thaws, its writer still running: its writes go nowhere
    thaw();
    const t1 = performance.now();
    assert.ok(await until(300, async () => ((await nodeReady("n1")) === "True" ? true : undefined)), "n1 Ready again within 300 s of the thaw");
    await new Promise((r) => setTimeout(r, 60_000));
    const afterThaw = (await execIn("fenced", REGION_SUM)).trim();
    assert.equal(afterThaw, before, "the region n1's writer writes to is unchanged after n1 thawed");
    const i2 = await initiatorOf(n2);
    for (const [h, s] of Object.entries(await admitted([n2, n3], iqn))) {
      assert.deepEqual(s, { acls: [i2], sessions: [i2] }, `${h}: n2 alone in the ACL and in session; nothing of n1's`);
    }
    n.note(
      `n1 thawed: Ready ${((performance.now() - t1) / 1000).toFixed(1)} s later; 60 s on, the first 64 MiB still sha256 ${before.slice(0, 16)}..., no ACL or session of n1's`,
    );

    // the admin lifts the taint: the node plugin comes back to n1 and the kubelet unstages what n1 held
    await kc(["taint", "nodes", "n1", `${TAINT}-`]);
    const t2 = performance.now();
    const clean = await until(900, async () => {
      const t = await traces(n1, iqn, a.wwid ?? "", `/var/lib/kubelet/.*/${pv.metadata.name}/`);
      return JSON.stringify(t) === JSON.stringify(NOTHING) ? t : undefined;
    });
    assert.ok(
      clean,
      `n1 cleaned up within 900 s of the taint's removal: ${JSON.stringify(await traces(n1, iqn, a.wwid ?? "", `/var/lib/kubelet/.*/${pv.metadata.name}/`))}`,
    );
    n.note(`taint removed: n1 holds nothing of the volume ${((performance.now() - t2) / 1000).toFixed(1)} s later`);
    assert.equal((await execIn("fenced", REGION_SUM)).trim(), before, "still unchanged after n1's clean-up");
    const plugin = await kc(["get", "pods", "-n", NAMESPACE, "-l", "app.kubernetes.io/component=node", "--field-selector", "spec.nodeName=n1", "-o", "name"]);
    assert.ok(plugin.trim(), "the node plugin runs on n1 again");

    await deleteObjects("pod", "fenced");
    await deleteObjects("pvc", "fenced");
    await assertGone([n1, n2], pv, "fenced");
  },
);
