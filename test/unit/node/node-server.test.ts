import { test, describe, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { readFile, readdir, writeFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { FakeHost } from "../../doubles/fake-host.js";
import { makeNodeDeps, type NodeDeps } from "../../../src/node/node-deps.js";
import { nodeServer } from "../../../src/node/node-server.js";
import { mapNodeError } from "../../../src/node/errors.js";
import { toStatusError, type RpcContext } from "../../../src/rpc/rpc.js";
import { nullLogger } from "../../../src/util/log.js";
import { Metadata } from "@grpc/grpc-js";
import { iqnFor, wwidFor } from "../../../src/identity/names.js";
import { gbidFor } from "../../doubles/names.js";
import { toVolumeContext } from "../../../src/csi/volume-context.js";
import { exec, type Exec } from "../../../src/util/exec.js";
import { setTimeout as delay } from "node:timers/promises";
import { GarbageCollector } from "../../../src/node/gc.js";
import { Healer } from "../../../src/node/healer.js";
import { recordFileName } from "../../../src/node/node-record.js";
import type { LoginProbe } from "../../../src/node/login-probe.js";
import { AuthFailedError } from "../../../src/node/errors.js";
import { unavailable } from "../../../src/rpc/errors.js";

const VOL = "block-test";
const BLOCK = "pvc-1234";
const GBID = gbidFor(VOL, BLOCK);
const IQN = iqnFor(GBID);
const WWID = wwidFor(GBID);
const VOLUME_ID = `v1/${VOL}/${BLOCK}`;
const PORTALS = ["10.0.0.1:3260", "10.0.0.2:3260", "10.0.0.3:3260"];
const PASSWORD = "s3cret-chap-password-5a1f";
const SECRETS = { username: GBID, password: PASSWORD };
const MiB = 1024 * 1024;

const ctx: RpcContext = { requestId: "t", method: "test", log: nullLogger, peer: "unix:test", outgoing: new Metadata(), signal: new AbortController().signal };

const volumeContext = (over: Partial<{ wwid: string; gbid: string; iqn: string; portals: string[] }> = {}): Record<string, string> =>
  toVolumeContext({
    iqn: over.iqn ?? IQN,
    portals: over.portals ?? PORTALS,
    lun: 0,
    hostingVolume: VOL,
    gbid: over.gbid ?? GBID,
    ha: 3,
    wwid: over.wwid ?? WWID,
    fsType: "xfs",
    auth: true,
  });

type Mode = "SINGLE_NODE_WRITER" | "MULTI_NODE_MULTI_WRITER" | "MULTI_NODE_READER_ONLY";
const mountCap = (fs = "xfs", mode: Mode = "SINGLE_NODE_WRITER") => ({
  mount: { fs_type: fs, mount_flags: [], volume_mount_group: "" },
  access_mode: { mode },
  access_type: "mount" as const,
});
const blockCap = (mode: Mode = "SINGLE_NODE_WRITER") => ({ block: {}, access_mode: { mode }, access_type: "block" as const });

type Server = ReturnType<typeof nodeServer>;

async function codeOf(p: Promise<unknown>): Promise<status> {
  try {
    await p;
  } catch (err) {
    return toStatusError(err, mapNodeError).code;
  }
  return status.OK;
}

let host: FakeHost;
let deps: NodeDeps;
let srv: Server;

function build(exec: Exec = host.exec, lockWaitMs?: number, loginProbe: LoginProbe = host.loginProbe, budgetMs = 5_000): void {
  deps = makeNodeDeps(exec, host.paths, nullLogger, {
    sysfsWriter: host.sysfsWriter,
    loginProbe,
    allPathsWaitMs: 300,
    pollMs: 10,
    budgetMs,
    ...(lockWaitMs ? { lockWaitMs } : {}),
  });
  srv = nodeServer(deps, { nodeName: "worker1", maxVolumesPerNode: 64, topology: () => Promise.resolve({}) });
}

beforeEach(async () => {
  host = await FakeHost.create();
  host.addTarget({ iqn: IQN, portals: PORTALS, wwid: WWID, sizeBytes: 256 * MiB, chap: { username: GBID, password: PASSWORD } });
  build();
});
afterEach(async () => {
  await host.cleanup();
});

const stagingPath = (): string => host.kubelet("plugins/kubernetes.io/csi/block.csi.gluster.org/abc/globalmount");
const targetPath = (): string => host.kubelet("pods/p1/volumes/kubernetes.io~csi/pv1/mount");

const stageReq = (over: Record<string, unknown> = {}) => ({
  volume_id: VOLUME_ID,
  publish_context: {},
  staging_target_path: stagingPath(),
  volume_capability: mountCap(),
  secrets: SECRETS,
  volume_context: volumeContext(),
  ...over,
});

const stage = (over: Record<string, unknown> = {}) => srv.NodeStageVolume!(stageReq(over), ctx);

/** NodePublishVolume of the staged volume at targetPath(), read-write xfs unless `over` says otherwise */
const publishReq = (over: Record<string, unknown> = {}) => ({
  volume_id: VOLUME_ID,
  staging_target_path: stagingPath(),
  target_path: targetPath(),
  volume_capability: mountCap(),
  readonly: false,
  publish_context: {},
  secrets: {},
  volume_context: {},
  ...over,
});
const publish = (over: Record<string, unknown> = {}) => srv.NodePublishVolume!(publishReq(over), ctx);
const unstage = (path = stagingPath()) => srv.NodeUnstageVolume!({ volume_id: VOLUME_ID, staging_target_path: path }, ctx);

describe("validation: bad input is INVALID_ARGUMENT and nothing runs", () => {
  const cases: [string, () => Promise<unknown>][] = [
    ["stage: no volume_id", () => stage({ volume_id: "" })],
    ["stage: no staging path", () => stage({ staging_target_path: "" })],
    ["stage: relative staging path", () => stage({ staging_target_path: "globalmount" })],
    ["stage: no capability", () => stage({ volume_capability: null })],
    ["stage: multi-node writer", () => stage({ volume_capability: mountCap("xfs", "MULTI_NODE_MULTI_WRITER") })],
    ["stage: unsupported fs", () => stage({ volume_capability: mountCap("btrfs") })],
    [
      "stage: discard mount flag",
      () => stage({ volume_capability: { ...mountCap(), mount: { fs_type: "xfs", mount_flags: ["discard"], volume_mount_group: "" } } }),
    ],
    ["stage: no volume_context", () => stage({ volume_context: {} })],
    ["stage: WWID not of the GBID", () => stage({ volume_context: volumeContext({ wwid: wwidFor(gbidFor(VOL, "other")) }) })],
    ["stage: IQN not of the GBID", () => stage({ volume_context: volumeContext({ iqn: iqnFor(gbidFor(VOL, "other")) }) })],
    ["stage: bad portal", () => stage({ volume_context: volumeContext({ portals: ["host-a"] }) })],
    ["stage: CHAP without password", () => stage({ secrets: { username: GBID } })],
    ["unstage: no staging path", () => srv.NodeUnstageVolume!({ volume_id: VOLUME_ID, staging_target_path: "" }, ctx)],
    ["unstage: no volume_id", () => srv.NodeUnstageVolume!({ volume_id: "", staging_target_path: "/x" }, ctx)],
    // a required field is checked before the ID: INVALID_ARGUMENT even for an ID that names no volume
    ["stats: no path, foreign volume_id", () => srv.NodeGetVolumeStats!({ volume_id: "id", volume_path: "", staging_target_path: "" }, ctx)],
    ["stage: no staging path, foreign volume_id", () => stage({ volume_id: "pvc-123", staging_target_path: "" })],
    [
      "publish: no target path",
      () =>
        srv.NodePublishVolume!(
          {
            volume_id: VOLUME_ID,
            staging_target_path: "/s",
            target_path: "",
            volume_capability: mountCap(),
            readonly: false,
            publish_context: {},
            secrets: {},
            volume_context: {},
          },
          ctx,
        ),
    ],
    [
      "publish: no capability",
      () =>
        srv.NodePublishVolume!(
          {
            volume_id: VOLUME_ID,
            staging_target_path: "/s",
            target_path: "/t",
            volume_capability: null,
            readonly: false,
            publish_context: {},
            secrets: {},
            volume_context: {},
          },
          ctx,
        ),
    ],
    ["unpublish: relative target", () => srv.NodeUnpublishVolume!({ volume_id: VOLUME_ID, target_path: "t" }, ctx)],
    ["stats: no path", () => srv.NodeGetVolumeStats!({ volume_id: VOLUME_ID, volume_path: "", staging_target_path: "" }, ctx)],
    [
      "expand: no volume_id",
      () =>
        srv.NodeExpandVolume!({ volume_id: "", volume_path: "/v", staging_target_path: "", capacity_range: null, volume_capability: null, secrets: {} }, ctx),
    ],
  ];
  for (const [name, call] of cases) {
    test(name, async () => {
      assert.equal(await codeOf(call()), status.INVALID_ARGUMENT);
      assert.deepEqual(host.calls, [], "no program ran");
      assert.deepEqual(await host.listDir("var/lib/gluster-block-csi/volumes"), [], "no record written");
    });
  }
  test("the error names the field", async () => {
    await assert.rejects(stage({ secrets: { username: GBID } }), /secrets\.password/);
    await assert.rejects(stage({ staging_target_path: "" }), /staging_target_path/);
  });
});

test("NodeGetInfo carries the initiator IQN; capabilities are the four", async () => {
  const info = await srv.NodeGetInfo!({}, ctx);
  assert.equal(info.node_id, "worker1/iqn.1993-08.org.debian:01:worker1");
  assert.equal(info.max_volumes_per_node, 64);
  const caps = await srv.NodeGetCapabilities!({}, ctx);
  assert.deepEqual(
    caps.capabilities?.map((c) => c.rpc?.type),
    ["STAGE_UNSTAGE_VOLUME", "EXPAND_VOLUME", "GET_VOLUME_STATS", "VOLUME_CONDITION"],
  );
});

test("NodeGetInfo reports the topology its source gives at that call, none when empty; a source that fails fails the call", async () => {
  const key = "topology.block.csi.gluster.org/zone";
  let zone: string | undefined = "zone-b";
  const at = nodeServer(deps, {
    nodeName: "worker1",
    maxVolumesPerNode: 64,
    topology: (): Promise<Record<string, string>> =>
      zone === "fail" ? Promise.reject(unavailable("cannot read this node's zone")) : Promise.resolve<Record<string, string>>(zone ? { [key]: zone } : {}),
  });
  assert.deepEqual((await at.NodeGetInfo!({}, ctx)).accessible_topology, { segments: { [key]: "zone-b" } });
  zone = undefined;
  assert.equal((await at.NodeGetInfo!({}, ctx)).accessible_topology, null);
  zone = "fail";
  assert.equal(await codeOf(at.NodeGetInfo!({}, ctx)), status.UNAVAILABLE);
});

test("stage xfs with CHAP: 3 sessions, one map, formatted without discard, mounted; node records manual", async () => {
  await stage();
  assert.equal(host.sessionCount(IQN), 3);
  assert.equal(host.mapCount(), 1);
  const dm = host.mapOf(WWID);
  assert.ok(dm);
  const mkfs = host.calls.find((c) => c.file === "mkfs.xfs");
  assert.ok(mkfs, "formatted");
  assert.ok(mkfs.args.includes("-K"), "mkfs.xfs -K (no discard)");
  assert.ok(host.mounts.some((m) => m.target === stagingPath() && m.devNo === `253:${dm.slice(3)}` && m.fstype === "xfs"));
  for (const p of PORTALS) {
    const r = host.nodeRecords.get(IQN)?.get(p);
    assert.equal(r?.get("node.startup"), "manual");
    assert.equal(r?.get("node.session.scan"), "manual");
    assert.equal(r?.get("node.session.auth.authmethod"), "CHAP");
  }
  // only our LUN was scanned, through sysfs; no discovery ran
  assert.ok(!host.calls.some((c) => c.file === "iscsiadm" && c.args.includes("discovery")));
});

test("multipathd missed the uevents: it is handed each path once udev has processed it, never before", async () => {
  host.autoMap = false;
  host.udevDelayMs = 150;
  await stage();
  assert.deepEqual(host.uninitializedAddPaths, [], "no path handed to multipathd before udev had it");
  const dm = host.mapOf(WWID);
  assert.ok(dm, "the map was made by hand");
  assert.equal(host.slavesOf(dm).length, 3, "with every path");
});

test("the CHAP password never appears in a logged argv, and never in the record", async () => {
  await stage();
  const passCalls = host.calls.filter((c) => c.args.includes(PASSWORD));
  assert.ok(passCalls.length > 0, "the password was passed to iscsiadm");
  for (const c of passCalls) assert.ok(c.secrets.includes(PASSWORD), "passed as a secret");
  for (const c of host.calls) assert.ok(!c.logged.includes(PASSWORD), `logged argv shows the password: ${c.logged}`);
  const rec = await readFile(join(host.paths.stateDir, "volumes", recordFileName(VOLUME_ID)), "utf8");
  assert.ok(!rec.includes(PASSWORD));
  assert.equal((JSON.parse(rec) as { phase: string }).phase, "staged");
});

/** Each path of ours: [max_write_same_blocks, zeroing_mode]. */
async function writeSameOfPaths(): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for (const sess of await deps.sysfs.sessionsOf(IQN)) {
    for (const d of sess.disks) {
      const dir = join(deps.sysfs.root, "block", d.name, "device", "scsi_disk", d.hctl);
      out.push([(await readFile(join(dir, "max_write_same_blocks"), "utf8")).trim(), (await readFile(join(dir, "zeroing_mode"), "utf8")).trim()]);
    }
  }
  return out;
}

test("every path gets WRITE SAME disabled before the device is used (tcmu-runner 1.5.4 dies of WRITE SAME with UNMAP)", async () => {
  await stage({ volume_capability: mountCap("ext4") });
  assert.deepEqual(
    await writeSameOfPaths(),
    PORTALS.map(() => ["0", "writesame"]),
  );
  const mkfsAt = host.calls.findIndex((c) => c.file === "mkfs.ext4");
  assert.ok(mkfsAt >= 0);
});

test("a path the healer brings back is guarded too", async () => {
  const down = new Set([PORTALS[2] ?? ""]);
  host.addTarget({ iqn: IQN, portals: PORTALS, wwid: WWID, sizeBytes: 256 * MiB, chap: { username: GBID, password: PASSWORD }, down });
  await stage();
  assert.equal((await writeSameOfPaths()).length, 2);
  down.clear();
  await new Healer(deps).runOnce(nullLogger);
  assert.deepEqual(
    await writeSameOfPaths(),
    PORTALS.map(() => ["0", "writesame"]),
  );
});

test("stage twice = one login per portal, one format", async () => {
  await stage();
  await stage();
  assert.equal(host.loginCount(), 3);
  assert.equal(host.calls.filter((c) => c.file === "mkfs.xfs").length, 1);
  assert.equal(host.sessionCount(), 3);
});

test("ext4 is formatted with nodiscard; an existing filesystem is never reformatted", async () => {
  await stage({ volume_capability: mountCap("ext4") });
  const mkfs = host.calls.find((c) => c.file === "mkfs.ext4");
  assert.ok(mkfs?.args.join(" ").includes("-E nodiscard"));
  await unstage();
  host.calls.length = 0;
  await stage({ volume_capability: mountCap("ext4") });
  assert.ok(!host.calls.some((c) => c.file.startsWith("mkfs")), "stage again: no format");
  assert.ok(host.calls.some((c) => c.file === "e2fsck"));
});

test("a device of another filesystem type is refused, not formatted", async () => {
  const realExec = host.exec;
  build(async (file, args, opts) => {
    if (file === "blkid") host.blkid.set(args[args.length - 1] ?? "", { TYPE: "ext4" });
    return realExec(file, args, opts);
  });
  const err = await stage({ volume_capability: mountCap("xfs") }).catch((e: unknown) => e);
  assert.equal(toStatusError(err, mapNodeError).code, status.FAILED_PRECONDITION);
  assert.match(String((err as Error).message), /ext4/);
  assert.ok(!host.calls.some((c) => c.file.startsWith("mkfs") || c.file === "mount"));
});

test("a blank-looking device whose head is not zero is not formatted", async () => {
  const realExec = host.exec;
  build(async (file, args, opts) => {
    if (file === "blkid") {
      // blkid finds nothing, but the device has data
      const dev = args[args.length - 1] ?? "";
      await writeFile(dev, Buffer.from("some data that is not a signature"), { flag: "r+" });
    }
    return realExec(file, args, opts);
  });
  assert.equal(await codeOf(stage()), status.FAILED_PRECONDITION);
  assert.ok(!host.calls.some((c) => c.file.startsWith("mkfs")));
  assert.ok(!host.mounts.some((m) => m.target === stagingPath()));
});

test("WWID mismatch: refused, nothing mounted, nothing left logged in, no record", async () => {
  const other = wwidFor(gbidFor(VOL, "someone-else"));
  host.targets.set(IQN, { iqn: IQN, portals: PORTALS, wwid: other, sizeBytes: 256 * MiB, chap: { username: GBID, password: PASSWORD } });
  host.allowedWwids.add(other); // a greedy multipathd maps it anyway
  const err = await stage().catch((e: unknown) => e);
  assert.equal(toStatusError(err, mapNodeError).code, status.FAILED_PRECONDITION);
  assert.match(String((err as Error).message), /WWID/);
  assert.equal(host.mounts.length, 0);
  assert.ok(!host.calls.some((c) => c.file.startsWith("mkfs") || c.file === "mount"));
  assert.equal(host.sessionCount(), 0);
  assert.equal(host.mapCount(), 0);
  assert.equal(host.diskCount(), 0);
  assert.equal(host.nodeRecords.size, 0);
  assert.deepEqual(await host.listDir("var/lib/gluster-block-csi/volumes"), []);
});

test("the record is written before the host is touched, and after each phase", async () => {
  const phases: string[] = [];
  const file = join(host.paths.stateDir, "volumes", recordFileName(VOLUME_ID));
  const realExec = host.exec;
  build(async (f, args, opts) => {
    if (f === "multipathd" || f === "flock" || f === "iscsiadm" || f === "mount") {
      const text = await readFile(file, "utf8").catch(() => "");
      phases.push(text ? (JSON.parse(text) as { phase: string }).phase : "none");
    }
    return realExec(f, args, opts);
  });
  await stage();
  assert.equal(phases[0], "attaching", "a record exists before the first host command");
  assert.ok(!phases.includes("none"));
  assert.ok(phases.includes("attached"), "the attached phase is recorded before mounting");
  assert.equal(phases[phases.length - 1], "attached");
  assert.equal((JSON.parse(await readFile(file, "utf8")) as { phase: string }).phase, "staged");
  assert.deepEqual(
    (await readdir(join(host.paths.stateDir, "volumes"))).filter((n) => n.endsWith(".tmp")),
    [],
    "no temp file left",
  );
});

test("unstage undoes everything: mount, map, paths, sessions, node records, wwid, record", async () => {
  await stage();
  await unstage();
  assert.equal(host.mounts.length, 0);
  assert.equal(host.mapCount(), 0);
  assert.equal(host.diskCount(), 0);
  assert.equal(host.sessionCount(), 0);
  assert.equal(host.nodeRecords.size, 0);
  assert.ok(!host.allowedWwids.has(WWID));
  assert.deepEqual(await host.listDir("var/lib/gluster-block-csi/volumes"), []);
  await unstage(); // twice is fine
});

test("unstage without a record (restart, record lost) still cleans up from what the host shows", async () => {
  await stage();
  await rm(join(host.paths.stateDir, "volumes", recordFileName(VOLUME_ID)));
  build(); // a restarted plugin
  await unstage();
  assert.equal(host.mounts.length, 0);
  assert.equal(host.mapCount(), 0);
  assert.equal(host.sessionCount(), 0);
  assert.equal(host.nodeRecords.size, 0);
});

test("unstage without a record and nothing mounted guesses no target from the volume ID: no session or map is touched", async () => {
  await stage();
  await rm(join(host.paths.stateDir, "volumes", recordFileName(VOLUME_ID)));
  // the staging mount gone too (a reboot): nothing on the host names the volume's target
  host.mounts.splice(0, host.mounts.length, ...host.mounts.filter((m) => m.target !== stagingPath()));
  build();
  const before = host.calls.length;
  await unstage();
  const after = host.calls.slice(before);
  assert.ok(
    !after.some((c) => c.file === "iscsiadm" && c.args.includes("--logout")),
    "no logout: a GBID is random per create, the name does not name the target",
  );
  assert.ok(!after.some((c) => c.file === "multipath" && c.args.includes("-f")), "no map flushed");
  assert.equal(host.sessionCount(IQN), 3, "the sessions are left (the collector's business)");
  assert.ok(host.mapOf(WWID));
});

test("unstage of a volume never staged is OK and runs no teardown", async () => {
  await unstage();
  assert.ok(!host.calls.some((c) => c.file === "iscsiadm" && c.args.includes("--logout")));
});

test("unstage after a crash mid-stage (record says attaching, no mount)", async () => {
  build();
  host.failing.add("mkfs.xfs");
  assert.notEqual(await codeOf(stage()), status.OK);
  host.failing.clear();
  assert.equal(host.sessionCount(), 3);
  build();
  await unstage();
  assert.equal(host.sessionCount(), 0);
  assert.equal(host.mapCount(), 0);
});

test("unstage refuses while the device is still published (never tears down under a mount)", async () => {
  await stage();
  await publish();
  assert.equal(await codeOf(unstage()), status.FAILED_PRECONDITION);
  assert.equal(host.sessionCount(), 3, "sessions kept");
});

test("publish and unpublish: filesystem bind mount, read-only when asked; idempotent", async () => {
  await stage();
  const req = {
    volume_id: VOLUME_ID,
    staging_target_path: stagingPath(),
    target_path: targetPath(),
    volume_capability: mountCap(),
    readonly: true,
    publish_context: {},
    secrets: {},
    volume_context: {},
  };
  await srv.NodePublishVolume!(req, ctx);
  await srv.NodePublishVolume!(req, ctx);
  const at = host.mounts.filter((m) => m.target === targetPath());
  assert.equal(at.length, 1);
  assert.ok(at[0]?.options.includes("ro"));
  await srv.NodeUnpublishVolume!({ volume_id: VOLUME_ID, target_path: targetPath() }, ctx);
  await srv.NodeUnpublishVolume!({ volume_id: VOLUME_ID, target_path: targetPath() }, ctx);
  assert.equal(host.mounts.filter((m) => m.target === targetPath()).length, 0);
  await unstage();
  assert.equal(host.sessionCount(), 0);
});

describe("published read-only by the controller (publish_context readOnly: its LUN is write protected for this node)", () => {
  const RO = { readOnly: "true" };
  const roPublishReq = (over: Record<string, unknown> = {}) => publishReq({ volume_capability: mountCap("ext4"), publish_context: RO, ...over });

  test("a read-write capability is staged read-only: no repair, mounted ro; the pod's bind is ro though it asked read-write", async () => {
    await stage({ volume_capability: mountCap("ext4") }); // a writer made the filesystem
    await unstage();
    host.calls.length = 0;
    await stage({ volume_capability: mountCap("ext4"), publish_context: RO });
    assert.ok(!host.calls.some((c) => c.file === "e2fsck" || c.file.startsWith("mkfs")), "nothing writes to a write-protected LUN");
    // LIO does not report the write protection (MODE SENSE WP=0): the host marks the map read-only itself, before the mount
    const setro = host.calls.findIndex((c) => c.file === "blockdev" && c.args[0] === "--setro" && (c.args[1] ?? "").endsWith(`/${host.mapOf(WWID)}`));
    const mounted = host.calls.findIndex((c) => c.file === "mount" && c.args.includes(stagingPath()));
    assert.ok(setro >= 0 && setro < mounted, `blockdev --setro on the map before the mount (${setro}, ${mounted})`);
    const staged = host.mounts.find((m) => m.target === stagingPath());
    assert.ok(staged?.options.includes("ro"), `staging mount options ${staged?.options.join(",")}`);
    await srv.NodePublishVolume!(roPublishReq(), ctx);
    assert.ok(host.mounts.find((m) => m.target === targetPath())?.options.includes("ro"));
  });

  test("MULTI_NODE_READER_ONLY is staged and published read-only", async () => {
    await stage({ volume_capability: mountCap("ext4") });
    await unstage();
    await stage({ volume_capability: mountCap("ext4", "MULTI_NODE_READER_ONLY"), publish_context: RO });
    assert.ok(host.mounts.find((m) => m.target === stagingPath())?.options.includes("ro"));
    await srv.NodePublishVolume!(roPublishReq({ volume_capability: mountCap("ext4", "MULTI_NODE_READER_ONLY") }), ctx);
    assert.ok(host.mounts.find((m) => m.target === targetPath())?.options.includes("ro"));
  });

  test("a blank volume published read-only is not formatted: FAILED_PRECONDITION", async () => {
    const code = await codeOf(stage({ volume_capability: mountCap("xfs"), publish_context: RO }));
    assert.equal(code, status.FAILED_PRECONDITION);
    assert.ok(!host.calls.some((c) => c.file.startsWith("mkfs")));
  });

  test("a Block volume published read-only is bound read-only", async () => {
    await stage({ volume_capability: blockCap(), publish_context: RO });
    assert.ok(
      host.calls.some((c) => c.file === "blockdev" && c.args[0] === "--setro"),
      "the map is read-only on the host",
    );
    const file = host.kubelet("plugins/kubernetes.io/csi/volumeDevices/publish/pv1/pod1");
    await srv.NodePublishVolume!(roPublishReq({ volume_capability: blockCap(), target_path: file }), ctx);
    assert.ok(host.mounts.find((m) => m.target === file)?.options.includes("ro"));
  });
});

test("block mode: no format; publish binds the dm device onto a file", async () => {
  await stage({ volume_capability: blockCap() });
  assert.ok(!host.calls.some((c) => c.file === "blockdev" && c.args[0] === "--setro"), "a writer's map stays writable");
  assert.ok(!host.calls.some((c) => c.file.startsWith("mkfs") || c.file === "blkid"));
  const tp = host.kubelet("plugins/kubernetes.io/csi/volumeDevices/publish/pv1/pod1");
  await publish({ target_path: tp, volume_capability: blockCap() });
  const m = host.mounts.find((x) => x.target === tp);
  assert.equal(m?.source, `udev[/${host.mapOf(WWID)}]`);
  const stats = await srv.NodeGetVolumeStats!({ volume_id: VOLUME_ID, volume_path: tp, staging_target_path: "" }, ctx);
  assert.equal(Number(stats.usage?.[0]?.total), 256 * MiB);
  assert.equal(stats.volume_condition?.abnormal, false);
  await srv.NodeUnpublishVolume!({ volume_id: VOLUME_ID, target_path: tp }, ctx);
  await unstage();
  assert.equal(host.mapCount(), 0);
});

test("publish of a volume not staged is FAILED_PRECONDITION", async () => {
  const req = {
    volume_id: VOLUME_ID,
    staging_target_path: stagingPath(),
    target_path: targetPath(),
    volume_capability: mountCap(),
    readonly: false,
    publish_context: {},
    secrets: {},
    volume_context: {},
  };
  assert.equal(await codeOf(srv.NodePublishVolume!(req as never, ctx)), status.FAILED_PRECONDITION);
});

test("staged as block, staged again as mount: ALREADY_EXISTS", async () => {
  await stage({ volume_capability: blockCap() });
  assert.equal(await codeOf(stage()), status.ALREADY_EXISTS);
});

test("a waiter on a busy volume gets ABORTED", async () => {
  build(host.exec, 50);
  const release = await deps.locks.acquire(VOLUME_ID);
  try {
    assert.equal(await codeOf(stage()), status.ABORTED);
    assert.equal(await codeOf(unstage()), status.ABORTED);
  } finally {
    release();
  }
  assert.equal(host.loginCount(), 0);
});

describe("cancellation: the caller's signal ends what the call runs", () => {
  /** The host's tools, except that `match` runs a real program that never finishes (with the call's options, so its signal too). */
  const hanging =
    (match: (file: string, args: readonly string[]) => boolean, pids: number[]): Exec =>
    async (file, args, opts) => {
      if (!match(file, args)) return host.exec(file, args, opts);
      const pidFile = join(host.root, `hang-${pids.length}.pid`);
      const run = exec("sh", ["-c", `echo $$ > ${pidFile}; exec sleep 30`], { ...opts, timeoutMs: 60_000 });
      for (let i = 0; i < 300; i++) {
        const text = await readFile(pidFile, "utf8").catch(() => "");
        if (/^\d+\n/.test(text)) {
          pids.push(Number(text.trim()));
          break;
        }
        await delay(10);
      }
      return run;
    };
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const cancelling = (): { ctx: RpcContext; abort(): void } => {
    const ac = new AbortController();
    return { ctx: { ...ctx, signal: ac.signal }, abort: () => ac.abort(new Error("cancelled by the caller")) };
  };
  const until = async (cond: () => boolean): Promise<void> => {
    for (let i = 0; i < 500 && !cond(); i++) await delay(10);
    assert.ok(cond());
  };

  test("a cancelled NodeStageVolume ends its iscsiadm logins and fails CANCELLED", async () => {
    const pids: number[] = [];
    build(hanging((f, a) => f === "iscsiadm" && a.includes("--login"), pids));
    const c = cancelling();
    const started = Date.now();
    const pending = srv.NodeStageVolume!(stageReq(), c.ctx).catch((e: unknown) => e);
    await until(() => pids.length === PORTALS.length);
    c.abort();
    const err = await pending;
    assert.equal(toStatusError(err, mapNodeError).code, status.CANCELLED, String(err));
    assert.ok(Date.now() - started < 4_000, "neither the logins' 30 s nor the call's 5 s budget");
    for (const pid of pids) assert.equal(alive(pid), false, `login ${pid} is gone`);
    assert.equal(
      host.calls.some((c) => c.file.startsWith("mkfs")),
      false,
      "nothing after the logins ran",
    );
  });

  test("a cancelled NodeStageVolume answers CANCELLED at once and its mkfs goes on; NodeUnstageVolume ends the mkfs and leaves nothing", async () => {
    const pids: number[] = [];
    build(hanging((f) => f.startsWith("mkfs."), pids));
    const c = cancelling();
    const started = Date.now();
    const pending = srv.NodeStageVolume!(stageReq(), c.ctx).catch((e: unknown) => e);
    await until(() => pids.length === 1);
    c.abort();
    assert.equal(toStatusError(await pending, mapNodeError).code, status.CANCELLED);
    assert.ok(Date.now() - started < 4_000, "not the mkfs's 30 s, nor the call's 5 s budget");
    assert.equal(alive(pids[0] ?? 0), true, "mkfs is the plugin's job: it outlives the call");
    assert.equal(host.mounts.length, 0, "nothing mounted");
    await unstage();
    assert.equal(alive(pids[0] ?? 0), false, "the unstage ended mkfs");
    assert.equal(host.sessionCount(), 0);
    assert.equal(host.mounts.length, 0);
    assert.equal(await deps.records.get(VOLUME_ID), undefined, "no record");
  });

  test("a cancelled stage stops waiting for the multipath map at once", async () => {
    host.autoMap = false;
    build(hanging(() => false, []));
    // multipathd never builds the map: the stage waits for it until its budget runs out
    host.failing.add("multipathd add");
    const c = cancelling();
    const started = Date.now();
    const pending = srv.NodeStageVolume!(stageReq(), c.ctx).catch((e: unknown) => e);
    await until(() => host.calls.some((x) => x.file === "multipathd" && x.args[0] === "add"));
    c.abort();
    const err = await pending;
    assert.equal(toStatusError(err, mapNodeError).code, status.CANCELLED, String(err));
    assert.ok(Date.now() - started < 3_000, "not the call's 5 s budget");
  });

  /** Stages, then unstages with a call cancelled once `match`'s program runs; the unstage fails CANCELLED, soon, and that program is gone. */
  const cancelledUnstage = async (match: (file: string, args: readonly string[]) => boolean): Promise<void> => {
    const pids: number[] = [];
    build(hanging(match, pids));
    await stage();
    const c = cancelling();
    const started = Date.now();
    const pending = srv.NodeUnstageVolume!({ volume_id: VOLUME_ID, staging_target_path: stagingPath() }, c.ctx).catch((e: unknown) => e);
    await until(() => pids.length === 1);
    c.abort();
    const err = await pending;
    assert.equal(toStatusError(err, mapNodeError).code, status.CANCELLED, String(err));
    assert.ok(Date.now() - started < 4_000, "neither the program's own timeout nor the call's 5 s budget");
    assert.equal(alive(pids[0] ?? 0), false, "the program is gone");
    // the record stays: a retried unstage carries on from it
    assert.ok(await deps.records.get(VOLUME_ID));
  };

  test("a cancelled NodeUnstageVolume ends its umount; nothing after it runs", async () => {
    await cancelledUnstage((f) => f === "umount");
    assert.equal(
      host.calls.some((x) => x.args.includes("--logout")),
      false,
      "no logout after the cancelled umount",
    );
  });

  test("a cancelled NodeUnstageVolume ends its iscsiadm -o delete", async () => {
    await cancelledUnstage((f, a) => f === "flock" && a.includes("iscsiadm") && a.includes("delete"));
    assert.equal(
      host.calls.some((x) => x.file === "multipath" && x.args[0] === "-w"),
      false,
      "the WWID is not forgotten after the cancelled delete",
    );
  });

  test("a cancelled NodeUnstageVolume ends its multipath -w", async () => {
    await cancelledUnstage((f, a) => f === "multipath" && a[0] === "-w");
  });
});

test("unsafe multipath settings are refused before any login", async () => {
  host.multipathConfig = host.multipathConfig.replace('path_grouping_policy "failover"', 'path_grouping_policy "multibus"');
  const err = await stage().catch((e: unknown) => e);
  assert.equal(toStatusError(err, mapNodeError).code, status.FAILED_PRECONDITION);
  assert.match(String((err as Error).message), /multibus/);
  assert.equal(host.loginCount(), 0);
});

test("wrong CHAP credentials: PERMISSION_DENIED", async () => {
  assert.equal(await codeOf(stage({ secrets: { username: GBID, password: "wrong-password-xyz" } })), status.PERMISSION_DENIED);
});

describe("iscsiadm exit 24, a CHAP failure and an initiator no ACL admits alike: the target is asked which", () => {
  const refusalOf = async (p: Promise<unknown>): Promise<AuthFailedError> => {
    const err = await p.catch((e: unknown) => e);
    assert.ok(err instanceof AuthFailedError, String(err));
    assert.equal(toStatusError(err, mapNodeError).code, status.PERMISSION_DENIED);
    return err;
  };
  const ISCSIADM_SAID =
    /iscsiadm said: iscsiadm: Could not login to \[iface: default, target: \S+, portal: 10\.0\.0\.\d,3260\]\. iscsiadm: initiator reported error \(24 - iSCSI login failed due to authorization failure\) iscsiadm: Could not log into all portals$/;

  test("wrong CHAP credentials: the ACL admits this node, so CHAP failed; iscsiadm's words, never the password, not in the probe either", async () => {
    const err = await refusalOf(stage({ secrets: { username: GBID, password: "wrong-password-xyz" } }));
    assert.equal(err.refusal, "chap");
    assert.match(
      err.message,
      /was refused \(iscsiadm exit 24\): CHAP authentication failed: the target's ACL admits this node's initiator iqn\.1993-08\.org\.debian:01:worker1/,
    );
    assert.match(err.message, ISCSIADM_SAID);
    assert.doesNotMatch(err.message, /wrong-password-xyz|ACL \(/);
    assert.deepEqual(host.probes.map((p) => p.portal).sort(), [...PORTALS].sort(), "one probe per refused portal");
    assert.doesNotMatch(JSON.stringify(host.probes), /wrong-password-xyz|s3cret/, "the probe carries no credential");
  });

  test("a target whose ACL does not admit this initiator (published elsewhere): says so, and does not blame CHAP", async () => {
    const t = host.targets.get(IQN);
    assert.ok(t);
    t.acl = ["iqn.1993-08.org.debian:01:worker2"];
    const err = await refusalOf(stage());
    assert.equal(err.refusal, "acl");
    assert.match(
      err.message,
      /this node's initiator iqn\.1993-08\.org\.debian:01:worker1 is not in the target's ACL \(a probe login was answered 0x0202, initiator not authorized\)/,
    );
    assert.match(err.message, /published to another node and this one is fenced off/);
    assert.match(err.message, ISCSIADM_SAID);
    assert.doesNotMatch(err.message, /CHAP authentication failed/);
  });

  test("a probe that gets no answer: both causes named, with why the probe could not tell", async () => {
    build(host.exec, undefined, () => Promise.reject(new Error("no login response from 10.0.0.1:3260 within 5000 ms")));
    const err = await refusalOf(stage({ secrets: { username: GBID, password: "wrong-password-xyz" } }));
    assert.equal(err.refusal, "unknown");
    assert.match(
      err.message,
      /CHAP authentication failed, or no ACL of the target admits this initiator \(is the volume published to this node\?\); a probe login could not tell which: no login response/,
    );
    assert.match(err.message, ISCSIADM_SAID);
  });
});

test("one portal down: staged on the others; the condition says so; the healer logs in once it is back", async () => {
  const down = new Set([PORTALS[1] ?? ""]);
  host.addTarget({ iqn: IQN, portals: PORTALS, wwid: WWID, sizeBytes: 256 * MiB, chap: { username: GBID, password: PASSWORD }, down });
  await stage();
  assert.equal(host.sessionCount(IQN), 2);
  const s1 = await srv.NodeGetVolumeStats!({ volume_id: VOLUME_ID, volume_path: stagingPath(), staging_target_path: "" }, ctx);
  assert.equal(s1.volume_condition?.abnormal, true);
  assert.match(s1.volume_condition?.message ?? "", /10\.0\.0\.2:3260/);
  down.clear();
  const healed = await new Healer(deps).runOnce(nullLogger);
  assert.deepEqual(healed[0]?.relogged, [PORTALS[1]]);
  assert.equal(host.sessionCount(IQN), 3);
  const s2 = await srv.NodeGetVolumeStats!({ volume_id: VOLUME_ID, volume_path: stagingPath(), staging_target_path: "" }, ctx);
  assert.equal(s2.volume_condition?.abnormal, false, s2.volume_condition?.message);
  assert.ok(!host.calls.some((c) => c.args.includes("--logout")), "healing never logs out");
});

test("a session not logged in makes the condition abnormal", async () => {
  await stage();
  await host.setSessionState(IQN, PORTALS[0] ?? "", "FAILED");
  const s = await srv.NodeGetVolumeStats!({ volume_id: VOLUME_ID, volume_path: stagingPath(), staging_target_path: "" }, ctx);
  assert.equal(s.volume_condition?.abnormal, true);
  assert.match(s.volume_condition?.message ?? "", /FAILED/);
  assert.ok(s.usage?.some((u) => u.unit === "INODES"));
});

describe("a volume ID not of our form names a volume that does not exist: NOT_FOUND (CSI spec, csi-sanity), nothing runs", () => {
  const cases: [string, () => Promise<unknown>][] = [
    ["stage", () => stage({ volume_id: "pvc-123" })],
    [
      "publish",
      () =>
        srv.NodePublishVolume!(
          {
            volume_id: "id",
            staging_target_path: "/s",
            target_path: "/t",
            volume_capability: mountCap(),
            readonly: false,
            publish_context: {},
            secrets: {},
            volume_context: {},
          },
          ctx,
        ),
    ],
    ["stats", () => srv.NodeGetVolumeStats!({ volume_id: "id", volume_path: "/t", staging_target_path: "" }, ctx)],
    [
      "expand",
      () =>
        srv.NodeExpandVolume!({ volume_id: "id", volume_path: "/v", staging_target_path: "", capacity_range: null, volume_capability: null, secrets: {} }, ctx),
    ],
  ];
  for (const [name, call] of cases) {
    test(name, async () => {
      assert.equal(await codeOf(call()), status.NOT_FOUND);
      assert.deepEqual(host.calls, [], "no program ran");
    });
  }
});

test("a teardown of a volume ID not of our form is OK and touches nothing, not even a mount at its path (CSI: not staged there, so OK)", async () => {
  await stage();
  await publish();
  host.calls.length = 0;
  const mounts = host.mounts.length;
  for (const id of ["pvc-123", "fake-vol-id-1f0e2d3c-4", "v1/a/b/c"]) {
    await srv.NodeUnpublishVolume!({ volume_id: id, target_path: targetPath() }, ctx);
    await srv.NodeUnstageVolume!({ volume_id: id, staging_target_path: stagingPath() }, ctx);
  }
  assert.deepEqual(host.calls, [], "no program ran");
  assert.equal(host.mounts.length, mounts, "our volume's mounts stay");
  assert.equal(host.sessionCount(IQN), 3);
});

test("a teardown of an ID of another format version is INVALID_ARGUMENT: a newer plugin may have staged what it names", async () => {
  assert.equal(await codeOf(srv.NodeUnstageVolume!({ volume_id: "v2/x", staging_target_path: "/x" }, ctx)), status.INVALID_ARGUMENT);
  const err = await srv.NodeUnpublishVolume!({ volume_id: "v2/block-test/pvc-1", target_path: "/t" }, ctx).catch((e: unknown) => e);
  assert.equal(toStatusError(err, mapNodeError).code, status.INVALID_ARGUMENT);
  assert.match(String((err as Error).message), /format version this plugin does not know/);
  assert.deepEqual(host.calls, []);
});

test("stats of a staged volume at a volume_path that does not exist is NOT_FOUND (Filesystem and Block)", async () => {
  await stage();
  const nowhere = { volume_id: VOLUME_ID, volume_path: "/path/does/not/exist", staging_target_path: "" };
  assert.equal(await codeOf(srv.NodeGetVolumeStats!(nowhere, ctx)), status.NOT_FOUND);
  await unstage();
  await stage({ volume_capability: blockCap() });
  assert.equal(await codeOf(srv.NodeGetVolumeStats!(nowhere, ctx)), status.NOT_FOUND);
});

test("stats of a volume not staged here is NOT_FOUND", async () => {
  assert.equal(await codeOf(srv.NodeGetVolumeStats!({ volume_id: VOLUME_ID, volume_path: "/nowhere", staging_target_path: "" }, ctx)), status.NOT_FOUND);
});

test("expand: rescan, resize the map, grow xfs online", async () => {
  await stage();
  const t = host.targets.get(IQN);
  assert.ok(t);
  t.sizeBytes = 512 * MiB;
  const r = await srv.NodeExpandVolume!(
    {
      volume_id: VOLUME_ID,
      volume_path: stagingPath(),
      staging_target_path: stagingPath(),
      capacity_range: { required_bytes: String(512 * MiB), limit_bytes: "0" },
      volume_capability: mountCap(),
      secrets: {},
    },
    ctx,
  );
  assert.equal(Number(r.capacity_bytes), 512 * MiB);
  assert.ok(host.calls.some((c) => c.file === "multipathd" && c.args[0] === "resize"));
  assert.ok(host.calls.some((c) => c.file === "xfs_growfs" && c.args[0] === stagingPath()));
});

describe("garbage collector", () => {
  const LEFT = iqnFor(gbidFor(VOL, "leftover"));
  const LEFT_WWID = wwidFor(gbidFor(VOL, "leftover"));
  const FOREIGN = "iqn.2003-01.org.example:foreign";
  const FOREIGN_WWID = "36001405aaaaaaaaaaaaaaaaaaaaaaaaa";

  beforeEach(async () => {
    host.addTarget({ iqn: LEFT, portals: ["10.0.0.1:3260"], wwid: LEFT_WWID, sizeBytes: 64 * MiB });
    host.addTarget({ iqn: FOREIGN, portals: ["10.0.0.9:3260"], wwid: FOREIGN_WWID, sizeBytes: 64 * MiB });
    await host.foreignSession(LEFT, "10.0.0.1:3260", LEFT_WWID, true);
    await host.foreignSession(FOREIGN, "10.0.0.9:3260", FOREIGN_WWID, true);
    await stage(); // ours, owned by a record
  });

  test("dry run reports only the orphan of our prefix and changes nothing", async () => {
    const gc = new GarbageCollector(deps, { mode: "dry-run", graceMs: 0 });
    const before = host.calls.length;
    const f = await gc.runOnce(nullLogger);
    assert.deepEqual(
      f.map((x) => [x.iqn, x.action]),
      [[LEFT, "would-remove"]],
    );
    assert.equal(host.sessionCount(LEFT), 1);
    assert.equal(host.sessionCount(FOREIGN), 1);
    assert.equal(host.mapCount(), 3);
    assert.ok(!host.calls.slice(before).some((c) => c.args.includes("--logout") || c.args.includes("-f")));
  });

  test("fix removes the orphan after the grace period; the foreign target and our staged volume stay", async () => {
    let now = 1_000_000;
    const gc = new GarbageCollector(deps, { mode: "fix", graceMs: 60_000, now: () => now });
    const first = await gc.runOnce(nullLogger);
    assert.equal(first[0]?.action, "within-grace");
    assert.equal(host.sessionCount(LEFT), 1);
    now += 61_000;
    const second = await gc.runOnce(nullLogger);
    assert.equal(second[0]?.action, "removed");
    assert.equal(host.sessionCount(LEFT), 0);
    assert.equal(host.mapOf(LEFT_WWID), undefined);
    assert.equal(host.sessionCount(FOREIGN), 1);
    assert.ok(host.mapOf(FOREIGN_WWID));
    assert.equal(host.sessionCount(IQN), 3);
    assert.ok(host.mapOf(WWID));
  });

  test("an orphan that is mounted is left alone", async () => {
    const dm = host.mapOf(LEFT_WWID) ?? "";
    host.mounts.push({ target: "/mnt/x", source: `/dev/mapper/${LEFT_WWID}`, fstype: "xfs", options: ["rw"], devNo: `253:${dm.slice(3)}` });
    const gc = new GarbageCollector(deps, { mode: "fix", graceMs: 0 });
    const f = await gc.runOnce(nullLogger);
    assert.equal(f[0]?.action, "in-use");
    assert.equal(host.sessionCount(LEFT), 1);
  });
});

test("condition: a read-only publish is normal; a filesystem gone read-only at the staging mount is not", async () => {
  await stage();
  const req = {
    volume_id: VOLUME_ID,
    staging_target_path: stagingPath(),
    target_path: targetPath(),
    volume_capability: mountCap(),
    readonly: true,
    publish_context: {},
    secrets: {},
    volume_context: {},
  };
  await srv.NodePublishVolume!(req, ctx);
  const ok = await srv.NodeGetVolumeStats!({ volume_id: VOLUME_ID, volume_path: targetPath(), staging_target_path: stagingPath() }, ctx);
  assert.equal(ok.volume_condition?.abnormal, false, ok.volume_condition?.message);
  const staged = host.mounts.find((m) => m.target === stagingPath());
  assert.ok(staged);
  staged.options = ["ro", "relatime"];
  const bad = await srv.NodeGetVolumeStats!({ volume_id: VOLUME_ID, volume_path: targetPath(), staging_target_path: stagingPath() }, ctx);
  assert.equal(bad.volume_condition?.abnormal, true);
  assert.match(bad.volume_condition?.message ?? "", /read-only/);
});

describe("a format outlives the call that began it (format-jobs.ts)", () => {
  let started = 0;
  beforeEach(() => {
    started = 0;
  });
  /** host.exec, except that mkfs, once started, waits for `open()` before it goes on */
  const gatedMkfs = (): { exec: Exec; open(): void } => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    return {
      exec: async (file, args, opts) => {
        if (file.startsWith("mkfs.")) {
          started++;
          await gate;
        }
        return host.exec(file, args, opts);
      },
      open: () => open(),
    };
  };
  const mkfsRuns = (): number => Math.max(started, host.calls.filter((c) => c.file.startsWith("mkfs.")).length);
  const codeOfStage = async (): Promise<number> => {
    try {
      await stage();
      return status.OK;
    } catch (err) {
      return toStatusError(err, mapNodeError).code;
    }
  };

  test("mkfs longer than the call's budget: DEADLINE_EXCEEDED while it runs, the retries wait for the same mkfs, then one mounts it; one mkfs in all", async () => {
    const g = gatedMkfs();
    build(g.exec, undefined, host.loginProbe, 600);
    // the first calls may spend their budget on the logins and the map before mkfs starts
    for (let i = 0; i < 10 && mkfsRuns() === 0; i++) assert.equal(await codeOfStage(), status.DEADLINE_EXCEEDED);
    assert.equal(mkfsRuns(), 1, "mkfs started");
    const intent = (await deps.records.get(VOLUME_ID))?.formatIntent;
    assert.ok(intent, "the format intent is durable while mkfs runs");
    for (let i = 0; i < 2; i++) assert.equal(await codeOfStage(), status.DEADLINE_EXCEEDED, "a retry while mkfs runs waits for it");
    assert.equal(mkfsRuns(), 1, "no retry formats again while the first mkfs runs");
    g.open();
    assert.equal(await codeOfStage(), status.OK);
    assert.equal(mkfsRuns(), 1, "one mkfs in all");
    assert.equal(host.fsByWwid.get(WWID)?.uuid, intent.uuid, "the filesystem has the intent's UUID");
    assert.equal((await deps.records.get(VOLUME_ID))?.formatIntent, undefined, "the intent is cleared once blkid sees the filesystem");
    assert.equal(host.mounts.filter((m) => m.target === stagingPath()).length, 1, "mounted once");
    assert.equal(host.formatsOverMounted, 0);
  });

  test("a mkfs that fails: the waiting call answers its error, the retry formats again with the same UUID", async () => {
    host.failing.add("mkfs.xfs");
    assert.equal(await codeOfStage(), status.INTERNAL);
    const intent = (await deps.records.get(VOLUME_ID))?.formatIntent;
    assert.ok(intent);
    host.failing.delete("mkfs.xfs");
    assert.equal(await codeOfStage(), status.OK);
    assert.equal(mkfsRuns(), 2);
    assert.equal(host.fsByWwid.get(WWID)?.uuid, intent.uuid);
  });
});
