// The CSI node plugin's share of the bench, on lab VM n1: one HA-3 block
// with CHAP made with the gluster-block CLI, staged and unstaged (xfs) by the
// plugin and, in the same run on the same VM and block, by hand with the
// plain tools (node-floor.ts). Loop 0 formats (the plugin finds the block
// blank; the floor runs mkfs.xfs -f over the plugin's filesystem); the loops
// after it only mount. Each loop: the plugin's stage + unstage in one CSI
// client process (the per-call times it reports, retries of the first stage
// included), then the floor's; after each, nothing of the target may be left
// on n1 (sessions, paths, maps, mounts, records, wwids), or the bench fails.
import { isDeepStrictEqual } from "node:util";
import type { Lab, LabNode } from "../lab/harness/lab.js";
import { cli } from "../lab/harness/product.js";
import { csiCalls, NOTHING, STAGE_RETRIES, startNodePlugin, stopNodePlugin, traces, type Call } from "../lab/harness/node-plugin.js";
import { iqnFor, wwidFor } from "../src/identity/names.js";
import { toVolumeContext } from "../src/csi/volume-context.js";
import { floorSeconds, floorStageScript, floorUnstageScript, type FloorTarget } from "./node-floor.js";

/** Seconds per loop; index 0 is the loop that formats. */
export interface NodeBench {
  ours: { stage: number[]; unstage: number[] };
  floor: { stage: number[]; unstage: number[] };
  /** calls the first NodeStageVolume took (the plugin answers within its budget; kubelet, here the client, calls again) */
  firstStageAttempts: number;
}

const BLOCK = "bench-node";
const STAGING = `/var/lib/kubelet/plugins/kubernetes.io/csi/block.csi.gluster.org/${BLOCK}/globalmount`;
const FLOOR_MOUNT = `/var/lib/kubelet/gbcsi-bench-floor/${BLOCK}`;

async function createBlock(lab: Lab): Promise<{ password: string; gbid: string }> {
  // xfsprogs 6 refuses filesystems under 300 MB
  const r = await cli(lab.node(1), ["create", `${lab.volume}/${BLOCK}`, "ha", "3", "auth", "enable", lab.addresses.join(","), "512MiB"]);
  const password = /^PASSWORD: ?(.*)$/m.exec(r.stdout)?.[1]?.trim();
  // the CHAP user is the block's GBID (random per create)
  const gbid = /^USERNAME: ?(.*)$/m.exec(r.stdout)?.[1]?.trim();
  if (r.code !== 0 || !password || !gbid) throw new Error(`gluster-block create ${BLOCK}: ${r.stderr || r.stdout}`);
  return { password, gbid };
}

async function assertClean(n: LabNode, t: FloorTarget, after: string): Promise<void> {
  const left = await traces(n, t.iqn, t.wwid);
  if (!isDeepStrictEqual(left, NOTHING)) throw new Error(`${after} left something on ${n.name}: ${JSON.stringify(left)}`);
}

export async function benchNode(lab: Lab, o: { loops: number; log: (s: string) => void }): Promise<NodeBench> {
  const n1 = lab.node(1);
  let gbid = "";
  const portals = lab.addresses.map((a) => `${a}:3260`);
  // named once the block is made (its GBID is random per create)
  const t: FloorTarget = { iqn: "", wwid: "", portals, username: "", mountPoint: FLOOR_MOUNT };
  const out: NodeBench = { ours: { stage: [], unstage: [] }, floor: { stage: [], unstage: [] }, firstStageAttempts: 0 };
  let password = "";
  let created = false;
  try {
    ({ password, gbid } = await createBlock(lab));
    created = true;
    Object.assign(t, { iqn: iqnFor(gbid), wwid: wwidFor(gbid), username: gbid });
    // the collector off: the floor's sessions are ones no record of the plugin owns
    await startNodePlugin(n1, { GBCSI_GC_MODE: "off" });
    const context = toVolumeContext({ iqn: t.iqn, portals, lun: 0, hostingVolume: lab.volume, gbid, ha: 3, wwid: t.wwid, fsType: "", auth: true });
    const volumeId = `v1/${lab.volume}/${BLOCK}`;
    const calls: Call[] = [
      {
        method: "NodeStageVolume",
        request: {
          volume_id: volumeId,
          staging_target_path: STAGING,
          volume_capability: { mount: { fs_type: "xfs", mount_flags: [] }, access_mode: { mode: "SINGLE_NODE_WRITER" } },
          secrets: { username: gbid, password },
          volume_context: context,
        },
        stopOnError: true,
        retries: STAGE_RETRIES,
      },
      { method: "NodeUnstageVolume", request: { volume_id: volumeId, staging_target_path: STAGING }, stopOnError: true, retries: 5 },
    ];
    for (let i = 0; i <= o.loops; i++) {
      const [stage, unstage] = await csiCalls(n1, calls);
      for (const r of [stage, unstage]) if (!r?.ok) throw new Error(`loop ${i}: ${r ? `${r.method} failed: ${r.code} ${r.details}` : "a call did not run"}`);
      if (i === 0) out.firstStageAttempts = stage?.attempts ?? 0;
      out.ours.stage.push((stage?.ms ?? NaN) / 1000);
      out.ours.unstage.push((unstage?.ms ?? NaN) / 1000);
      await assertClean(n1, t, `the plugin's loop ${i}`);

      out.floor.stage.push(floorSeconds((await n1.must(floorStageScript(t, i === 0), { input: `${password}\n`, timeoutMs: 300_000 })).stdout));
      out.floor.unstage.push(floorSeconds((await n1.must(floorUnstageScript(t), { timeoutMs: 300_000 })).stdout));
      await assertClean(n1, t, `the floor's loop ${i}`);
      const s = (x: number[]): string => (x.at(-1) ?? NaN).toFixed(2);
      o.log(
        `node loop ${i}${i === 0 ? " (formats)" : ""}: stage ours ${s(out.ours.stage)} s, floor ${s(out.floor.stage)} s; unstage ours ${s(out.ours.unstage)} s, floor ${s(out.floor.unstage)} s`,
      );
    }
  } finally {
    // whatever a failed loop left: the plugin's unstage, then the floor's by hand
    if (created) {
      await csiCalls(n1, [{ method: "NodeUnstageVolume", request: { volume_id: `v1/${lab.volume}/${BLOCK}`, staging_target_path: STAGING } }]).catch(
        () => undefined,
      );
      await n1.run(floorUnstageScript(t, true)).catch(() => undefined);
    }
    await stopNodePlugin(n1);
    if (created) await cli(n1, ["delete", `${lab.volume}/${BLOCK}`]).catch(() => undefined);
  }
  return out;
}
