// What an earlier run left in the lab (one run with --keep, or one cut
// short by Ctrl-C or a power cut) is found by the demo's fixed names and
// removed before a new run, or by --cleanup alone. Only the demo's own
// blocks, mounts, sessions, records and node plugin are touched.
import { NODE_UNIT, stopNodePlugin } from "../lab/harness/node-plugin.js";
import { block, learnGbid, VOLUME, NODE_RECORD_FILE, PUBLISH_PATH, PV_NAME, SEED_BLOCK, SEED_MOUNT, STAGING_PATH, type DemoContext } from "./context.js";
import { oneLine } from "./cli-output.js";
import { cli } from "../lab/harness/product.js";
import { sweepScript } from "./initiator.js";
import { blocksListed, deleteBlock } from "./lab-steps.js";

/** Removes what an earlier run left; says what it removed, or "none found". */
export async function sweepLeftovers(ctx: DemoContext): Promise<string> {
  const n1 = ctx.initiator;
  const done: string[] = [];
  // a node plugin a --keep run left, with our volume staged: stopped first, so its healer does not log in again
  const kept = await n1.run(`test -e ${NODE_RECORD_FILE} && systemctl is-active --quiet ${NODE_UNIT}`);
  if (kept.code === 0) {
    await stopNodePlugin(n1);
    done.push(`stopped the node plugin on ${n1.name}`);
  }
  // a GBID is random per create: the leftover blocks' own, from `info` (a block no longer listed names no target)
  const listed = await blocksListed(n1);
  for (const name of [SEED_BLOCK, PV_NAME].filter((x) => listed.includes(x))) {
    const gbid = /^GBID: (\S+)$/m.exec((await cli(n1, ["info", `${VOLUME}/${name}`])).stdout)?.[1];
    if (gbid) learnGbid(name, gbid);
  }
  const seed = block(SEED_BLOCK);
  const pv = block(PV_NAME);
  // one ssh for both (every command costs seconds under qemu TCG), each line marked with its block
  const sweeps = [
    [SEED_BLOCK, sweepScript({ iqn: seed.iqn, wwid: seed.wwid, mounts: [SEED_MOUNT] })],
    [PV_NAME, sweepScript({ iqn: pv.iqn, wwid: pv.wwid, mounts: [PUBLISH_PATH, STAGING_PATH], recordFile: NODE_RECORD_FILE })],
  ] as const;
  const out = await n1.must(sweeps.map(([name, script]) => `(\n${script}\n) | sed 's|^|${name}: |'`).join("\n"));
  const swept = oneLine(out.stdout, "");
  if (swept !== "") done.push(`on ${n1.name}: ${swept}`);
  for (const name of [SEED_BLOCK, PV_NAME]) {
    if (listed.includes(name)) done.push(`gluster-block delete ${name}: ${await deleteBlock(n1, name)}`);
  }
  return done.length === 0 ? "none found" : done.join("; ");
}
