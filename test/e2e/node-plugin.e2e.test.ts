// PENDING (not run by npm run test:e2e): the node plugin's lab e2e. Its xfs cycle passed;
// ext4 runs crashed tcmu-runner (SIGFPE on WRITE SAME) on every gateway, so
// the rest never ran clean. Rename to *.e2e.test.ts once ext4 is made safe.
// The CSI node plugin on the real stack (issue 11): gluster-blockd on three
// storage VMs, blocks made with the gluster-block CLI, the node plugin on n1
// driven over its unix socket. Each volume goes stage -> publish -> write ->
// unpublish -> unstage -> stage again (no format) -> read -> unpublish ->
// unstage for xfs, ext4 and Block, and leaves nothing; a foreign iSCSI
// target with its session and map, made before the tests, stays untouched
// by every test and by the garbage collector.
import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { ensureLab, type Lab, type LabNode } from "./harness/lab.js";
import { buildProduct, startBlockdEverywhere, stopBlockdEverywhere, cli } from "./harness/product.js";
import { csiCalls, median, nodePluginLog, NOTHING, startNodePlugin, stopNodePlugin, traces, NODE_STATE_DIR, type Call, type CallResult } from "./harness/node-plugin.js";
import { makeFileioTarget, makeForeignSession, foreignState, dropForeign, dropTarget, FOREIGN_MAP, type ForeignState } from "./harness/node-foreign.js";
import { gbidFor, iqnFor, wwidFor } from "../../src/glusterblock/names.js";
import { toVolumeContext } from "../../src/csi/volume-context.js";

const VOL = "block-test";
const FOREIGN_IQN = "iqn.2003-01.org.example:gbcsi-foreign";
let lab: Lab;
let n1: LabNode;
let n2: LabNode;
let foreignBefore: ForeignState;
const notes: string[] = [];
const blocks: string[] = [];
const note = (s: string): void => {
  notes.push(s);
  console.log(s);
};

interface Vol {
  name: string;
  id: string;
  gbid: string;
  iqn: string;
  wwid: string;
  password: string;
  context: Record<string, string>;
}

function field(out: string, key: string): string {
  const m = new RegExp(`^${key}: ?(.*)$`, "m").exec(out);
  assert.ok(m, `${key} in:\n${out}`);
  return (m[1] ?? "").trim();
}

// xfsprogs 6 refuses filesystems under 300 MB
async function createBlock(name: string, size = "512MiB"): Promise<Vol> {
  const r = await cli(n1, ["create", `${VOL}/${name}`, "ha", "3", "auth", "enable", lab.addresses.join(","), size]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  blocks.push(name);
  const gbid = gbidFor(VOL, name);
  assert.equal(field(r.stdout, "IQN"), iqnFor(gbid));
  const portals = lab.addresses.map((a) => `${a}:3260`);
  return {
    name,
    id: `v1/${VOL}/${name}`,
    gbid,
    iqn: iqnFor(gbid),
    wwid: wwidFor(gbid),
    password: field(r.stdout, "PASSWORD"),
    context: toVolumeContext({ iqn: iqnFor(gbid), portals, lun: 0, hostingVolume: VOL, gbid, ha: 3, wwid: wwidFor(gbid), fsType: "", auth: true }),
  };
}

const stagingPath = (v: Vol): string => `/var/lib/kubelet/plugins/kubernetes.io/csi/block.csi.gluster.org/${v.name}/globalmount`;
const mountTarget = (v: Vol): string => `/var/lib/kubelet/pods/pod-${v.name}/volumes/kubernetes.io~csi/${v.name}/mount`;
const blockTarget = (v: Vol): string => `/var/lib/kubelet/plugins/kubernetes.io/csi/volumeDevices/publish/${v.name}/pod-${v.name}`;

type Mode = { kind: "mount"; fs: "xfs" | "ext4" } | { kind: "block" };
const capability = (m: Mode) =>
  m.kind === "block"
    ? { block: {}, access_mode: { mode: "SINGLE_NODE_WRITER" } }
    : { mount: { fs_type: m.fs, mount_flags: [] }, access_mode: { mode: "SINGLE_NODE_WRITER" } };

const stageCall = (v: Vol, m: Mode): Call => ({
  method: "NodeStageVolume",
  request: { volume_id: v.id, staging_target_path: stagingPath(v), volume_capability: capability(m), secrets: { username: v.gbid, password: v.password }, volume_context: v.context },
  stopOnError: true,
  retries: 5,
});
const unstageCall = (v: Vol): Call => ({ method: "NodeUnstageVolume", request: { volume_id: v.id, staging_target_path: stagingPath(v) }, stopOnError: true, retries: 5 });
const target = (v: Vol, m: Mode): string => (m.kind === "block" ? blockTarget(v) : mountTarget(v));
const publishCall = (v: Vol, m: Mode): Call => ({
  method: "NodePublishVolume",
  request: { volume_id: v.id, staging_target_path: stagingPath(v), target_path: target(v, m), volume_capability: capability(m), readonly: false, volume_context: v.context },
  stopOnError: true,
});
const unpublishCall = (v: Vol, m: Mode): Call => ({ method: "NodeUnpublishVolume", request: { volume_id: v.id, target_path: target(v, m) }, stopOnError: true });

function allOk(rs: CallResult[], n: number): void {
  for (const r of rs) assert.ok(r.ok, `${r.method} failed: ${r.code} ${r.details}`);
  assert.equal(rs.length, n, "every call ran");
}

const stageTimes: number[] = [];
const unstageTimes: number[] = [];
function timeOf(rs: CallResult[]): void {
  for (const r of rs) {
    if (r.method === "NodeStageVolume") stageTimes.push(r.ms);
    if (r.method === "NodeUnstageVolume") unstageTimes.push(r.ms);
  }
}

async function assertForeignUntouched(when: string): Promise<void> {
  assert.deepEqual(await foreignState(n1, FOREIGN_IQN, FOREIGN_MAP), foreignBefore, `the foreign target's session/map/record changed ${when}`);
}

before(async () => {
  buildProduct();
  lab = await ensureLab({ nodes: 3 });
  n1 = lab.node(1);
  n2 = lab.node(2);
  await lab.resetState();
  await startBlockdEverywhere(lab);
  // the foreign target: served by n2, logged in and mapped on n1 by "someone else"
  await makeFileioTarget(n2, FOREIGN_IQN, "gbcsi-foreign");
  await makeForeignSession(n1, FOREIGN_IQN, `${n2.address}:3260`);
  foreignBefore = await foreignState(n1, FOREIGN_IQN, FOREIGN_MAP);
  assert.equal(foreignBefore.sessions, 1);
  assert.equal(foreignBefore.map, true, "foreign map made");
  await n1.must(`rm -rf ${NODE_STATE_DIR}`);
  await startNodePlugin(n1);
});

afterEach(async () => {
  if (n1 && foreignBefore) await assertForeignUntouched("by the test");
});

after(async () => {
  if (!lab) return;
  const log = await nodePluginLog(n1).catch(() => "");
  await stopNodePlugin(n1);
  await n1.run("for m in $(findmnt -rn -o TARGET | grep '^/var/lib/kubelet/' | sort -r); do umount -l $m; done; true");
  await dropForeign(n1, FOREIGN_IQN, FOREIGN_MAP);
  await dropTarget(n2, FOREIGN_IQN, "fileio", "gbcsi-foreign");
  for (const b of blocks) await cli(n1, ["delete", `${VOL}/${b}`]).catch(() => undefined);
  await stopBlockdEverywhere(lab);
  if (stageTimes.length > 0) note(`stage median ${median(stageTimes)} ms over ${stageTimes.length}; unstage median ${median(unstageTimes)} ms over ${unstageTimes.length}`);
  console.log(`--- node plugin e2e notes ---\n${notes.join("\n")}`);
  if (log.includes('"level":"error"')) console.log("plugin logged errors:\n" + log.split("\n").filter((l) => l.includes('"level":"error"')).slice(-10).join("\n"));
});

async function cycle(v: Vol, m: Mode): Promise<void> {
  const data = `/root/${v.name}.bin`;
  await n1.must(`dd if=/dev/urandom of=${data} bs=1M count=8 status=none`);
  const first = await csiCalls(n1, [stageCall(v, m), publishCall(v, m)]);
  allOk(first, 2);
  timeOf(first);
  // the WWID tcmu-runner gives the LUN, as the kernel and multipath see it
  const seen = await n1.must(`for d in /sys/class/iscsi_session/session*; do [ "$(cat $d/targetname)" = "${v.iqn}" ] && cat $d/device/target*/*/wwid; done; cat /sys/block/dm-*/dm/uuid | grep -i ${v.wwid}`);
  const naa = seen.stdout.split("\n").filter((l) => l.startsWith("naa."));
  assert.equal(naa.length, 3, `3 paths: ${seen.stdout}`);
  for (const l of naa) assert.equal(`3${l.slice(4).trim()}`, v.wwid, "kernel wwid = 36001405 + first 25 hex digits of the GBID");
  assert.match(seen.stdout, new RegExp(`^mpath-${v.wwid}$`, "m"));
  note(`WWID ${m.kind === "block" ? "block" : m.fs}: GBID ${v.gbid} -> kernel ${naa[0]?.trim()} -> map mpath-${v.wwid} (3 paths)`);
  let fsUuid = "";
  if (m.kind === "mount") {
    const df = await n1.must(`findmnt -n -o FSTYPE,OPTIONS ${mountTarget(v)}; cp ${data} ${mountTarget(v)}/data; sync; blkid -o value -s UUID /dev/mapper/${v.wwid}`);
    assert.match(df.stdout, new RegExp(`^${m.fs}\\s+rw`, "m"));
    fsUuid = df.stdout.trim().split("\n").pop() ?? "";
  } else {
    await n1.must(`dd if=${data} of=${blockTarget(v)} bs=1M oflag=direct conv=fsync status=none`);
  }
  const down = await csiCalls(n1, [unpublishCall(v, m), unstageCall(v)]);
  allOk(down, 2);
  timeOf(down);
  assert.deepEqual(await traces(n1, v.iqn, v.wwid), NOTHING, "after the first unstage");

  const second = await csiCalls(n1, [stageCall(v, m), publishCall(v, m)]);
  allOk(second, 2);
  timeOf(second);
  if (m.kind === "mount") {
    const r = await n1.must(`cmp ${data} ${mountTarget(v)}/data && blkid -o value -s UUID /dev/mapper/${v.wwid}`);
    assert.equal(r.stdout.trim(), fsUuid, "same filesystem: not formatted again");
  } else {
    await n1.must(`dd if=${blockTarget(v)} bs=1M count=8 iflag=direct status=none | cmp - ${data}`);
  }
  const end = await csiCalls(n1, [unpublishCall(v, m), unstageCall(v)]);
  allOk(end, 2);
  timeOf(end);
  assert.deepEqual(await traces(n1, v.iqn, v.wwid), NOTHING, "after the second unstage");
  const log = await nodePluginLog(n1);
  assert.ok(!log.includes(v.password), "the CHAP password is in the plugin's log");
}

test("xfs: stage, publish, write, unpublish, unstage, stage again without format, same data, nothing left", { timeout: 900_000 }, async () => {
  await cycle(await createBlock("node-xfs"), { kind: "mount", fs: "xfs" });
});

test("ext4: the same cycle", { timeout: 900_000 }, async () => {
  await cycle(await createBlock("node-ext4"), { kind: "mount", fs: "ext4" });
});

test("Block: the same cycle on the raw multipath device", { timeout: 900_000 }, async () => {
  await cycle(await createBlock("node-raw"), { kind: "block" });
});

test("plugin restarted and staging directory emptied between stage and unstage: unstage still cleans everything", { timeout: 900_000 }, async () => {
  const v = await createBlock("node-restart");
  const m: Mode = { kind: "mount", fs: "xfs" };
  allOk(await csiCalls(n1, [stageCall(v, m)]), 1);
  await stopNodePlugin(n1);
  await n1.must(`find ${stagingPath(v)} -mindepth 1 -delete; ls -A ${stagingPath(v)} | wc -l`);
  await startNodePlugin(n1);
  const r = await csiCalls(n1, [unstageCall(v)]);
  allOk(r, 1);
  assert.deepEqual(await traces(n1, v.iqn, v.wwid), NOTHING);
});

test("a LUN whose WWID is not the volume's is refused, nothing mounted, nothing left", { timeout: 900_000 }, async () => {
  // a target with our IQN scheme but another LUN behind it (a fileio backstore, its own serial)
  const gbid = gbidFor(VOL, "node-wrong-lun");
  const iqn = iqnFor(gbid);
  await makeFileioTarget(n2, iqn, "gbcsi-wrong-lun");
  const v: Vol = {
    name: "node-wrong-lun",
    id: `v1/${VOL}/node-wrong-lun`,
    gbid,
    iqn,
    wwid: wwidFor(gbid),
    password: "",
    context: toVolumeContext({ iqn, portals: [`${n2.address}:3260`], lun: 0, hostingVolume: VOL, gbid, ha: 1, wwid: wwidFor(gbid), fsType: "", auth: false }),
  };
  const stage: Call = { method: "NodeStageVolume", request: { volume_id: v.id, staging_target_path: stagingPath(v), volume_capability: capability({ kind: "mount", fs: "xfs" }), secrets: {}, volume_context: v.context } };
  const [r] = await csiCalls(n1, [stage]);
  assert.ok(r && !r.ok);
  assert.equal(r.code, 9, `FAILED_PRECONDITION: ${r.details}`);
  assert.match(r.details, /WWID/);
  note(`WWID mismatch refused: ${r.details}`);
  const left = await n1.must(`findmnt -rn -o TARGET | grep -c '^${stagingPath(v)}' || true; ls /etc/iscsi/nodes | grep -c ${gbid} || true`);
  assert.deepEqual(left.stdout.trim().split("\n"), ["0", "0"]);
  assert.deepEqual(await traces(n1, v.iqn, v.wwid), NOTHING);
  await dropTarget(n2, iqn, "fileio", "gbcsi-wrong-lun");
});

test("NodeExpandVolume after gluster-block modify size: df shows the new size without unmounting", { timeout: 900_000 }, async () => {
  const v = await createBlock("node-grow", "512MiB");
  const m: Mode = { kind: "mount", fs: "xfs" };
  allOk(await csiCalls(n1, [stageCall(v, m), publishCall(v, m)]), 2);
  const before = Number((await n1.must(`df -B1 --output=size ${mountTarget(v)} | tail -1`)).stdout.trim());
  const mod = await cli(n1, ["modify", `${VOL}/${v.name}`, "size", "1GiB"]);
  assert.equal(mod.code, 0, mod.stderr + mod.stdout);
  const [r] = await csiCalls(n1, [
    { method: "NodeExpandVolume", request: { volume_id: v.id, volume_path: mountTarget(v), staging_target_path: stagingPath(v), capacity_range: { required_bytes: String(1024 * 1024 * 1024) }, volume_capability: capability(m) } },
  ]);
  assert.ok(r?.ok, r?.details);
  assert.equal(Number(r.response?.capacity_bytes), 1024 * 1024 * 1024);
  const after = Number((await n1.must(`df -B1 --output=size ${mountTarget(v)} | tail -1`)).stdout.trim());
  note(`expand: df ${before} -> ${after} bytes, mounted throughout`);
  assert.ok(after > before + 400 * 1024 * 1024, `df grew: ${before} -> ${after}`);
  const [stats] = await csiCalls(n1, [{ method: "NodeGetVolumeStats", request: { volume_id: v.id, volume_path: mountTarget(v) } }]);
  assert.ok(stats?.ok, stats?.details);
  const cond = stats.response?.volume_condition as { abnormal: boolean; message: string } | undefined;
  assert.equal(cond?.abnormal, false, cond?.message);
  allOk(await csiCalls(n1, [unpublishCall(v, m), unstageCall(v)]), 2);
  assert.deepEqual(await traces(n1, v.iqn, v.wwid), NOTHING);
});

test("20 stage/unstage loops leave nothing behind", { timeout: 1_800_000 }, async () => {
  const v = await createBlock("node-loops");
  const m: Mode = { kind: "mount", fs: "xfs" };
  const baseline = await n1.must("ls /sys/class/iscsi_session | wc -l; ls -d /sys/block/sd* 2>/dev/null | wc -l; dmsetup ls | grep -vc 'No devices' || true; findmnt -rn | wc -l; ls /etc/iscsi/nodes | wc -l");
  const calls: Call[] = [];
  for (let i = 0; i < 20; i++) calls.push(stageCall(v, m), unstageCall(v));
  const rs = await csiCalls(n1, calls, 1_700_000);
  allOk(rs, 40);
  const st = rs.filter((r) => r.method === "NodeStageVolume").map((r) => r.ms);
  const un = rs.filter((r) => r.method === "NodeUnstageVolume").map((r) => r.ms);
  stageTimes.push(...st);
  unstageTimes.push(...un);
  note(`20 loops: stage median ${median(st)} ms (min ${Math.min(...st)}, max ${Math.max(...st)}); unstage median ${median(un)} ms (min ${Math.min(...un)}, max ${Math.max(...un)})`);
  const afterLoops = await n1.must("ls /sys/class/iscsi_session | wc -l; ls -d /sys/block/sd* 2>/dev/null | wc -l; dmsetup ls | grep -vc 'No devices' || true; findmnt -rn | wc -l; ls /etc/iscsi/nodes | wc -l");
  assert.equal(afterLoops.stdout, baseline.stdout, "sessions, disks, dm devices, mounts and node-record targets counted before and after the loops");
  assert.deepEqual(await traces(n1, v.iqn, v.wwid), NOTHING);
  note(`counts (sessions, sd, dm, mounts, node targets) before = after 20 loops: ${baseline.stdout.trim().split("\n").join(", ")}`);
});

test("garbage collector on a dirtied node: dry run reports, fix removes only our orphan, foreign untouched", { timeout: 900_000 }, async () => {
  const v = await createBlock("node-orphan");
  // an orphan: a session + map of our prefix that no record owns (as a crashed plugin would leave)
  await n1.must(`set -e
    for p in ${lab.addresses.map((a) => `${a}:3260`).join(" ")}; do
      iscsiadm -m node -T ${v.iqn} -p $p -o new >/dev/null
      iscsiadm -m node -T ${v.iqn} -p $p -o update -n node.session.auth.authmethod -v CHAP
      iscsiadm -m node -T ${v.iqn} -p $p -o update -n node.session.auth.username -v ${v.gbid}
      iscsiadm -m node -T ${v.iqn} -p $p -o update -n node.session.auth.password -v '${v.password}'
      iscsiadm -m node -T ${v.iqn} -p $p --login >/dev/null
    done
    for k in $(seq 150); do [ -e /dev/mapper/${v.wwid} ] && exit 0; sleep 0.2; done; exit 1`);
  const dirty = await traces(n1, v.iqn, v.wwid);
  assert.equal(dirty.sessions, 3);
  assert.equal(dirty.maps, 1);

  await startNodePlugin(n1, { GBCSI_GC_MODE: "dry-run", GBCSI_GC_GRACE_SECONDS: "0" });
  await n1.must(`for k in $(seq 150); do journalctl -u gbcsi-node -o cat | grep -q '"gc finding"' && exit 0; sleep 0.2; done; exit 1`);
  const dry = (await nodePluginLog(n1)).split("\n").filter((l) => l.includes('"gc finding"'));
  note(`GC dry run findings:\n  ${dry.join("\n  ")}`);
  assert.equal(dry.length, 1, "one finding: our orphan, not the foreign target");
  assert.match(dry[0] ?? "", new RegExp(v.iqn));
  assert.match(dry[0] ?? "", /would-remove/);
  assert.deepEqual(await traces(n1, v.iqn, v.wwid), dirty, "dry run changed nothing");

  await startNodePlugin(n1, { GBCSI_GC_MODE: "fix", GBCSI_GC_GRACE_SECONDS: "0" });
  await n1.must(`for k in $(seq 300); do journalctl -u gbcsi-node -o cat | grep '"gc finding"' | grep -q -e removed -e failed && exit 0; sleep 0.2; done; exit 1`);
  const fixed = (await nodePluginLog(n1)).split("\n").filter((l) => l.includes('"gc finding"'));
  note(`GC fix findings:\n  ${fixed.join("\n  ")}`);
  assert.match(fixed[0] ?? "", /"action":"removed"/);
  assert.deepEqual(await traces(n1, v.iqn, v.wwid), NOTHING);
  await startNodePlugin(n1);
});
