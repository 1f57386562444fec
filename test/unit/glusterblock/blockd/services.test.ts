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
import { exec, ExecCancelledError, type Exec } from "../../../../src/util/exec.js";
import { nullLogger } from "../../../../src/util/log.js";
import { FakeConfigfs } from "../../../doubles/fake-configfs.js";
import { noExec, tempHostingVolume } from "../../../helpers/temp-hosting-volume.js";

const VOLUME = "block-test";
const HOST = "10.213.0.11";

const VOLUME_INFO = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cliOutput><opRet>0</opRet><opErrno>0</opErrno><opErrstr/><volInfo><volumes><volume><name>${VOLUME}</name><status>1</status><statusStr>Started</statusStr><typeStr>Replicate</typeStr><replicaCount>3</replicaCount><bricks/><options/></volume><count>1</count></volumes></volInfo></cliOutput>`;

/** Peers that are never reached in these tests. */
const noPeers: Peers = {
  apply: () => Promise.reject(new Error("no peers here")),
  remove: () => Promise.reject(new Error("no peers here")),
  status: () => Promise.reject(new Error("no peers here")),
  statusMany: () => Promise.reject(new Error("no peers here")),
  ping: () => Promise.reject(new Error("no peers here")),
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
  const engine = new BlockEngine({ host: HOST, mounts: v.mounts, gluster: new GlusterCli({ exec: glusterExec }), peers: noPeers, exec: noExec, log: nullLogger });
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
