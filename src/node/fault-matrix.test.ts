// The node plugin's fault matrix (issue 9), on the fake host: NodeStageVolume
// and NodeUnstageVolume with each host action in turn (a command, a sysfs
// write, a node record write) either failing, or followed by the plugin being
// killed; then the RPC is retried as kubelet retries it (on the same plugin,
// or on a restarted one). A stage must end mounted, with one session per
// portal and one map; an unstage (also after a stage that never finished)
// must leave nothing at all. A stage that succeeds on fewer portals is not
// retried by kubelet; the plugin's periodic healer runs before the check.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { Metadata } from "@grpc/grpc-js";
import { FakeHost, type HostAction } from "./fake-host.js";
import { makeNodeDeps, type NodeDeps } from "./node-deps.js";
import { nodeServer } from "./node-server.js";
import { RecordStore, type NodeRecord } from "./node-record.js";
import { Healer } from "./healer.js";
import type { RpcContext } from "../csi/rpc.js";
import type { Exec } from "../util/exec.js";
import { nullLogger } from "../util/log.js";
import { gbidFor, iqnFor, wwidFor } from "../glusterblock/names.js";
import { toVolumeContext } from "../csi/volume-context.js";

const VOL = "block-test";
const BLOCK = "pvc-fault";
const GBID = gbidFor(VOL, BLOCK);
const IQN = iqnFor(GBID);
const WWID = wwidFor(GBID);
const VOLUME_ID = `v1/${VOL}/${BLOCK}`;
const PORTALS = ["10.0.0.1:3260", "10.0.0.2:3260", "10.0.0.3:3260"];
const PASSWORD = "fault-matrix-chap-secret-77";
const MiB = 1024 * 1024;

const ctx: RpcContext = { requestId: "t", method: "test", log: nullLogger, peer: "unix:test", outgoing: new Metadata(), signal: new AbortController().signal };

/**
 * Which action goes wrong, and how; counts every action of the plugin on the
 * host. A killed plugin does nothing more: its next action never returns.
 */
class Faults {
  index = 0;
  killed = false;
  readonly actions: string[] = [];
  /** the action made to fail */
  injected: string | undefined;
  /** resolves when the killed plugin reached its next action (and stopped there) */
  readonly stopped: Promise<void>;
  private onStop: () => void = () => undefined;
  constructor(
    private readonly at: number | undefined,
    private readonly mode: "fail" | "kill",
  ) {
    this.stopped = new Promise((resolve) => (this.onStop = resolve));
  }
  before(label: string): boolean {
    const i = this.index++;
    this.actions.push(label);
    if (i !== this.at || this.mode !== "fail") return false;
    this.injected = label;
    return true;
  }
  after(): void {
    if (this.index - 1 === this.at && this.mode === "kill") this.killed = true;
  }
  /** what a killed process's next action does: nothing, ever */
  hang(): Promise<never> {
    this.onStop();
    return new Promise<never>(() => undefined);
  }
}

function label(a: HostAction): string {
  if (a.kind === "sysfs") return `sysfs ${a.path.split("/").slice(-2).join("/")} = ${a.value}`;
  const args = a.args;
  const at = (f: string): string | undefined => {
    const i = args.indexOf(f);
    return i >= 0 ? args[i + 1] : undefined;
  };
  if (a.file === "iscsiadm") {
    const op = at("-o") ?? (args.includes("--login") ? "login" : args.includes("--logout") ? "logout" : "?");
    return ["iscsiadm", op, at("-p") ?? "", (at("-n") ?? "").replace("node.session.", "")].filter((x) => x !== "").join(" ");
  }
  if (a.file === "findmnt") return args.includes("--mountpoint") ? "findmnt staging" : "findmnt all";
  return [a.file, ...args.filter((x) => !x.startsWith("-") || x.length <= 3).map((x) => (x.includes("/") ? basename(x) : x))].slice(0, 4).join(" ");
}

/** The record store, with its writes as host actions (they are durable steps of an RPC). */
class FaultyRecords extends RecordStore {
  constructor(
    dir: string,
    private readonly faults: Faults | undefined,
    private readonly counting: () => Faults | undefined,
  ) {
    super(dir);
  }
  private around<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.faults?.killed) return this.faults.hang();
    const f = this.counting();
    if (f?.before(what)) return Promise.reject(new Error(`EIO: injected failure (${what})`));
    return fn().then((v) => {
      f?.after();
      return v;
    });
  }
  override put(record: NodeRecord): Promise<NodeRecord> {
    return this.around(`record ${record.phase}`, () => super.put(record));
  }
  override delete(volumeId: string): Promise<void> {
    return this.around("record delete", () => super.delete(volumeId));
  }
}

interface Plugin {
  deps: NodeDeps;
  srv: ReturnType<typeof nodeServer>;
}

/** A plugin process on the host; once `faults` says it was killed, it never touches the host again. */
function plugin(host: FakeHost, faults: Faults | undefined, counting: () => Faults | undefined): Plugin {
  const exec: Exec = (file, args, opts) => (faults?.killed ? faults.hang() : host.exec(file, args, opts));
  const sysfsWriter = (path: string, value: string): Promise<void> => (faults?.killed ? faults.hang() : host.sysfsWriter(path, value));
  const deps = makeNodeDeps(exec, host.paths, nullLogger, { sysfsWriter, allPathsWaitMs: 200, pollMs: 10, budgetMs: 3_000 });
  deps.records = new FaultyRecords(deps.records.dir, faults, counting);
  return { deps, srv: nodeServer(deps, { nodeName: "worker1", maxVolumesPerNode: 64, topology: {} }) };
}

async function newHost(): Promise<FakeHost> {
  const host = await FakeHost.create();
  host.addTarget({ iqn: IQN, portals: PORTALS, wwid: WWID, sizeBytes: 256 * MiB, chap: { username: GBID, password: PASSWORD } });
  return host;
}

const stagingPath = (host: FakeHost): string => host.kubelet("plugins/kubernetes.io/csi/block.csi.gluster.org/fm/globalmount");
const stage = (p: Plugin, host: FakeHost): Promise<unknown> =>
  p.srv.NodeStageVolume!(
    {
      volume_id: VOLUME_ID,
      publish_context: {},
      staging_target_path: stagingPath(host),
      volume_capability: { mount: { fs_type: "xfs", mount_flags: [], volume_mount_group: "" }, access_mode: { mode: "SINGLE_NODE_WRITER" }, access_type: "mount" },
      secrets: { username: GBID, password: PASSWORD },
      volume_context: toVolumeContext({ iqn: IQN, portals: PORTALS, lun: 0, hostingVolume: VOL, gbid: GBID, ha: 3, wwid: WWID, fsType: "xfs", auth: true }),
    },
    ctx,
  );
const unstage = (p: Plugin, host: FakeHost): Promise<unknown> => p.srv.NodeUnstageVolume!({ volume_id: VOLUME_ID, staging_target_path: stagingPath(host) }, ctx);

/** What is wrong with a staged volume ([] when it is staged as it must be). */
async function stagedProblems(host: FakeHost, p: Plugin, faults: Faults): Promise<string[]> {
  const out: string[] = [];
  const portals = (await p.deps.sysfs.sessionsOf(IQN)).map((s) => s.portal).sort();
  if (JSON.stringify(portals) !== JSON.stringify(PORTALS)) out.push(`sessions on ${portals.join(",") || "no portal"}`);
  if (host.mapCount() !== 1) out.push(`${host.mapCount()} maps`);
  const map = await p.deps.multipath.map(WWID);
  if (!map) out.push("no map of our WWID");
  else if (map.slaves.length !== PORTALS.length) out.push(`map over ${map.slaves.length} paths`);
  if (host.diskCount() !== PORTALS.length) out.push(`${host.diskCount()} disks`);
  for (const s of await p.deps.sysfs.sessionsOf(IQN)) {
    for (const d of s.disks) {
      const ws = await readFile(join(host.paths.sysfs, "block", d.name, "device", "scsi_disk", d.hctl, "max_write_same_blocks"), "utf8").catch(() => "?");
      if (ws.trim() !== "0") out.push(`WRITE SAME left on ${d.name}`);
    }
  }
  const mounts = host.mounts.filter((m) => m.target === stagingPath(host));
  if (mounts.length !== 1 || mounts[0]?.devNo !== map?.devNo || mounts[0]?.fstype !== "xfs") out.push(`staging mounts: ${JSON.stringify(mounts.map((m) => [m.source, m.fstype, m.devNo]))}`);
  if (host.mounts.length !== mounts.length) out.push("other mounts");
  if (host.fsByWwid.get(WWID) !== "xfs") out.push("no xfs on the LUN");
  // never formatted twice: every mkfs call ran, but one that was made to fail
  const formats = host.calls.filter((c) => c.file.startsWith("mkfs")).length - (faults.injected?.startsWith("mkfs") ? 1 : 0);
  if (formats > 1) out.push(`formatted ${formats} times`);
  const rec = await p.deps.records.get(VOLUME_ID);
  if (rec?.phase !== "staged" || rec.device !== map?.name) out.push(`record ${rec?.phase ?? "missing"} ${rec?.device ?? ""}`);
  for (const portal of PORTALS) {
    const r = host.nodeRecords.get(IQN)?.get(portal);
    if (r?.get("node.startup") !== "manual" || r.get("node.session.auth.password") !== PASSWORD) out.push(`node record of ${portal} incomplete`);
  }
  return out;
}

/** What is left of a volume after unstage ([] when nothing). */
async function leftovers(host: FakeHost): Promise<string[]> {
  const out: string[] = [];
  if (host.sessionCount() > 0) out.push(`${host.sessionCount()} sessions`);
  if (host.mapCount() > 0) out.push(`${host.mapCount()} maps`);
  if (host.diskCount() > 0) out.push(`${host.diskCount()} disks`);
  if (host.mounts.length > 0) out.push(`mounts at ${host.mounts.map((m) => m.target).join(", ")}`);
  if (host.nodeRecords.size > 0) out.push("iscsiadm node records");
  if (host.allowedWwids.has(WWID)) out.push("WWID still in the wwids file");
  const recs = await host.listDir("var/lib/gluster-block-csi/volumes");
  if (recs.length > 0) out.push(`plugin records ${recs.join(", ")}`);
  return out;
}

interface Row {
  name: string;
  setup(p: Plugin, host: FakeHost): Promise<unknown>;
  first(p: Plugin, host: FakeHost): Promise<unknown>;
  retry(p: Plugin, host: FakeHost): Promise<unknown>;
  problems(host: FakeHost, p: Plugin, faults: Faults): Promise<string[]>;
}

const rows: Row[] = [
  { name: "NodeStageVolume", setup: () => Promise.resolve(), first: stage, retry: stage, problems: stagedProblems },
  { name: "NodeUnstageVolume", setup: stage, first: unstage, retry: unstage, problems: (h) => leftovers(h) },
  // the pod went away while staging failed: kubelet unstages instead of retrying
  { name: "NodeStageVolume, then NodeUnstageVolume", setup: () => Promise.resolve(), first: stage, retry: unstage, problems: (h) => leftovers(h) },
];

interface Cell {
  row: string;
  index: number;
  action: string;
  fail: string;
  kill: string;
}

const errText = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

async function runCell(row: Row, at: number | undefined, mode: "fail" | "kill"): Promise<{ actions: string[]; problems: string[] }> {
  const host = await newHost();
  try {
    // the host counts (and fails) the actions of the first attempt only
    let counting: Faults | undefined;
    host.faults = { before: (a) => counting?.before(label(a)) ?? false, after: () => counting?.after() };
    const setupPlugin = plugin(host, undefined, () => undefined);
    await row.setup(setupPlugin, host);
    const f = new Faults(at, mode);
    let p = plugin(host, f, () => counting);
    counting = f;
    // a killed plugin's call never returns: go on once it stopped
    const first = await Promise.race([
      row.first(p, host).then(
        () => undefined,
        (e: unknown) => e,
      ),
      f.stopped.then(() => undefined),
    ]);
    counting = undefined;
    if (at === undefined) {
      if (first !== undefined) throw new Error(`${row.name} without faults failed: ${errText(first)}`);
      return { actions: f.actions, problems: [] };
    }
    // a killed plugin is restarted: nothing of its memory survives (locks, caches)
    if (mode === "kill") p = plugin(host, undefined, () => undefined);
    const retry = await row.retry(p, host).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (retry !== undefined) return { actions: f.actions, problems: [`retry failed: ${errText(retry)}`] };
    // a stage that succeeded on fewer portals is not retried by kubelet: the plugin's periodic healer completes it
    await new Healer(p.deps).runOnce(nullLogger);
    return { actions: f.actions, problems: await row.problems(host, p, f) };
  } finally {
    await host.cleanup();
  }
}

test("node fault matrix: stage and unstage converge after any host action fails, or the plugin dies after it", { timeout: 10 * 60_000 }, async () => {
  const cells: Cell[] = [];
  for (const row of rows) {
    const { actions } = await runCell(row, undefined, "fail");
    assert.ok(actions.length > 5, `${row.name} records its actions`);
    for (const [i, action] of actions.entries()) {
      const fail = await runCell(row, i, "fail");
      const kill = await runCell(row, i, "kill");
      const show = (r: { problems: string[] }): string => (r.problems.length === 0 ? "yes" : `NO: ${r.problems.join("; ")}`);
      cells.push({ row: row.name, index: i + 1, action, fail: show(fail), kill: show(kill) });
    }
  }
  const w1 = Math.max(...cells.map((c) => c.row.length));
  const w2 = Math.max(...cells.map((c) => `${c.index} ${c.action}`.length));
  const out = [`${"rpc".padEnd(w1)}  ${"host action k".padEnd(w2)}  k fails, retried  plugin killed after k, retried`];
  for (const c of cells) out.push(`${c.row.padEnd(w1)}  ${`${c.index} ${c.action}`.padEnd(w2)}  ${c.fail.padEnd(16)}  ${c.kill}`);
  console.log(`\nnode fault matrix (converged after the retry?)\n${out.join("\n")}\n`);
  assert.deepEqual(
    cells.flatMap((c) => [c.fail, c.kill].filter((x) => x !== "yes").map((x) => `${c.row} / ${c.action}: ${x}`)),
    [],
  );
});

test("a portal whose node record cannot be written fails the stage, and the retry logs in on every portal", async () => {
  const host = await newHost();
  try {
    let failOnce = true;
    host.faults = {
      before: (a) => {
        const hit = failOnce && a.kind === "exec" && a.file === "iscsiadm" && a.args.includes("update") && a.args.includes(PORTALS[1] ?? "");
        if (hit) failOnce = false;
        return hit;
      },
    };
    const p = plugin(host, undefined, () => undefined);
    // the healer cannot finish that portal later (it has no CHAP secret): the stage must not report success
    await assert.rejects(stage(p, host), (e: Error) => e.name === "NodeRecordError" && e.message.includes(PORTALS[1] ?? ""));
    await stage(p, host);
    assert.deepEqual(await stagedProblems(host, p, new Faults(undefined, "fail")), []);
  } finally {
    await host.cleanup();
  }
});
