// npm run bench [-- --quick] [--json]: control-plane latency on the VM lab,
// each figure beside a floor measured in the same run on the same VMs.
//
//   create/delete, ha 1 and ha 3, through the gluster-block CLI, with few and
//   with many existing volumes (the flatness ratio);
//   floor: the same LIO objects made by ONE batched targetcli process per
//   node (what the original's best case costs), at the same volume counts.
//
// --quick (CI): 1 repetition, 1 -> 4 existing volumes; asserts nothing about time.
// full (by hand): 3 repetitions, 1 -> 50 existing volumes.
import { ensureLab, type Lab, type LabNode } from "../test/e2e/harness/lab.js";
import { buildProduct, startBlockdEverywhere, stopBlockdEverywhere, cli } from "../test/e2e/harness/product.js";
import { gbidFor, iqnFor } from "../src/glusterblock/names.js";

interface Args {
  quick: boolean;
  json: boolean;
  reps: number;
  few: number;
  many: number;
}

function parse(argv: string[]): Args {
  const quick = argv.includes("--quick");
  const num = (flag: string, dflt: number): number => {
    const i = argv.indexOf(flag);
    const v = i >= 0 ? Number(argv[i + 1]) : dflt;
    if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} takes a positive whole number`);
    return v;
  };
  for (const a of argv) if (a.startsWith("--") && !["--quick", "--json", "--reps", "--many"].includes(a)) throw new Error(`unknown flag ${a}`);
  return { quick, json: argv.includes("--json"), reps: num("--reps", quick ? 1 : 3), few: 1, many: num("--many", quick ? 4 : 50) };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
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
  let existing = 0;
  const fill = async (target: number): Promise<void> => {
    while (existing < target) {
      await must(n1, ["create", `${lab.volume}/fill${existing}`, "ha", "3", "prealloc", "no", hosts, "16MiB"]);
      existing++;
    }
  };
  try {
    const startup = median(await Promise.all([0, 1, 2].map(() => timed(async () => void (await cli(n1, ["version"]))))));
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
    }
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
  if (a.json) console.log(JSON.stringify({ reps: a.reps, few: a.few, many: a.many, rows: table }, null, 2));
  else {
    console.log("\n| operation | existing | ours median (min-max) s | floor (1 targetcli/node) s | ours/floor | ours vs few existing |");
    console.log("|---|---|---|---|---|---|");
    for (const t of table) console.log(`| ${t.what} | ${t.existing} | ${t.ours_median_s} (${t.ours_min_s}-${t.ours_max_s}) | ${t.floor_median_s} | ${t.ratio_to_floor} | ${t.flatness_vs_few} |`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
