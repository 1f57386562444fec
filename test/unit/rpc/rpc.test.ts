import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status, type ServiceError } from "@grpc/grpc-js";
import { GrpcServer } from "../../../src/rpc/server.js";
import { csiProto } from "../../../src/rpc/proto.js";
import { wrapService } from "../../../src/rpc/rpc.js";
import { StatusError, notFound } from "../../../src/rpc/errors.js";
import { parseEndpoint } from "../../../src/rpc/endpoint.js";
import { captureLog } from "../../../lab/harness/log-capture.js";
import { csiClients, call } from "../../../lab/harness/csi-client.js";

const CHAP = "Chap-Secret-4711-xyz";
class VolumeGone extends Error {}

const captured = captureLog("debug");
let server: GrpcServer;
let dir: string;
let addr: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "rpc-"));
  const v1 = csiProto().csi.v1;
  server = new GrpcServer(captured.log);
  const impl = {
    NodeStageVolume: (req: { secrets: Record<string, string> }) => Promise.reject(new Error(`login with ${req.secrets["node.session.auth.password"]} refused`)),
    NodeUnstageVolume: () => Promise.reject(notFound("no such volume")),
    NodeGetVolumeStats: () => Promise.reject(new VolumeGone("gone")),
    NodeGetInfo: () => {
      throw new TypeError("sync throw");
    },
    NodeGetCapabilities: () => Promise.resolve({ capabilities: [] }),
  };
  server.addService(
    v1.Node.service,
    wrapService(v1.Node.service, impl, {
      log: captured.log,
      mapError: (e) => (e instanceof VolumeGone ? new StatusError(status.NOT_FOUND, "volume gone") : undefined),
    }),
  );
  await server.listen({ endpoint: parseEndpoint(`unix://${join(dir, "s.sock")}`) });
  addr = `unix:${join(dir, "s.sock")}`;
});

after(async () => {
  await server.stop(1000);
  await rm(dir, { recursive: true, force: true });
});

async function failure(method: string, req: unknown): Promise<ServiceError> {
  const c = csiClients(addr);
  try {
    return await call(c.node, method, req).then(
      () => assert.fail(`${method} should fail`),
      (e: ServiceError) => e,
    );
  } finally {
    c.close();
  }
}

test("a StatusError keeps its code and message", async () => {
  const e = await failure("NodeUnstageVolume", { volume_id: "v", staging_target_path: "/x" });
  assert.equal(e.code, status.NOT_FOUND);
  assert.equal(e.details, "no such volume");
});

test("a domain error is mapped by the service's mapper", async () => {
  const e = await failure("NodeGetVolumeStats", { volume_id: "v", volume_path: "/x" });
  assert.equal(e.code, status.NOT_FOUND);
});

test("an unexpected rejection or throw becomes INTERNAL", async () => {
  assert.equal((await failure("NodeGetInfo", {})).code, status.INTERNAL);
});

test("secrets in a request reach neither the logs nor the error sent back", async () => {
  const e = await failure("NodeStageVolume", {
    volume_id: "v1/block-test/pvc-1",
    staging_target_path: "/stage",
    secrets: { "node.session.auth.password": CHAP, "node.session.auth.username": "user" },
  });
  assert.equal(e.code, status.INTERNAL);
  assert.ok(!e.details.includes(CHAP), e.details);
  assert.ok(
    captured.lines.some((l) => l.includes('"method":"NodeStageVolume"')),
    "the call was logged",
  );
  assert.ok(!captured.text().includes(CHAP), "secret in logs");
});

test("every call is logged with a request id, its duration and code", async () => {
  const c = csiClients(addr);
  try {
    await call(c.node, "NodeGetCapabilities", {});
  } finally {
    c.close();
  }
  const resp = captured.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.method === "NodeGetCapabilities" && l.message === "response");
  assert.ok(resp);
  assert.equal(typeof resp.requestId, "string");
  assert.equal(typeof resp.durationMs, "number");
});

test("unimplemented methods answer UNIMPLEMENTED", async () => {
  assert.equal((await failure("NodeExpandVolume", { volume_id: "v", volume_path: "/x" })).code, status.UNIMPLEMENTED);
});
