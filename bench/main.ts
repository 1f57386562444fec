// npm run bench [-- --quick] [--json]: control-plane latency on the VM lab,
// each figure beside a floor measured in the same run on the same VMs.
//
//   create/delete, ha 1 and ha 3, through the gluster-block CLI, with few and
//   with many existing volumes (the flatness ratio);
//   floor: the same LIO objects made by ONE batched targetcli process per
//   node (what the original's best case costs), at the same volume counts.
//
//   through CSI (the controller on the host): CreateVolume/DeleteVolume ha 1
//   and ha 3, ControllerPublish/Unpublish, N CreateVolume calls at once
//   against the same N one after another;
//   gluster-blockd's resident memory with few and many volumes, and its
//   start-up reconcile of every block after the node's LIO was wiped.
//
// --quick (CI): 1 repetition, 1 -> 3 existing volumes, 3 parallel creates;
// asserts nothing about time. Full (by hand): 3 repetitions, 1 -> 50
// existing (--many N), 20 parallel creates (--parallel N).
import { ensureLab, type Lab, type LabNode } from "../test/e2e/harness/lab.js";
import { buildProduct, startBlockdEverywhere, stopBlockdEverywhere, cli } from "../test/e2e/harness/product.js";
import { gbidFor, iqnFor } from "../src/glusterblock/names.js";
import { median, timed } from "./timing.js";
import { benchCsi, type CsiBench } from "./csi.js";
import { blockdRssMb, reconcileAfterWipe, type ReconcileFigures } from "./blockd-stats.js";

interface Args {
  quick: boolean;
  json: boolean;
  reps: number;
  few: number;
  many: number;
  parallel: number;
}

function parse(argv: string[]): Args {
  const quick = argv.includes("--quick");
  const num = (flag: string, dflt: number): number => {
    const i = argv.indexOf(flag);
    const v = i >= 0 ? Number(argv[i + 1]) : dflt;
    if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} takes a positive whole number`);
    return v;
  };
  for (const a of argv) if (a.startsWith("--") && !["--quick", "--json", "--reps", "--many", "--parallel"].includes(a)) throw new Error(`unknown flag ${a}`);
  return { quick, json: argv.includes("--json"), reps: num("--reps", quick ? 1 : 3), few: 1, many: num("--many", quick ? 3 : 50), parallel: num("--parallel", quick ? 3 : 20) };
}

async function must(n: LabNode, args: string[]): Promise<void> {
  const r = await cli(n, args);
  if (r.code !== 0) throw new Error(`gluster-block ${args.join(" ")}: ${r.stderr || r.stdout}`);
}

/** One batched targetcli per node making what a create makes (the original's one-process floor). */
function floorCreateBatch(lab: Lab, nodeIndex: number, name: string, gbid: string, ha: number): string {
  const iqn = iqnFor(gbid);
  const hosts = lab.addresses.slice(0, ha);
  const lines = [
    `/backstores/user:glfs create name=${name} size=64M cfgstring=${lab.volume}@localhost/block-store/${gbid};tcmur_cmd_time_out=43 wwn=${gbid}`,
    `/backstores/user:glfs/${name} set attribute cmd_time_out=130`,
    `/iscsi create ${iqn}`,
  ];
  for (let t = 2; t <= ha; t++) lines.push(`/iscsi/${iqn} create tpg${t}`);
  hosts.forEach((h, i) => {
    const tpg = `/iscsi/${iqn}/tpg${i + 1}`;
    lines.push(`${tpg}/luns create /backstores/user:glfs/${name}`);
    lines.push(`${tpg}/portals delete 0.0.0.0 3260`);
    lines.push(`${tpg}/portals create ${h} 3260`);
    if (i + 1 === nodeIndex) lines.push(`${tpg} set attribute authentication=0 generate_node_acls=1 demo_mode_write_protect=0`, `${tpg} enable`);
    else lines.push(`${tpg} set attribute tpg_enabled_sendtargets=0`, `${tpg} disable`);
  });
  return lines.join("\n") + "\n";
}

async function floor(lab: Lab, name: string, ha: number): Promise<{ create: number; remove: number }> {
  const gbid = gbidFor(lab.volume, name);
  const nodes = lab.nodes.slice(0, ha);
  // the backing file, as the original had made it before its targetcli batch (blockd's FUSE mount on n1)
  const file = `/run/gluster-blockd/mnt/${lab.volume}/block-store/${gbid}`;
  await lab.node(1).must(["truncate", "-s", "64M", file]);
  const create = await timed(async () => {
    await Promise.all(nodes.map((n, i) => n.must(["targetcli"], { input: floorCreateBatch(lab, i + 1, name, gbid, ha), timeoutMs: 600_000 })));
  });
  const remove = await timed(async () => {
    await Promise.all(nodes.map((n) => n.must(["targetcli"], { input: `/iscsi delete ${iqnFor(gbid)}\n/backstores/user:glfs delete ${name}\n`, timeoutMs: 600_000 })));
  });
  await lab.node(1).must(["rm", "-f", file]);
  return { create, remove };
}

interface Row {
  what: string;
  existing: number;
  ours: number[];
  floor: number[];
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  const log = (s: string): void => {
    if (!a.json) console.log(s);
  };
  buildProduct();
  const lab = await ensureLab({ nodes: 3 });
  await lab.resetState();
  await startBlockdEverywhere(lab);
  const n1 = lab.node(1);
  const hosts = lab.addresses.join(",");
  const rows: Row[] = [];
  const rss: { existing: number; mb: number }[] = [];
  let csi: CsiBench | undefined;
  let reconcile: ReconcileFigures | undefined;
  let existing = 0;
  const fill = async (target: number): Promise<void> => {
    while (existing < target) {
      await must(n1, ["create", `${lab.volume}/fill${existing}`, "ha", "3", "prealloc", "no", hosts, "16MiB"]);
      existing++;
    }
  };
  try {
    // one after another: three at once on a one-vCPU VM measure each other
    const startups: number[] = [];
    for (let i = 0; i < 3; i++) startups.push(await timed(async () => void (await cli(n1, ["version"]))));
    const startup = median(startups);
    log(`CLI process start-up in the VM: ${startup.toFixed(2)} s (included in every CLI figure)`);
    for (const count of [a.few, a.many]) {
      await fill(count);
      for (const ha of [1, 3]) {
        const c: Row = { what: `create ha ${ha}`, existing: count, ours: [], floor: [] };
        const d: Row = { what: `delete ha ${ha}`, existing: count, ours: [], floor: [] };
        for (let r = 0; r < a.reps; r++) {
          const name = `bench-${ha}-${count}-${r}`;
          c.ours.push(await timed(() => must(n1, ["create", `${lab.volume}/${name}`, "ha", String(ha), "prealloc", "no", hosts, "64MiB"])));
          d.ours.push(await timed(() => must(n1, ["delete", `${lab.volume}/${name}`])));
          const f = await floor(lab, `floor-${ha}-${r}`, ha);
          c.floor.push(f.create);
          d.floor.push(f.remove);
        }
        rows.push(c, d);
        log(`${c.what} with ${count} existing: ours ${median(c.ours).toFixed(2)} s, floor ${median(c.floor).toFixed(2)} s; delete ours ${median(d.ours).toFixed(2)} s, floor ${median(d.floor).toFixed(2)} s`);
      }
      rss.push({ existing: count, mb: await blockdRssMb(n1) });
      if (count === a.few) csi = await benchCsi(lab, { reps: a.reps, parallel: a.parallel, log });
    }
    reconcile = await reconcileAfterWipe(n1);
    log(`reconcile after wiping n1's LIO: ${reconcile.converged} blocks in ${reconcile.reconcileS.toFixed(1)} s`);
  } finally {
    for (let i = 0; i < existing; i++) await cli(n1, ["delete", `${lab.volume}/fill${i}`]).catch(() => undefined);
    await stopBlockdEverywhere(lab);
  }
  const table = rows.map((r) => {
    const ours = median(r.ours);
    const fl = median(r.floor);
    const few = rows.find((x) => x.what === r.what && x.existing === a.few);
    return {
      what: r.what,
      existing: r.existing,
      ours_median_s: +ours.toFixed(2),
      ours_min_s: +Math.min(...r.ours).toFixed(2),
      ours_max_s: +Math.max(...r.ours).toFixed(2),
      floor_median_s: +fl.toFixed(2),
      ratio_to_floor: +(ours / fl).toFixed(2),
      flatness_vs_few: few ? +(ours / median(few.ours)).toFixed(2) : 1,
    };
  });
  const floorOf = (what: string): number => median(rows.find((r) => r.what === what && r.existing === a.few)?.floor ?? []);
  const csiRows = csi
    ? [
        ...([1, 3] as const).flatMap((ha) => [
          { what: `CSI CreateVolume ha ${ha}`, ours: csi.create[ha], floor: floorOf(`create ha ${ha}`) },
          { what: `CSI DeleteVolume ha ${ha}`, ours: csi.remove[ha], floor: floorOf(`delete ha ${ha}`) },
        ]),
        { what: "CSI ControllerPublish (ACL on 3 nodes)", ours: csi.publish, floor: NaN },
        { what: "CSI ControllerUnpublish", ours: csi.unpublish, floor: NaN },
      ].map((r) => ({ what: r.what, existing: a.few, ours_median_s: +median(r.ours).toFixed(2), ours_min_s: +Math.min(...r.ours).toFixed(2), ours_max_s: +Math.max(...r.ours).toFixed(2), floor_median_s: +r.floor.toFixed(2), ratio_to_floor: +(median(r.ours) / r.floor).toFixed(2) }))
    : [];
  const parallel = csi ? { ...csi.parallel, ratio: +(csi.parallel.wallS / csi.parallel.sequentialS).toFixed(2) } : undefined;
  if (a.json) console.log(JSON.stringify({ reps: a.reps, few: a.few, many: a.many, rows: table, csi: csiRows, parallel, blockdRssMb: rss, reconcile }, null, 2));
  else {
    console.log("\n| operation | existing | ours median (min-max) s | floor (1 targetcli/node) s | ours/floor | ours vs few existing |");
    console.log("|---|---|---|---|---|---|");
    for (const t of table) console.log(`| ${t.what} | ${t.existing} | ${t.ours_median_s} (${t.ours_min_s}-${t.ours_max_s}) | ${t.floor_median_s} | ${t.ratio_to_floor} | ${t.flatness_vs_few} |`);
    for (const t of csiRows) console.log(`| ${t.what} | ${t.existing} | ${t.ours_median_s} (${t.ours_min_s}-${t.ours_max_s}) | ${Number.isNaN(t.floor_median_s) ? "-" : t.floor_median_s} | ${Number.isNaN(t.ratio_to_floor) ? "-" : t.ratio_to_floor} | |`);
    if (parallel) console.log(`\n${parallel.count} CreateVolume at once: ${parallel.wallS.toFixed(1)} s, one after another ${parallel.sequentialS.toFixed(1)} s (ratio ${parallel.ratio}), ${parallel.failures} failed`);
    console.log(`gluster-blockd RSS: ${rss.map((r) => `${r.mb.toFixed(0)} MB at ${r.existing} volumes`).join(", ")}`);
    if (reconcile) console.log(`reconcile after n1's LIO was wiped: ${reconcile.converged} blocks exported again in ${reconcile.reconcileS.toFixed(1)} s (restart to done ${reconcile.restartToReadyS.toFixed(1)} s); ${reconcile.lunsAfter} LUNs in configfs`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
