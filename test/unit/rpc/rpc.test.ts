import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status, type ServiceError } from "@grpc/grpc-js";
import { GrpcServer } from "../../../src/rpc/server.js";
import { csiProto } from "../../../src/rpc/proto.js";
import { wrapService, type RpcContext } from "../../../src/rpc/rpc.js";
import { StatusError, notFound } from "../../../src/rpc/errors.js";
import { parseEndpoint } from "../../../src/rpc/endpoint.js";
import { addCallSecrets, processSecrets, secretsInForce } from "../../../src/util/secrets.js";
import { BlockNotFoundError } from "../../../src/glusterblock/errors.js";
import { blockErrorToCsi } from "../../../src/glusterblock/blockd/error-map.js";
import { iqnFor } from "../../../src/identity/names.js";
import { captureLog } from "../../../lab/harness/log-capture.js";
import { csiClients, call } from "../../../lab/harness/csi-client.js";

const CHAP = "Chap-Secret-4711-xyz";
class VolumeGone extends Error {}

interface StageRequest {
  volume_id: string;
  secrets: Record<string, string>;
  volume_context: Record<string, string>;
}

/** The password a stage request carries, under either key the tests use. */
const passwordOf = (req: StageRequest): string => req.secrets.password ?? req.secrets["node.session.auth.password"] ?? "";

/** What each NodeGetVolumeStats call saw in force, by volume id: a made-up secret it registered, and whether it was scrubbable then. */
const seenInCall = new Map<string, boolean>();

const captured = captureLog("debug");
let server: GrpcServer;
let dir: string;
let addr: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "rpc-"));
  const v1 = csiProto().csi.v1;
  server = new GrpcServer(captured.log);
  const impl = {
    // as the node's stager does: it logs the target it logs in to, and iscsiadm's error may echo the password
    NodeStageVolume: (req: StageRequest, ctx: RpcContext) => {
      ctx.log.info("logging in", { gbid: req.volume_context.gbid, iqn: req.volume_context.iqn, detail: `iscsiadm -v ${passwordOf(req)}` });
      return Promise.reject(new Error(`login with ${passwordOf(req)} refused`));
    },
    NodeUnstageVolume: () => Promise.reject(notFound("no such volume")),
    NodeUnpublishVolume: (req: { volume_id: string }) => Promise.reject(new BlockNotFoundError("block-test", req.volume_id)),
    NodePublishVolume: () => Promise.resolve({}),
    // as the engine does with a password it reads or makes: registered for the call, then in an error
    NodeGetVolumeStats: (req: { volume_id: string }) => {
      if (req.volume_id === "gone") return Promise.reject(new VolumeGone("gone"));
      const made = `made-${req.volume_id}`;
      addCallSecrets(made);
      seenInCall.set(req.volume_id, secretsInForce().includes(made));
      return Promise.reject(new Error(`password ${made} rejected`));
    },
    NodeGetInfo: () => {
      throw new TypeError("sync throw");
    },
    NodeGetCapabilities: () => Promise.resolve({ capabilities: [] }),
  };
  server.addService(
    v1.Node.service,
    wrapService(v1.Node.service, impl, {
      log: captured.log,
      mapError: (e) => (e instanceof VolumeGone ? new StatusError(status.NOT_FOUND, "volume gone", { cause: e }) : blockErrorToCsi(e)),
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
  const e = await failure("NodeGetVolumeStats", { volume_id: "gone", volume_path: "/x" });
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

type Line = Record<string, unknown> & { message?: string; method?: string; level?: string; requestId?: string };
const parsed = (from = 0): Line[] => captured.lines.slice(from).map((l) => JSON.parse(l) as Line);

async function ok(method: string, req: unknown): Promise<void> {
  const c = csiClients(addr);
  try {
    await call(c.node, method, req);
  } finally {
    c.close();
  }
}

test("the CHAP username (the GBID) stays readable in the call's own lines and in later calls; the password shows nowhere", async () => {
  const gbid = randomUUID();
  const iqn = iqnFor(gbid);
  const password = `pw-${randomUUID()}`;
  const volumeContext = { gbid, iqn, portals: "10.0.0.1:3260" };
  const from = captured.lines.length;
  const e = await failure("NodeStageVolume", {
    volume_id: `v1/block-test/pvc-${gbid}`,
    staging_target_path: "/stage",
    secrets: { username: gbid, password },
    volume_context: volumeContext,
  });
  await ok("NodePublishVolume", {
    volume_id: `v1/block-test/pvc-${gbid}`,
    staging_target_path: "/stage",
    target_path: "/target",
    volume_context: volumeContext,
  });
  const lines = parsed(from);
  const inStage = lines.find((l) => l.method === "NodeStageVolume" && l.message === "logging in");
  assert.ok(inStage, "the stage logged its target");
  assert.equal(inStage.gbid, gbid, "the GBID in clear in the stage's own line");
  assert.equal(inStage.iqn, iqn, "the IQN in clear in the stage's own line");
  assert.equal(inStage.detail, "iscsiadm -v ***", "the password scrubbed from the stage's own line");
  const later = lines.find((l) => l.method === "NodePublishVolume" && l.message === "request");
  assert.ok(later, "the later call was logged");
  const context = (later.request as { volume_context?: Record<string, string> }).volume_context;
  assert.deepEqual(context, volumeContext, "the GBID and the IQN in clear in a later call's line");
  assert.ok(!captured.text().includes(password), "the password in a log line");
  assert.ok(!e.details.includes(password), `the password in the error: ${e.details}`);
  assert.match(e.details, /login with \*\*\* refused/);
});

test("a secret a handler registers is scrubbed from its call's lines and error, and forgotten when the call ends", async () => {
  const e = await failure("NodeGetVolumeStats", { volume_id: "vol-4242", volume_path: "/x" });
  assert.equal(seenInCall.get("vol-4242"), true, "in force during the call");
  assert.ok(!e.details.includes("made-vol-4242"), e.details);
  assert.ok(!captured.text().includes("made-vol-4242"), "in a log line of the call");
  assert.ok(!secretsInForce().includes("made-vol-4242"), "still in force after the call");
});

test("1000 calls with distinct passwords leave no secret registered once they end", async () => {
  const before = [...processSecrets];
  const passwords = Array.from({ length: 1000 }, (_, i) => `pw-${i}-${randomUUID()}`);
  for (let i = 0; i < passwords.length; i += 100) {
    await Promise.all(
      passwords.slice(i, i + 100).map((password, j) =>
        failure("NodeStageVolume", {
          volume_id: `v1/block-test/pvc-${i + j}`,
          staging_target_path: "/stage",
          secrets: { username: "someone", password },
          volume_context: {},
        }),
      ),
    );
  }
  assert.deepEqual([...processSecrets], before, "the process's own secrets unchanged");
  assert.deepEqual(secretsInForce(), before, "nothing of the calls is in force after them");
  // an unrelated line outside the calls is left as it is: the calls' values no longer scrub it
  const from = captured.lines.length;
  captured.log.info("outside any call", { text: passwords[0] });
  assert.equal(parsed(from)[0]?.text, passwords[0]);
});

test("an expected failure is one line without a stack, at info or warn; an unexpected one keeps its stack, at error", async () => {
  const from = captured.lines.length;
  const e = await failure("NodeUnpublishVolume", { volume_id: "pvc-nope", target_path: "/t" });
  assert.equal(e.code, status.NOT_FOUND);
  assert.equal((await failure("NodeGetVolumeStats", { volume_id: "gone", volume_path: "/x" })).code, status.NOT_FOUND);
  assert.equal((await failure("NodeGetInfo", {})).code, status.INTERNAL);
  const failed = parsed(from).filter((l) => l.message === "failed");
  const byMethod = (m: string): Line => {
    const l = failed.find((x) => x.method === m);
    assert.ok(l, `${m} logged its failure`);
    return l;
  };
  for (const m of ["NodeUnpublishVolume", "NodeGetVolumeStats"]) {
    const l = byMethod(m);
    assert.ok(l.level === "info" || l.level === "warn", `${m} at ${l.level}`);
    assert.ok(!JSON.stringify(l).includes("    at "), `a stack in ${JSON.stringify(l)}`);
  }
  assert.equal(byMethod("NodeUnpublishVolume").cause, "BlockNotFoundError: block block-test/pvc-nope doesn't exist");
  const internal = byMethod("NodeGetInfo");
  assert.equal(internal.level, "error");
  assert.match(String(internal.cause), /^TypeError: sync throw\n {4}at /);
});
