// npm run bench [-- --quick] [--json] [--only node]: control-plane and node
// latency on the VM lab, each figure beside a floor measured in the same run
// on the same VMs.
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
//   the node plugin on n1 (node.ts): NodeStage (xfs, 3 paths, CHAP) and
//   NodeUnstage; floor: the same by hand with iscsiadm, multipath, mkfs.xfs
//   and mount (node-floor.ts). `--only node` runs just this part.
//
// --quick (CI): 1 repetition, 1 -> 3 existing volumes, 3 parallel creates,
// 1 node loop after the one that formats; asserts nothing about time. Full
// (by hand): 3 repetitions (--reps N; the floor with many existing volumes
// once: one targetcli at 500 objects takes minutes), 1 -> 50 existing
// (--many N, or a rising list such as --many 100,500), 20 parallel creates
// (--parallel N), 10 node loops (--node-loops N). The existing volumes are
// made --fill-wave N (5) at a time and wiped at the end (fill.ts).
import { randomUUID } from "node:crypto";
import { ensureLab, type Lab, type LabNode } from "../lab/harness/lab.js";
import { blockdSh, buildProduct, startBlockdEverywhere, stopBlockdEverywhere, cli } from "../lab/harness/product.js";
import { iqnFor } from "../src/identity/names.js";
import { median, timed } from "./timing.js";
import { benchCsi, type CsiBench } from "./csi.js";
import { BENCH_BLOCKD_ARGS, blockdRssMb, reconcileAfterWipe, type ReconcileFigures } from "./blockd-stats.js";
import { benchNode, type NodeBench } from "./node.js";
import { filler } from "./fill.js";

interface Args {
  quick: boolean;
  json: boolean;
  reps: number;
  few: number;
  /** existing-volume counts after `few`, rising */
  many: number[];
  parallel: number;
  nodeLoops: number;
  fillWave: number;
  /** "node": only the node plugin's part */
  only: "node" | undefined;
}

function parse(argv: string[]): Args {
  const quick = argv.includes("--quick");
  const num = (flag: string, dflt: number): number => {
    const i = argv.indexOf(flag);
    const v = i >= 0 ? Number(argv[i + 1]) : dflt;
    if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} takes a positive whole number`);
    return v;
  };
  const list = (flag: string, dflt: number[]): number[] => {
    const i = argv.indexOf(flag);
    if (i < 0) return dflt;
    const v = String(argv[i + 1])
      .split(",")
      .map(Number);
    if (!v.every((x, k) => Number.isInteger(x) && x > (k === 0 ? 1 : v[k - 1]!)))
      throw new Error(`${flag} takes a whole number above 1, or a rising comma-separated list of them (100,500)`);
    return v;
  };
  const flags = ["--quick", "--json", "--reps", "--many", "--parallel", "--node-loops", "--fill-wave", "--only"];
  for (const a of argv) if (a.startsWith("--") && !flags.includes(a)) throw new Error(`unknown flag ${a}`);
  const onlyAt = argv.indexOf("--only");
  if (onlyAt >= 0 && argv[onlyAt + 1] !== "node") throw new Error("--only takes: node");
  return {
    quick,
    json: argv.includes("--json"),
    reps: num("--reps", quick ? 1 : 3),
    few: 1,
    many: list("--many", [quick ? 3 : 50]),
    parallel: num("--parallel", quick ? 3 : 20),
    nodeLoops: num("--node-loops", quick ? 1 : 10),
    fillWave: num("--fill-wave", 5),
    only: onlyAt >= 0 ? "node" : undefined,
  };
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
  // a target made by hand, as the original would: any GBID names it
  const gbid = randomUUID();
  const nodes = lab.nodes.slice(0, ha);
  // the backing file, as the original had made it before its targetcli batch (blockd's FUSE mount on n1, in its container)
  const file = `/run/gluster-blockd/mnt/${lab.volume}/block-store/${gbid}`;
  await lab.node(1).must(blockdSh(`truncate -s 64M ${file}`));
  const create = await timed(async () => {
    await Promise.all(nodes.map((n, i) => n.must(["targetcli"], { input: floorCreateBatch(lab, i + 1, name, gbid, ha), timeoutMs: 600_000 })));
  });
  const remove = await timed(async () => {
    await Promise.all(
      nodes.map((n) => n.must(["targetcli"], { input: `/iscsi delete ${iqnFor(gbid)}\n/backstores/user:glfs delete ${name}\n`, timeoutMs: 600_000 })),
    );
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

interface ControlPlane {
  rows: Row[];
  rss: { existing: number; mb: number }[];
  csi: CsiBench | undefined;
  reconcile: ReconcileFigures | undefined;
}

/** The gluster-block CLI against its targetcli floor at few and many existing volumes, the CSI controller, blockd's memory and reconcile. */
async function controlPlane(lab: Lab, a: Args, log: (s: string) => void): Promise<ControlPlane> {
  const n1 = lab.node(1);
  const hosts = lab.addresses.join(",");
  const out: ControlPlane = { rows: [], rss: [], csi: undefined, reconcile: undefined };
  const fills = filler(lab, a.fillWave, log);
  try {
    // one after another: three at once on a one-vCPU VM measure each other
    const startups: number[] = [];
    for (let i = 0; i < 3; i++) startups.push(await timed(async () => void (await cli(n1, ["version"]))));
    const startup = median(startups);
    log(`CLI process start-up in the VM: ${startup.toFixed(2)} s (included in every CLI figure)`);
    for (const count of [a.few, ...a.many]) {
      await fills.fill(count);
      for (const ha of [1, 3]) {
        const c: Row = { what: `create ha ${ha}`, existing: count, ours: [], floor: [] };
        const d: Row = { what: `delete ha ${ha}`, existing: count, ours: [], floor: [] };
        for (let r = 0; r < a.reps; r++) {
          const name = `bench-${ha}-${count}-${r}`;
          c.ours.push(await timed(() => must(n1, ["create", `${lab.volume}/${name}`, "ha", String(ha), "prealloc", "no", hosts, "64MiB"])));
          d.ours.push(await timed(() => must(n1, ["delete", `${lab.volume}/${name}`])));
          // with many existing, one targetcli loading every object takes minutes: its floor once
          if (count !== a.few && r > 0) continue;
          const f = await floor(lab, `floor-${ha}-${r}`, ha);
          c.floor.push(f.create);
          d.floor.push(f.remove);
        }
        out.rows.push(c, d);
        log(
          `${c.what} with ${count} existing: ours ${median(c.ours).toFixed(2)} s, floor ${median(c.floor).toFixed(2)} s; delete ours ${median(d.ours).toFixed(2)} s, floor ${median(d.floor).toFixed(2)} s`,
        );
      }
      const mb = await blockdRssMb(n1);
      out.rss.push({ existing: count, mb });
      log(`gluster-blockd RSS on n1 with ${count} existing: ${mb.toFixed(0)} MB`);
      if (count === a.few) out.csi = await benchCsi(lab, { reps: a.reps, parallel: a.parallel, log });
    }
    out.reconcile = await reconcileAfterWipe(n1);
    log(`reconcile after wiping n1's LIO: ${out.reconcile.converged} blocks in ${out.reconcile.reconcileS.toFixed(1)} s`);
  } finally {
    await fills.wipe();
  }
  return out;
}

const r2 = (x: number): number => +x.toFixed(2);

/** Rows of the node part: loop 0 (the one that formats) apart, the other loops' median, min and max. */
function nodeRows(n: NodeBench) {
  const row = (what: string, ours: number[], fl: number[]) => ({
    what,
    loops: ours.length,
    ours_median_s: r2(median(ours)),
    ours_min_s: r2(Math.min(...ours)),
    ours_max_s: r2(Math.max(...ours)),
    floor_median_s: r2(median(fl)),
    floor_min_s: r2(Math.min(...fl)),
    floor_max_s: r2(Math.max(...fl)),
    ratio_to_floor: r2(median(ours) / median(fl)),
  });
  return [
    row("NodeStage, first (mkfs.xfs)", n.ours.stage.slice(0, 1), n.floor.stage.slice(0, 1)),
    row("NodeStage (xfs, 3 paths, CHAP)", n.ours.stage.slice(1), n.floor.stage.slice(1)),
    row("NodeUnstage", n.ours.unstage.slice(1), n.floor.unstage.slice(1)),
  ];
}

function printControlPlane(a: Args, p: ControlPlane): void {
  const { rss, reconcile } = p;
  const table = controlPlaneTable(a, p);
  console.log("\n| operation | existing | ours median (min-max) s | floor (1 targetcli/node) s | ours/floor | ours vs few existing |");
  console.log("|---|---|---|---|---|---|");
  for (const t of table.rows)
    console.log(
      `| ${t.what} | ${t.existing} | ${t.ours_median_s} (${t.ours_min_s}-${t.ours_max_s}) | ${t.floor_median_s} | ${t.ratio_to_floor} | ${t.flatness_vs_few} |`,
    );
  for (const t of table.csi)
    console.log(
      `| ${t.what} | ${t.existing} | ${t.ours_median_s} (${t.ours_min_s}-${t.ours_max_s}) | ${Number.isNaN(t.floor_median_s) ? "-" : t.floor_median_s} | ${Number.isNaN(t.ratio_to_floor) ? "-" : t.ratio_to_floor} | |`,
    );
  const parallel = table.parallel;
  if (parallel)
    console.log(
      `\n${parallel.count} CreateVolume at once: ${parallel.wallS.toFixed(1)} s, one after another ${parallel.sequentialS.toFixed(1)} s (ratio ${parallel.ratio}), ${parallel.failures} failed`,
    );
  console.log(`gluster-blockd RSS: ${rss.map((r) => `${r.mb.toFixed(0)} MB at ${r.existing} volumes`).join(", ")}`);
  if (reconcile)
    console.log(
      `reconcile after n1's LIO was wiped: ${reconcile.converged} blocks exported again in ${reconcile.reconcileS.toFixed(1)} s (restart to done ${reconcile.restartToReadyS.toFixed(1)} s); ${reconcile.lunsAfter} LUNs in configfs`,
    );
}

function controlPlaneTable(a: Args, p: ControlPlane) {
  const { rows, csi } = p;
  const table = rows.map((r) => {
    const ours = median(r.ours);
    const fl = median(r.floor);
    const few = rows.find((x) => x.what === r.what && x.existing === a.few);
    return {
      what: r.what,
      existing: r.existing,
      ours_median_s: r2(ours),
      ours_min_s: r2(Math.min(...r.ours)),
      ours_max_s: r2(Math.max(...r.ours)),
      floor_median_s: r2(fl),
      ratio_to_floor: r2(ours / fl),
      flatness_vs_few: few ? r2(ours / median(few.ours)) : 1,
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
      ].map((r) => ({
        what: r.what,
        existing: a.few,
        ours_median_s: r2(median(r.ours)),
        ours_min_s: r2(Math.min(...r.ours)),
        ours_max_s: r2(Math.max(...r.ours)),
        floor_median_s: r2(r.floor),
        ratio_to_floor: r2(median(r.ours) / r.floor),
      }))
    : [];
  const parallel = csi ? { ...csi.parallel, ratio: r2(csi.parallel.wallS / csi.parallel.sequentialS) } : undefined;
  return { rows: table, csi: csiRows, parallel };
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  const log = (s: string): void => {
    if (!a.json) console.log(s);
  };
  buildProduct();
  const lab = await ensureLab({ nodes: 3 });
  await lab.resetState();
  await startBlockdEverywhere(lab, BENCH_BLOCKD_ARGS);
  let plane: ControlPlane | undefined;
  let node: NodeBench;
  try {
    if (a.only !== "node") plane = await controlPlane(lab, a, log);
    node = await benchNode(lab, { loops: a.nodeLoops, log });
  } finally {
    await stopBlockdEverywhere(lab);
  }
  const nodeTable = nodeRows(node);
  if (a.json) {
    const t = plane ? controlPlaneTable(a, plane) : undefined;
    const cp = plane && t ? { rows: t.rows, csi: t.csi, parallel: t.parallel, blockdRssMb: plane.rss, reconcile: plane.reconcile } : {};
    console.log(
      JSON.stringify(
        {
          reps: a.reps,
          few: a.few,
          many: a.many,
          ...cp,
          node: { loops: a.nodeLoops, firstStageAttempts: node.firstStageAttempts, rows: nodeTable, perLoopS: node },
        },
        null,
        2,
      ),
    );
    return;
  }
  if (plane) printControlPlane(a, plane);
  console.log(`\nnode plugin on n1, ${a.nodeLoops} loop(s) after the one that formats (first NodeStage took ${node.firstStageAttempts} call(s))`);
  console.log("| operation | loops | ours median (min-max) s | floor: iscsiadm, multipath, mkfs.xfs, mount by hand, median (min-max) s | ours/floor |");
  console.log("|---|---|---|---|---|");
  for (const t of nodeTable)
    console.log(
      `| ${t.what} | ${t.loops} | ${t.ours_median_s} (${t.ours_min_s}-${t.ours_max_s}) | ${t.floor_median_s} (${t.floor_min_s}-${t.floor_max_s}) | ${t.ratio_to_floor} |`,
    );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
