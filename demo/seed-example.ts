// Part 1, the seed's example as its README told it: gluster-block create
// with HA 3 and CHAP on the storage VMs, then by hand on the initiator:
// discovery, CHAP login on the 3 portals, multipath, mkfs.xfs, mount, write;
// then the teardown in reverse.
import { cli } from "../lab/harness/product.js";
import { traces } from "../lab/harness/node-plugin.js";
import { block, learnGbid, SEED_BLOCK, SEED_MOUNT, SEED_SIZE, VOLUME, portalsOf, type DemoContext } from "./context.js";
import { detachScript, discoveryScript, guardWriteSameScript, loginScript, multipathWaitScript, unmountScript, type TargetOnNode } from "./initiator.js";
import { cliField, oneLine } from "./cli-output.js";
import { blockListed, deleteBlock, writeAndCheck } from "./lab-steps.js";
import { finishPart } from "./teardown.js";
import { Undo } from "./undo.js";
import { isGbid } from "../src/identity/names.js";

export async function seedExample(ctx: DemoContext): Promise<void> {
  const { lab, log, initiator: n1 } = ctx;
  // named once the create answers (a GBID is random per create; the CHAP user is the GBID)
  let b = block(SEED_BLOCK);
  let target: TargetOnNode = { iqn: b.iqn, wwid: b.wwid, portals: portalsOf(lab) };
  let device = `/dev/mapper/${b.wwid}`;
  const undo = new Undo();
  try {
    const args = ["create", `${VOLUME}/${SEED_BLOCK}`, "ha", "3", "auth", "enable", lab.addresses.join(","), SEED_SIZE];
    undo.push(`gluster-block delete ${VOLUME}/${SEED_BLOCK}`, () => deleteBlock(n1, SEED_BLOCK));
    const created = await log.step(
      `gluster-block ${args.join(" ")}`,
      async () => {
        const r = await cli(n1, args);
        // the password first: nothing is printed before the scrubber knows it
        const password = cliField(r.stdout, "PASSWORD") ?? "";
        ctx.scrubber.hide(password);
        if (r.code !== 0) throw new Error(`exit ${r.code}\n${r.stdout}${r.stderr}`);
        return { out: r.stdout, username: cliField(r.stdout, "USERNAME") ?? "", password };
      },
      () => "run on n1; blockd makes the target on all three",
    );
    log.block(created.out);
    // the CHAP user is the GBID: named by the engine's own rule, not a copy of it
    if (isGbid(created.username)) learnGbid(SEED_BLOCK, created.username);
    b = block(SEED_BLOCK);
    target = { iqn: b.iqn, wwid: b.wwid, portals: portalsOf(lab) };
    device = `/dev/mapper/${b.wwid}`;
    if (created.username !== b.gbid || created.password === "")
      throw new Error(`create printed no CHAP credentials (USERNAME ${JSON.stringify(created.username)})`);

    const info = await log.step(
      `gluster-block info ${VOLUME}/${SEED_BLOCK}`,
      async () => {
        const r = await cli(n1, ["info", `${VOLUME}/${SEED_BLOCK}`]);
        if (r.code !== 0) throw new Error(`exit ${r.code}\n${r.stdout}${r.stderr}`);
        return r.stdout;
      },
      () => "",
    );
    log.block(info);

    const found = await log.step(
      "iscsiadm -m discovery -t sendtargets on the 3 portals",
      async () => (await n1.must(discoveryScript(target))).stdout,
      (out) => `${out.trim().split("\n").length} portals offer ${b.iqn}`,
    );
    log.block(found);

    undo.push("logout, delete node records, flush the map (on n1)", async () => oneLine((await n1.must(detachScript(target))).stdout));
    await log.step(
      "iscsiadm login with CHAP on the 3 portals",
      async () => oneLine((await n1.must(loginScript(target, created.username), { input: `${created.password}\n` })).stdout),
      (out) => `username = GBID, password from create (hidden); ${out}`,
    );

    const mp = await log.step(
      "multipath: one map over the 3 paths",
      async () => (await n1.must(multipathWaitScript(b.wwid, 3))).stdout,
      () => device,
    );
    log.block(mp);

    await log.step(
      "WRITE SAME off on each path (as the node plugin does: tcmu-runner 1.5.4 dies of it)",
      async () => (await n1.must(guardWriteSameScript(b.iqn))).stdout.trim(),
      (n) => `${n} path(s)`,
    );

    await log.step(
      `mkfs.xfs -K ${device}`,
      async () => {
        // blkid first: never format a device that holds data
        await n1.must(`if blkid -p ${device} >/dev/null 2>&1; then echo "${device} holds data: not formatting it"; exit 1; fi; mkfs.xfs -q -K ${device}`, {
          timeoutMs: 300_000,
        });
        return (await n1.must(`blkid -o value -s UUID ${device}`)).stdout.trim();
      },
      (uuid) => `xfs, UUID ${uuid}`,
    );

    undo.push(`umount ${SEED_MOUNT}`, async () => oneLine((await n1.must(unmountScript([SEED_MOUNT]))).stdout));
    await log.step(
      `mount ${device} ${SEED_MOUNT}`,
      async () => {
        await n1.must(`mkdir -p ${SEED_MOUNT} && mount ${device} ${SEED_MOUNT}`);
        return (await n1.must(`findmnt -n -o FSTYPE,OPTIONS ${SEED_MOUNT}`)).stdout.trim();
      },
      (m) => m,
    );

    await log.step(
      "write 16 MiB and a file, sync, drop caches, read back",
      () => writeAndCheck(n1, SEED_MOUNT),
      (r) => r,
    );
  } finally {
    await finishPart(ctx, undo, { name: `check: nothing of ${SEED_BLOCK} is left`, run: () => nothingLeft(ctx) });
  }
}

async function nothingLeft(ctx: DemoContext): Promise<string> {
  const b = block(SEED_BLOCK);
  const t = await traces(ctx.initiator, b.iqn, b.wwid, SEED_MOUNT);
  const counts = { sessions: t.sessions, paths: t.paths, maps: t.maps, mounts: t.mounts, nodeRecords: t.nodeRecords, wwids: t.wwids };
  const left = Object.entries(counts).filter(([, v]) => v !== 0);
  const listed = await blockListed(ctx.initiator, SEED_BLOCK);
  if (left.length > 0 || listed) throw new Error(`left behind: ${left.map(([k, v]) => `${k}=${v}`).join(" ")}${listed ? ` ${SEED_BLOCK} still listed` : ""}`);
  return "n1: 0 sessions, paths, maps, mounts, node records; not in gluster-block list";
}
