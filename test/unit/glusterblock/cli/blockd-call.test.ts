// The CLI's call to blockd (node's HTTP/2 and proto-codec.ts, not grpc-js)
// against a real grpc-js server on a unix socket, served as blockd serves
// (wrapService): the answers, the statuses and their messages are what a
// grpc-js client gets for the same calls, and runCli prints them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { createServer as createHttp2Server } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, status } from "@grpc/grpc-js";
import { GrpcServer } from "../../../../src/rpc/server.js";
import { blockdProto } from "../../../../src/rpc/proto.js";
import { wrapService, type RpcContext } from "../../../../src/rpc/rpc.js";
import { StatusError } from "../../../../src/rpc/errors.js";
import { parseEndpoint } from "../../../../src/rpc/endpoint.js";
import { unary } from "../../../../src/rpc/unary-client.js";
import { nullLogger } from "../../../../src/util/log.js";
import { callBlockd } from "../../../../src/glusterblock/cli/blockd-call.js";
import { runCli } from "../../../../src/glusterblock/cli/main.js";
import { renderInfo, renderList } from "../../../../src/glusterblock/cli/output.js";
import type { BlockdClient } from "../../../../src/generated/glusterblock/v1/Blockd.js";

let dir: string;
let sock: string;
let server: GrpcServer;
let grpcClient: BlockdClient;
/** the requests as the server decoded them */
const seen: { method: string; req: unknown }[] = [];
let releaseSlow: (() => void) | undefined;
/** resolves when a held Audit call's signal fires on the server */
let auditEnded: Promise<void> = Promise.resolve();

const INFO = {
  name: "b1",
  volume: "vol",
  gbid: "6c2a1f0e-2f2c-4a3e-9d4b-0f5e1c2b3a4d",
  size_bytes: "18446744073709551615",
  ha: 3,
  io_timeout_s: 43,
  password: "",
  exported_on: ["10.0.0.1", "10.0.0.2"],
  failed_on: ["10.0.0.3"],
  resize_failed_on: ["10.0.0.2:1048576"],
  acl_mode: "ACL_MODE_GENERATED",
  state: "degraded",
};
/** a message with what grpc-message must carry through: %, non-ASCII, a newline, reserved URI characters */
const ODD_MESSAGE = "block 'b2' on vol: 100% full; ü/é? #1 & more\nsecond line";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-call-"));
  sock = join(dir, "blockd.sock");
  const service = blockdProto().glusterblock.v1.Blockd.service;
  server = new GrpcServer(nullLogger);
  const impl = {
    ListBlocks(req: { volume: string }) {
      seen.push({ method: "ListBlocks", req });
      if (req.volume === "missing") return Promise.reject(new StatusError(status.NOT_FOUND, "volume missing does not exist"));
      return Promise.resolve({ blocks: ["b1", "b2", "ü-block"] });
    },
    GetBlock(req: { block: string }) {
      seen.push({ method: "GetBlock", req });
      if (req.block === "b2") return Promise.reject(new StatusError(status.ALREADY_EXISTS, ODD_MESSAGE));
      return Promise.resolve(INFO);
    },
    CreateBlock(req: unknown) {
      seen.push({ method: "CreateBlock", req });
      return Promise.resolve({ iqn: "iqn.2016-12.org.gluster-block:x", portals: ["10.0.0.1:3260"], username: "u", password: "p4ssw0rd-long-enough" });
    },
    Audit(_req: unknown, ctx: RpcContext) {
      auditEnded = new Promise((ended) => ctx.signal.addEventListener("abort", () => ended(), { once: true }));
      return new Promise((resolve) => {
        releaseSlow = () => resolve({ findings: [] });
        void auditEnded.then(() => resolve({ findings: [] }));
      });
    },
  };
  server.addService(service, wrapService(service, impl, { log: nullLogger }));
  await server.listen({ endpoint: parseEndpoint(`unix://${sock}`) });
  grpcClient = new (blockdProto().glusterblock.v1.Blockd)(`unix:${sock}`, credentials.createInsecure());
});

after(async () => {
  releaseSlow?.();
  grpcClient.close();
  await server.stop(1000);
  await rm(dir, { recursive: true, force: true });
});

const errorOf = async (p: Promise<unknown>): Promise<{ code: number; details: string }> => {
  const err = (await p.then(
    () => assert.fail("the call succeeded"),
    (e: unknown) => e,
  )) as { code: number; details: string };
  return { code: err.code, details: err.details };
};

test("an answer decodes as grpc-js decodes it (uint64 as a string, enums by name, every field)", async () => {
  const ours = await callBlockd(sock, "GetBlock", { volume: "vol", block: "b1" }, 5000);
  const theirs = await unary(grpcClient, "GetBlock", { volume: "vol", block: "b1" }, { timeoutMs: 5000 });
  assert.deepEqual(ours, theirs);
  assert.equal((ours as { size_bytes: string }).size_bytes, "18446744073709551615");
  assert.deepEqual(
    await callBlockd(sock, "ListBlocks", { volume: "vol" }, 5000),
    await unary(grpcClient, "ListBlocks", { volume: "vol" }, { timeoutMs: 5000 }),
  );
});

test("the server decodes the CLI's request as it decodes grpc-js's", async () => {
  const req = {
    volume: "vol",
    block: "b",
    ha: 3,
    hosts: ["10.0.0.1", "10.0.0.2"],
    auth: true,
    prealloc: "PREALLOC_NO",
    size_bytes: "1073741824",
    acl_mode: "ACL_MODE_GENERATED",
    fail_if_exists: true,
  };
  seen.length = 0;
  await callBlockd(sock, "CreateBlock", req, 5000);
  await unary(grpcClient, "CreateBlock", req, { timeoutMs: 5000 });
  assert.equal(seen.length, 2);
  assert.deepEqual(seen[0], seen[1]);
});

test("a gRPC status comes with the code and the message grpc-js gives: %, non-ASCII, newlines and URI-reserved characters kept", async () => {
  const ours = await errorOf(callBlockd(sock, "GetBlock", { volume: "vol", block: "b2" }, 5000));
  const theirs = await errorOf(unary(grpcClient, "GetBlock", { volume: "vol", block: "b2" }, { timeoutMs: 5000 }));
  assert.deepEqual(ours, theirs);
  assert.deepEqual(ours, { code: status.ALREADY_EXISTS, details: ODD_MESSAGE });
  // a method the server does not implement: UNIMPLEMENTED, as grpc-js says it
  const unimpl = await errorOf(callBlockd(sock, "GetVolumeSpace", { volume: "vol" }, 5000));
  assert.deepEqual(unimpl, await errorOf(unary(grpcClient, "GetVolumeSpace", { volume: "vol" }, { timeoutMs: 5000 })));
  assert.equal(unimpl.code, status.UNIMPLEMENTED);
});

test("a deadline that passes is DEADLINE_EXCEEDED here, and the server's handler sees its call end", async () => {
  const started = Date.now();
  const err = await errorOf(callBlockd(sock, "Audit", { volume: "vol" }, 300));
  assert.equal(err.code, status.DEADLINE_EXCEEDED);
  await auditEnded;
  assert.ok(Date.now() - started < 5000);
});

test("no daemon: UNAVAILABLE naming the connection, which the CLI words as the original did", async () => {
  const err = await errorOf(callBlockd(join(dir, "nosuch.sock"), "ListBlocks", { volume: "vol" }, 5000));
  assert.equal(err.code, status.UNAVAILABLE);
  assert.match(err.details, /connect ENOENT/);
  const r = await runCli(["list", "vol"], join(dir, "nosuch.sock"));
  assert.equal(r.exitCode, 255);
  assert.equal(r.stderr, `failed to connect to gluster-blockd at ${join(dir, "nosuch.sock")}: is it running?\nRESULT:FAIL\n`);
});

test("a peer that is not HTTP/2 (closes at once): UNAVAILABLE", async () => {
  const path = join(dir, "closer.sock");
  const closer: Server = createServer((s) => s.destroy());
  await new Promise<void>((resolve) => closer.listen(path, resolve));
  try {
    const err = await errorOf(callBlockd(path, "ListBlocks", { volume: "vol" }, 5000));
    assert.equal(err.code, status.UNAVAILABLE, err.details);
  } finally {
    closer.close();
  }
});

test("an HTTP status other than 200 without a gRPC status: grpc-js's mapping (503: UNAVAILABLE)", async () => {
  const path = join(dir, "http503.sock");
  const h2 = createHttp2Server((_req, res) => {
    res.statusCode = 503;
    res.end();
  });
  await new Promise<void>((resolve) => h2.listen(path, resolve));
  try {
    assert.deepEqual(await errorOf(callBlockd(path, "ListBlocks", { volume: "vol" }, 5000)), {
      code: status.UNAVAILABLE,
      details: "Received HTTP status code 503",
    });
  } finally {
    h2.close();
  }
});

test("runCli prints blockd's answers as the original did: list, info (plain and JSON), and an error with its exit code", async () => {
  assert.deepEqual(await runCli(["list", "vol"], sock), renderList({ blocks: ["b1", "b2", "ü-block"] }));
  const info = {
    name: "b1",
    volume: "vol",
    gbid: INFO.gbid,
    sizeBytes: 18446744073709551615n,
    ha: 3,
    ioTimeout: 43,
    password: "",
    exportedOn: INFO.exported_on,
    failedOn: INFO.failed_on,
    resizeFailedOn: [{ host: "10.0.0.2", currentSizeBytes: 1048576n }],
  };
  assert.deepEqual(await runCli(["info", "vol/b1"], sock), renderInfo(info));
  assert.deepEqual(await runCli(["info", "vol/b1", "--json-pretty"], sock), renderInfo(info, "pretty"));
  const missing = await runCli(["list", "missing", "--json-plain"], sock);
  assert.equal(missing.exitCode, 2);
  assert.equal(missing.stderr, `{"RESULT":"FAIL","errCode":2,"errMsg":"volume missing does not exist"}\n`);
});
