// blockd's Blockd service over real gRPC, on an engine whose hosting volume
// is a temp directory (no glusterd: `gluster volume info` is answered here,
// or hangs as a busy glusterd does) and whose LIO is the configfs imitation.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { credentials, status, type Client } from "@grpc/grpc-js";
import { GrpcServer } from "../../../../src/rpc/server.js";
import { blockdProto } from "../../../../src/rpc/proto.js";
import { wrapService } from "../../../../src/rpc/rpc.js";
import { unary } from "../../../../src/rpc/unary-client.js";
import { parseEndpoint } from "../../../../src/rpc/endpoint.js";
import { blockdService } from "../../../../src/glusterblock/blockd/services.js";
import { blockErrorToCsi } from "../../../../src/glusterblock/blockd/error-map.js";
import { BlockEngine } from "../../../../src/glusterblock/engine/block-engine.js";
import { LocalNode } from "../../../../src/glusterblock/engine/local-node.js";
import { Auditor } from "../../../../src/glusterblock/engine/audit.js";
import type { Peers } from "../../../../src/glusterblock/engine/peers.js";
import { GlusterCli } from "../../../../src/glusterblock/gluster/gluster-cli.js";
import { ConfigfsLioTargets } from "../../../../src/glusterblock/lio/configfs-lio-targets.js";
import type { BlockStore } from "../../../../src/glusterblock/volume/block-store.js";
import { extLine } from "../../../../src/glusterblock/engine/extensions.js";
import { createDoneLines, createIntentLines, entryDeleteLine, hostLine, keyLine } from "../../../../src/glusterblock/journal/index.js";
import { gbidFor } from "../../../doubles/names.js";
import type { BlockInfo__Output } from "../../../../src/generated/glusterblock/v1/BlockInfo.js";
import type { ListBlocksResponse__Output } from "../../../../src/generated/glusterblock/v1/ListBlocksResponse.js";
import type { TargetStatusReports__Output } from "../../../../src/generated/glusterblock/v1/TargetStatusReports.js";
import type { TargetStatusReport__Output } from "../../../../src/generated/glusterblock/v1/TargetStatusReport.js";
import { exec, ExecCancelledError, type Exec } from "../../../../src/util/exec.js";
import { nullLogger } from "../../../../src/util/log.js";
import { FakeConfigfs } from "../../../doubles/fake-configfs.js";
import { noExec, tempHostingVolume } from "../../../helpers/temp-hosting-volume.js";

const VOLUME = "block-test";
const HOST = "10.213.0.11";
/** not the default 3260: the portals GetBlock answers must be on the engine's port */
const ISCSI_PORT = 3261;

const VOLUME_INFO = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cliOutput><opRet>0</opRet><opErrno>0</opErrno><opErrstr/><volInfo><volumes><volume><name>${VOLUME}</name><status>1</status><statusStr>Started</statusStr><typeStr>Replicate</typeStr><replicaCount>3</replicaCount><bricks/><options/></volume><count>1</count></volumes></volInfo></cliOutput>`;

/** Peers that are never reached in these tests. */
const noPeers: Peers = {
  apply: () => Promise.reject(new Error("no peers here")),
  remove: () => Promise.reject(new Error("no peers here")),
  status: () => Promise.reject(new Error("no peers here")),
  statusMany: () => Promise.reject(new Error("no peers here")),
  ping: () => Promise.reject(new Error("no peers here")),
  inspect: () => Promise.reject(new Error("no peers here")),
};

let dir: string;
let store: BlockStore;
let server: GrpcServer;
let client: Client;
/** `gluster` hangs (a glusterd busy with another transaction) instead of answering */
let glusterHangs = false;
/** how each gluster call ended */
const glusterOutcomes: unknown[] = [];

const pidFile = (): string => join(dir, "gluster.pid");

const glusterExec: Exec = async (file, args, opts) => {
  if (!glusterHangs) return { file, redactedArgs: args, stdout: VOLUME_INFO, stderr: "", exitCode: 0, durationMs: 1 };
  try {
    const r = await exec("sh", ["-c", `echo $$ > ${pidFile()}; exec sleep 30`], opts);
    glusterOutcomes.push(r);
    return r;
  } catch (err) {
    glusterOutcomes.push(err);
    throw err;
  }
};

before(async () => {
  const v = await tempHostingVolume(VOLUME, "gb-blockd-svc-");
  dir = v.dir;
  store = v.store;
  const lio = new ConfigfsLioTargets({ fs: new FakeConfigfs() });
  const local = new LocalNode({ host: HOST, mounts: v.mounts, lio, exec: noExec, volfileServer: "localhost", log: nullLogger });
  const engine = new BlockEngine({
    host: HOST,
    mounts: v.mounts,
    gluster: new GlusterCli({ exec: glusterExec }),
    peers: noPeers,
    exec: noExec,
    log: nullLogger,
    iscsiPort: ISCSI_PORT,
  });
  const auditor = new Auditor(engine, local, lio, noPeers, nullLogger);
  const svc = blockdProto().glusterblock.v1.Blockd.service;
  server = new GrpcServer(nullLogger);
  server.addService(svc, wrapService(svc, blockdService(engine, auditor), { log: nullLogger, mapError: blockErrorToCsi }));
  const sock = join(await mkdtemp(join(tmpdir(), "gb-blockd-sock-")), "blockd.sock");
  await server.listen({ endpoint: parseEndpoint(`unix://${sock}`) });
  client = new (blockdProto().glusterblock.v1.Blockd)(`unix:${sock}`, credentials.createInsecure());
});

after(async () => {
  client.close();
  await server.stop(1000);
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  glusterHangs = false;
  glusterOutcomes.length = 0;
  await rm(pidFile(), { force: true });
  for (const name of await store.listNames()) await store.removeMeta(name);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function glusterPid(): Promise<number> {
  for (let i = 0; i < 300; i++) {
    const text = await readFile(pidFile(), "utf8").catch(() => "");
    if (/^\d+\n/.test(text)) return Number(text.trim());
    await delay(10);
  }
  throw new Error("gluster never started");
}

test("a GetBlock its caller cancels ends the gluster call it waits for", async () => {
  glusterHangs = true;
  const ac = new AbortController();
  const started = Date.now();
  const call = unary(client, "GetBlock", { volume: VOLUME, block: "b0" }, { timeoutMs: 60_000, signal: ac.signal }).catch((e: unknown) => e);
  const pid = await glusterPid();
  ac.abort();
  assert.equal(((await call) as { code?: number }).code, status.CANCELLED);
  for (let i = 0; i < 300 && glusterOutcomes.length === 0; i++) await delay(10);
  assert.ok(glusterOutcomes[0] instanceof ExecCancelledError, `gluster ended with ${String(glusterOutcomes[0])}`);
  assert.equal(alive(pid), false, "the gluster process is gone");
  assert.ok(Date.now() - started < 10_000, "not gluster's 30 s");
});

const HOSTS = [HOST, "10.213.0.12", "10.213.0.13"];
const MiB = 1024n * 1024n;

/** A whole HA-3 block, exported on `exported` of its hosts. */
async function wholeBlock(name: string, exported = HOSTS): Promise<void> {
  await store.append(name, createIntentLines({ volume: VOLUME, gbid: gbidFor(VOLUME, name), ha: 3, prioPath: HOST }) + extLine("HOSTS", HOSTS.join(" ")));
  await store.append(name, createDoneLines({ sizeBytes: 16n * MiB }) + exported.map((h) => hostLine(h, "CONFIGSUCCESS")).join(""));
}

test("ListBlocks with details answers every readable block's GetBlock in one call (mid-create and mid-delete ones as GetBlock reports them); an unreadable journal is reported, not fatal", async () => {
  await wholeBlock("b0");
  await wholeBlock("b1", [HOST]);
  // a create cut short after its first append: GetBlock answers it (state creating)
  await store.append("b2", createIntentLines({ volume: VOLUME, gbid: gbidFor(VOLUME, "b2"), ha: 1, prioPath: HOST }));
  // a journal that cannot be trusted
  await store.append("b3", keyLine("VOLUME", VOLUME) + "this is not a journal line\n");
  // a journal with no ENTRYCREATE: GetBlock says NOT_FOUND
  await store.append("b4", keyLine("VOLUME", VOLUME) + keyLine("GBID", gbidFor(VOLUME, "b4")) + keyLine("HA", 1));
  // a delete cut short after its first append: GetBlock answers it (state deleting)
  await wholeBlock("b5");
  await store.append("b5", entryDeleteLine("INPROGRESS"));

  const r = await unary<ListBlocksResponse__Output>(client, "ListBlocks", { volume: VOLUME, details: true }, { timeoutMs: 10_000 });
  assert.deepEqual([...r.blocks].sort(), ["b0", "b1", "b2", "b3", "b4", "b5"]);
  const order = (names: string[]): string[] => [...names].sort((a, b) => r.blocks.indexOf(a) - r.blocks.indexOf(b));
  assert.deepEqual(
    r.infos.map((i) => i.name),
    order(["b0", "b1", "b2", "b5"]),
    "in the listing's order",
  );
  for (const info of r.infos) {
    const one = await unary<BlockInfo__Output>(client, "GetBlock", { volume: VOLUME, block: info.name }, { timeoutMs: 10_000 });
    assert.deepEqual(info, one, `${info.name}: what GetBlock answers`);
  }
  assert.deepEqual(
    r.infos.find((i) => i.name === "b0")?.portals,
    HOSTS.map((h) => `${h}:${ISCSI_PORT}`),
    "the exporting hosts' portals, on the engine's iSCSI port",
  );
  assert.deepEqual(
    r.infos.map((i) => [i.name, i.state]),
    order(["b0", "b1", "b2", "b5"]).map((n) => [n, { b0: "ready", b1: "degraded", b2: "creating", b5: "deleting" }[n]]),
  );
  assert.deepEqual(
    r.unreadable.map((u) => u.name),
    ["b3"],
  );
  assert.match(r.unreadable[0]?.error ?? "", /line 2/);
  const b3 = await unary(client, "GetBlock", { volume: VOLUME, block: "b3" }, { timeoutMs: 10_000 }).catch((e: unknown) => e);
  assert.equal((b3 as { code?: number }).code, status.DATA_LOSS, "GetBlock fails for the block reported unreadable");
});

test("ListBlocks without details lists names only", async () => {
  await wholeBlock("b0");
  await wholeBlock("b1");
  const r = await unary<ListBlocksResponse__Output>(client, "ListBlocks", { volume: VOLUME, details: false }, { timeoutMs: 10_000 });
  assert.deepEqual([...r.blocks].sort(), ["b0", "b1"]);
  assert.deepEqual(r.infos, []);
  assert.deepEqual(r.unreadable, []);
});

test("GetTargetStatuses answers a report per block asked, in order: its hosts as GetTargetStatus gives them, or why it cannot be judged", async () => {
  await wholeBlock("b0");
  await store.append("b3", keyLine("VOLUME", VOLUME) + "this is not a journal line\n");
  const r = await unary<TargetStatusReports__Output>(client, "GetTargetStatuses", { volume: VOLUME, blocks: ["nosuch", "b0", "b3"] }, { timeoutMs: 10_000 });
  assert.deepEqual(
    r.blocks.map((b) => b.block),
    ["nosuch", "b0", "b3"],
  );
  const [none, b0, b3] = r.blocks;
  assert.match(none?.error ?? "", /doesn't exist/);
  assert.deepEqual(none?.hosts, []);
  assert.match(b3?.error ?? "", /line 2/);
  assert.equal(b0?.error, "");
  const one = await unary<TargetStatusReport__Output>(client, "GetTargetStatus", { volume: VOLUME, block: "b0" }, { timeoutMs: 10_000 });
  // no peer answers in this test: every host is unreachable, the same way in both
  assert.deepEqual(b0?.hosts, one.hosts);
  assert.deepEqual(
    b0?.hosts.map((h) => [h.host, h.matches]),
    HOSTS.map((h) => [h, false]),
  );
  const tooMany = await unary(
    client,
    "GetTargetStatuses",
    { volume: VOLUME, blocks: Array.from({ length: 1001 }, (_, i) => `x${i}`) },
    { timeoutMs: 10_000 },
  ).catch((e: unknown) => e);
  assert.equal((tooMany as { code?: number }).code, status.INVALID_ARGUMENT);
});
