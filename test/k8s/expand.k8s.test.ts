// Kubernetes in the lab (issue 23, test 4): online expansion with the pod
// running. The claim is raised from 1 to 2 GiB; csi-resizer calls
// ControllerExpandVolume, the kubelet calls the node plugin's
// NodeExpandVolume, and the pod sees the new size: the filesystem of a
// Filesystem claim, the device of a Block claim, the data intact. Needs
// K8S_BIN_DIR (or the fixed place, lab/k8s/config.ts); skipped with one
// line otherwise.
import { test } from "node:test";
import assert from "node:assert/strict";
import { kc } from "../../lab/k8s/cluster.js";
import { assertGone, claimAndPod, deleteObjects, execIn, GiB, pvOf, until, waitReady, WRITE_BLOB, WRITE_DEVICE, k8sFile } from "./workload.js";

const f = k8sFile();
const SKIP = f.skip;
const n = f.notes;

async function resize(claimName: string, size: string): Promise<void> {
  await kc(["patch", "pvc", claimName, "-n", "default", "--type=merge", "-p", JSON.stringify({ spec: { resources: { requests: { storage: size } } } })]);
}

/** The claim's status capacity, once it is `size` (polled up to `seconds`). */
function capacityReaches(claimName: string, size: string, seconds: number): Promise<string | undefined> {
  return until(seconds, async () => {
    const c = (await kc(["get", "pvc", claimName, "-n", "default", "-o", "jsonpath={.status.capacity.storage}"])).trim();
    return c === size ? c : undefined;
  });
}

test(
  "a Filesystem claim (xfs) raised from 1 to 2 GiB while its pod on n3 runs: the pod's filesystem grows, the data intact",
  { skip: SKIP, timeout: 1_800_000 },
  async () => {
    const n3 = f.lab.node(3);
    await kc(["apply", "-f", "-"], { input: claimAndPod("grow-fs", "n3", { script: WRITE_BLOB }) });
    n.note(`grow-fs: pod Ready in ${(await waitReady("grow-fs")).toFixed(1)} s`);
    const fsSize = async (): Promise<number> => Number((await execIn("grow-fs", "df -B1 --output=size /data | tail -1")).trim());
    const first = await fsSize();
    assert.ok(first > 0.9 * GiB && first <= GiB, `a 1 GiB filesystem at first (${first})`);
    const t0 = performance.now();
    await resize("grow-fs", "2Gi");
    const grown = await until(600, async () => {
      const s = await fsSize();
      return s > 1.9 * GiB ? s : undefined;
    });
    assert.ok(grown, `the pod's filesystem grows to about 2 GiB within 600 s (still ${await fsSize()})`);
    n.note(`grow-fs: the pod's filesystem ${first} -> ${grown} bytes in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    assert.equal(await capacityReaches("grow-fs", "2Gi", 300), "2Gi", "the claim's capacity says 2Gi");
    assert.match(await execIn("grow-fs", "sha256sum -c /data/blob.sha256"), /blob: OK/);
    const pv = await pvOf("grow-fs");
    await deleteObjects("pod", "grow-fs");
    await deleteObjects("pvc", "grow-fs");
    await assertGone([n3], pv, "grow-fs");
  },
);

test(
  "a Block claim raised from 1 to 2 GiB while its pod on n3 uses the device: the pod's device grows, the data intact",
  { skip: SKIP, timeout: 1_800_000 },
  async () => {
    const n3 = f.lab.node(3);
    await kc(["apply", "-f", "-"], { input: claimAndPod("grow-raw", "n3", { block: true, script: WRITE_DEVICE }) });
    n.note(`grow-raw: pod Ready in ${(await waitReady("grow-raw")).toFixed(1)} s`);
    const devSize = async (): Promise<number> => Number((await execIn("grow-raw", "blockdev --getsize64 /dev/xvda")).trim());
    assert.equal(await devSize(), GiB, "a 1 GiB device at first");
    const t0 = performance.now();
    await resize("grow-raw", "2Gi");
    const grown = await until(600, async () => ((await devSize()) === 2 * GiB ? 2 * GiB : undefined));
    assert.equal(grown, 2 * GiB, `the pod's device is 2 GiB within 600 s (still ${await devSize()})`);
    n.note(`grow-raw: the pod's device 1 GiB -> 2 GiB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    assert.equal(await capacityReaches("grow-raw", "2Gi", 300), "2Gi", "the claim's capacity says 2Gi");
    const same = await execIn("grow-raw", "dd if=/dev/xvda bs=1M count=8 iflag=direct status=none | sha256sum | cmp - /tmp/blob.sha256 && echo SAME");
    assert.match(same, /^SAME$/m, "the first 8 MiB as written");
    const pv = await pvOf("grow-raw");
    await deleteObjects("pod", "grow-raw");
    await deleteObjects("pvc", "grow-raw");
    await assertGone([n3], pv, "grow-raw");
  },
);
