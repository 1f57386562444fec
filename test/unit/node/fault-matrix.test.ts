// The node plugin's fault matrix (issue 9), on the fake host: NodeStageVolume
// and NodeUnstageVolume with each host action in turn (a command, a sysfs
// write, a node record write) either failing, or followed by the plugin being
// killed; then the RPC is retried as kubelet retries it (on the same plugin,
// or on a restarted one); mkfs is also killed midway, leaving a half-made
// filesystem. A stage must end mounted, with one session per portal and one
// map, formatted only by its own format intent and never over a mounted
// filesystem; an unstage (also after a stage that never finished) must leave
// nothing at all. A stage that succeeds on fewer portals is not
// retried by kubelet; the plugin's periodic healer runs before the check.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { Metadata } from "@grpc/grpc-js";
import { FakeHost, type HostAction } from "../../doubles/fake-host.js";
import type { FsType } from "../../../src/node/filesystem.js";
import { makeNodeDeps, type NodeDeps } from "../../../src/node/node-deps.js";
import { nodeServer } from "../../../src/node/node-server.js";
import { RecordStore, type NodeRecord } from "../../../src/node/node-record.js";
import { Healer } from "../../../src/node/healer.js";
import type { RpcContext } from "../../../src/rpc/rpc.js";
import type { Exec } from "../../../src/util/exec.js";
import { nullLogger } from "../../../src/util/log.js";
import { iqnFor, wwidFor } from "../../../src/identity/names.js";
import { gbidFor } from "../../doubles/names.js";
import { toVolumeContext } from "../../../src/csi/volume-context.js";

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

/** fail: the action fails; kill: the plugin dies right after it; midway: the plugin dies while it runs (mkfs). */
type Mode = "fail" | "kill" | "midway";

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
    private readonly mode: Mode,
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
  /** the action that just started is where the plugin dies midway */
  midway(): (() => Promise<never>) | undefined {
    if (this.index - 1 !== this.at || this.mode !== "midway") return undefined;
    return () => {
      this.killed = true;
      return this.hang();
    };
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
    return this.around(`record ${record.phase}${record.formatIntent ? " +format intent" : ""}`, () => super.put(record));
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
  return { deps, srv: nodeServer(deps, { nodeName: "worker1", maxVolumesPerNode: 64, topology: () => Promise.resolve({}) }) };
}

async function newHost(): Promise<FakeHost> {
  const host = await FakeHost.create();
  host.addTarget({ iqn: IQN, portals: PORTALS, wwid: WWID, sizeBytes: 256 * MiB, chap: { username: GBID, password: PASSWORD } });
  return host;
}

const stagingPath = (host: FakeHost): string => host.kubelet("plugins/kubernetes.io/csi/block.csi.gluster.org/fm/globalmount");
const stageAs =
  (fsType: FsType) =>
  (p: Plugin, host: FakeHost): Promise<unknown> =>
    p.srv.NodeStageVolume!(
      {
        volume_id: VOLUME_ID,
        publish_context: {},
        staging_target_path: stagingPath(host),
        volume_capability: {
          mount: { fs_type: fsType, mount_flags: [], volume_mount_group: "" },
          access_mode: { mode: "SINGLE_NODE_WRITER" },
          access_type: "mount",
        },
        secrets: { username: GBID, password: PASSWORD },
        volume_context: toVolumeContext({ iqn: IQN, portals: PORTALS, lun: 0, hostingVolume: VOL, gbid: GBID, ha: 3, wwid: WWID, fsType, auth: true }),
      },
      ctx,
    );
const stage = stageAs("xfs");
const unstage = (p: Plugin, host: FakeHost): Promise<unknown> =>
  p.srv.NodeUnstageVolume!({ volume_id: VOLUME_ID, staging_target_path: stagingPath(host) }, ctx);

/**
 * A second mkfs is our own format finished again: allowed only when the
 * first attempt was cut short between recording its format intent and
 * clearing it (a mkfs cut short, or its success not recorded).
 */
function formatsAllowed(faults: Faults, at: number | undefined): number {
  const from = faults.actions.findIndex((a) => a.endsWith("+format intent"));
  const to = faults.actions.findIndex((a, i) => i > from && a.startsWith("record "));
  return at !== undefined && from >= 0 && at >= from && (to < 0 || at <= to) ? 2 : 1;
}

/** What is wrong with a staged volume ([] when it is staged as it must be). */
async function stagedProblems(host: FakeHost, p: Plugin, faults: Faults, fsType: FsType = "xfs", formatsAllowedHere = 1): Promise<string[]> {
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
  if (mounts.length !== 1 || mounts[0]?.devNo !== map?.devNo || mounts[0]?.fstype !== fsType)
    out.push(`staging mounts: ${JSON.stringify(mounts.map((m) => [m.source, m.fstype, m.devNo]))}`);
  if (host.mounts.length !== mounts.length) out.push("other mounts");
  const onLun = host.fsByWwid.get(WWID);
  if (onLun?.type !== fsType || !onLun.complete) out.push(`no whole ${fsType} on the LUN: ${JSON.stringify(onLun)}`);
  if (host.formatsOverMounted > 0) out.push(`formatted over a mounted filesystem ${host.formatsOverMounted} times`);
  // every mkfs call ran, but one that was made to fail
  const formats = host.calls.filter((c) => c.file.startsWith("mkfs")).length - (faults.injected?.startsWith("mkfs") ? 1 : 0);
  if (formats > formatsAllowedHere) out.push(`formatted ${formats} times`);
  // every format gave the filesystem one UUID: the one of the format intent
  const uuids = new Set(
    host.calls.filter((c) => c.file.startsWith("mkfs")).map((c) => c.args[c.args.indexOf(c.file === "mkfs.xfs" ? "-m" : "-U") + 1]?.replace(/^uuid=/, "")),
  );
  if (uuids.size !== 1 || !uuids.has(onLun?.uuid)) out.push(`mkfs UUIDs ${[...uuids].join(", ")}, on the LUN ${onLun?.uuid ?? "none"}`);
  const rec = await p.deps.records.get(VOLUME_ID);
  if (rec?.phase !== "staged" || rec.device !== map?.name) out.push(`record ${rec?.phase ?? "missing"} ${rec?.device ?? ""}`);
  if (rec?.formatIntent) out.push("format intent left in the record");
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
  problems(host: FakeHost, p: Plugin, faults: Faults, at: number | undefined): Promise<string[]>;
}

const stagedAs =
  (fsType: FsType) =>
  (host: FakeHost, p: Plugin, faults: Faults, at: number | undefined): Promise<string[]> =>
    stagedProblems(host, p, faults, fsType, formatsAllowed(faults, at));

const rows: Row[] = [
  { name: "NodeStageVolume", setup: () => Promise.resolve(), first: stage, retry: stage, problems: stagedAs("xfs") },
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
  midway: string;
}

const errText = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

async function runCell(row: Row, at: number | undefined, mode: Mode, prepare?: (host: FakeHost) => void): Promise<{ actions: string[]; problems: string[] }> {
  const host = await newHost();
  try {
    // the host counts (and fails) the actions of the first attempt only
    let counting: Faults | undefined;
    host.faults = { before: (a) => counting?.before(label(a)) ?? false, after: () => counting?.after(), midway: () => counting?.midway() };
    prepare?.(host);
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
    if (mode !== "fail") p = plugin(host, undefined, () => undefined);
    const retry = await row.retry(p, host).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (retry !== undefined) return { actions: f.actions, problems: [`retry failed: ${errText(retry)}`] };
    // a stage that succeeded on fewer portals is not retried by kubelet: the plugin's periodic healer completes it
    await new Healer(p.deps).runOnce(nullLogger);
    return { actions: f.actions, problems: await row.problems(host, p, f, at) };
  } finally {
    await host.cleanup();
  }
}

const show = (r: { problems: string[] }): string => (r.problems.length === 0 ? "yes" : `NO: ${r.problems.join("; ")}`);

test(
  "node fault matrix: stage and unstage converge after any host action fails, or the plugin dies after it (or during mkfs)",
  { timeout: 10 * 60_000 },
  async () => {
    const cells: Cell[] = [];
    for (const row of rows) {
      const { actions } = await runCell(row, undefined, "fail");
      assert.ok(actions.length > 5, `${row.name} records its actions`);
      for (const [i, action] of actions.entries()) {
        const fail = await runCell(row, i, "fail");
        const kill = await runCell(row, i, "kill");
        const midway = action.startsWith("mkfs") ? show(await runCell(row, i, "midway")) : "-";
        cells.push({ row: row.name, index: i + 1, action, fail: show(fail), kill: show(kill), midway });
      }
    }
    assert.ok(
      cells.some((c) => c.midway !== "-"),
      "mkfs is one of the stage's actions",
    );
    const w1 = Math.max(...cells.map((c) => c.row.length));
    const w2 = Math.max(...cells.map((c) => `${c.index} ${c.action}`.length));
    const out = [`${"rpc".padEnd(w1)}  ${"host action k".padEnd(w2)}  k fails, retried  plugin killed after k, retried  killed during k`];
    for (const c of cells) out.push(`${c.row.padEnd(w1)}  ${`${c.index} ${c.action}`.padEnd(w2)}  ${c.fail.padEnd(16)}  ${c.kill.padEnd(30)}  ${c.midway}`);
    console.log(`\nnode fault matrix (converged after the retry?)\n${out.join("\n")}\n`);
    assert.deepEqual(
      cells.flatMap((c) => [c.fail, c.kill, c.midway].filter((x) => x !== "yes" && x !== "-").map((x) => `${c.row} / ${c.action}: ${x}`)),
      [],
    );
  },
);

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

/** A stage whose mkfs is killed midway (the plugin with it); returns once the plugin stopped. */
async function stageKilledDuringMkfs(host: FakeHost, fsType: FsType): Promise<void> {
  const f = new Faults(undefined, "midway");
  const p = plugin(host, f, () => undefined);
  host.faults = {
    midway: (a) => {
      if (a.kind !== "exec" || !a.file.startsWith("mkfs")) return undefined;
      return () => {
        f.killed = true;
        return f.hang();
      };
    },
  };
  const first = await Promise.race([
    stageAs(fsType)(p, host).then(
      () => "returned",
      (e: unknown) => errText(e),
    ),
    f.stopped.then(() => "killed"),
  ]);
  host.faults = undefined;
  assert.equal(first, "killed", "the plugin died in mkfs");
}

const mkfsCalls = (host: FakeHost) => host.calls.filter((c) => c.file.startsWith("mkfs"));
const intentOf = async (host: FakeHost) => (await new RecordStore(join(host.paths.stateDir, "volumes")).get(VOLUME_ID))?.formatIntent;
const headWritten = async (host: FakeHost): Promise<boolean> => (await readFile(host.devPath(host.mapOf(WWID) ?? "none"))).some((b) => b !== 0);

for (const fsType of ["xfs", "ext4"] as const) {
  test(`mkfs.${fsType} killed midway, twice: the retries format again with the format intent's UUID, and mount only the finished filesystem`, async () => {
    const host = await newHost();
    try {
      await stageKilledDuringMkfs(host, fsType);
      const intent = await intentOf(host);
      assert.ok(intent, "the format intent is in the record while mkfs runs");
      // what the real tools leave when killed: mkfs.xfs its superblock (in progress) with our UUID, mke2fs no signature but written blocks
      const half = host.fsByWwid.get(WWID);
      assert.deepEqual(half, fsType === "xfs" ? { type: "xfs", uuid: intent.uuid, complete: false } : { type: "", uuid: "", complete: false });
      assert.ok(await headWritten(host), "the head of the device is no longer zero");

      await stageKilledDuringMkfs(host, fsType);
      assert.deepEqual(await intentOf(host), intent, "the retry keeps the intent and its UUID");
      const again = mkfsCalls(host)[1];
      assert.ok(again?.args.includes(fsType === "xfs" ? "-f" : "-F"), `the retry's mkfs is forced: ${again?.args.join(" ")}`);

      const p = plugin(host, undefined, () => undefined);
      await stageAs(fsType)(p, host);
      assert.deepEqual(await stagedProblems(host, p, new Faults(undefined, "fail"), fsType, 3), []);
      assert.equal(host.fsByWwid.get(WWID)?.uuid, intent.uuid);
      assert.equal(mkfsCalls(host).length, 3);
      // staged: a later stage (after unstage) finds a finished filesystem without an intent and never formats it
      await unstage(p, host);
      await stageAs(fsType)(p, host);
      assert.equal(mkfsCalls(host).length, 3, "no format once the filesystem was made");
      assert.equal(host.formatsOverMounted, 0);
      await unstage(p, host);
      assert.deepEqual(await leftovers(host), []);
    } finally {
      await host.cleanup();
    }
  });
}

test("mkfs killed midway, then unstaged: the record and its format intent go with the rest", async () => {
  const host = await newHost();
  try {
    await stageKilledDuringMkfs(host, "ext4");
    const p = plugin(host, undefined, () => undefined);
    await unstage(p, host);
    assert.deepEqual(await leftovers(host), []);
    assert.equal(await intentOf(host), undefined);
  } finally {
    await host.cleanup();
  }
});

/** a filesystem UUID this node did not choose */
const FOREIGN = "0b7e6a3c-59a4-4d1e-9a0f-3f5c2e1d4b6a";

test("with a format intent recorded, a device that is not our unfinished format is never formatted", async () => {
  const cases: { what: string; fs: FsType; put(host: FakeHost): void; expect: string }[] = [
    // someone else's half-made xfs: not ours to finish; the kernel refuses to mount it
    {
      what: "an unfinished xfs with another UUID",
      fs: "xfs",
      put: (h) => h.fsByWwid.set(WWID, { type: "xfs", uuid: FOREIGN, complete: false }),
      expect: "ExecError",
    },
    {
      what: "an ext4 with another UUID, xfs asked",
      fs: "xfs",
      put: (h) => h.fsByWwid.set(WWID, { type: "ext4", uuid: FOREIGN, complete: true }),
      expect: "FsTypeMismatchError",
    },
    { what: "a partition table", fs: "xfs", put: (h) => h.blkid.set(h.devPath(h.mapOf(WWID) ?? ""), { PTTYPE: "gpt" }), expect: "NotBlankError" },
    {
      what: "an ext4 signature without a UUID, ext4 asked",
      fs: "ext4",
      put: (h) => h.fsByWwid.set(WWID, { type: "ext4", uuid: "", complete: false }),
      expect: "ExecError",
    },
  ];
  for (const c of cases) {
    const host = await newHost();
    try {
      await stageKilledDuringMkfs(host, c.fs);
      const intent = await intentOf(host);
      assert.ok(intent);
      c.put(host);
      const before = mkfsCalls(host).length;
      const p = plugin(host, undefined, () => undefined);
      const err = await stageAs(c.fs)(p, host).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.equal((err as Error | undefined)?.name, c.expect, `${c.what}: ${errText(err)}`);
      assert.equal(mkfsCalls(host).length, before, `${c.what}: not formatted`);
      assert.ok(!host.mounts.some((m) => m.target === stagingPath(host)), `${c.what}: nothing mounted`);
      if (c.what !== "a partition table") assert.notEqual(host.fsByWwid.get(WWID)?.uuid, intent.uuid, `${c.what}: left as it was`);
    } finally {
      await host.cleanup();
    }
  }
});

test("with a format intent recorded, a whole filesystem of the asked type with another UUID is used as it is, and the intent dropped", async () => {
  const host = await newHost();
  try {
    await stageKilledDuringMkfs(host, "xfs");
    // made by someone else meanwhile (an admin's mkfs); it may hold data now
    host.fsByWwid.set(WWID, { type: "xfs", uuid: FOREIGN, complete: true });
    const p = plugin(host, undefined, () => undefined);
    await stage(p, host);
    assert.equal(mkfsCalls(host).length, 1, "only the killed mkfs ran");
    assert.equal(host.fsByWwid.get(WWID)?.uuid, FOREIGN);
    assert.ok(host.mounts.some((m) => m.target === stagingPath(host) && m.fstype === "xfs"));
    assert.equal(await intentOf(host), undefined);
  } finally {
    await host.cleanup();
  }
});
