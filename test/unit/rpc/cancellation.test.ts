// A caller's cancellation through the RPC kit: wrapUnary turns the client's
// cancel (or its deadline passing) into the handler's RpcContext.signal, which
// ends the programs the handler runs through exec; unary() cancels its
// outgoing call when its own signal fires. Real gRPC on a unix socket.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { status } from "@grpc/grpc-js";
import { GrpcServer } from "../../../src/rpc/server.js";
import { csiProto } from "../../../src/rpc/proto.js";
import { wrapService, type RpcContext } from "../../../src/rpc/rpc.js";
import { unary } from "../../../src/rpc/unary-client.js";
import { parseEndpoint } from "../../../src/rpc/endpoint.js";
import { exec, ExecCancelledError } from "../../../src/util/exec.js";
import { nullLogger } from "../../../src/util/log.js";
import { csiClients } from "../../../lab/harness/csi-client.js";

let server: GrpcServer;
let dir: string;
let clients: ReturnType<typeof csiClients>;
/** what each finished call ended with, as the server saw it */
const ended: { method: string; code: status }[] = [];
/** the error the handler's exec rejected with */
let execError: unknown;
/** the signal of the last NodeGetCapabilities call */
let answeredSignal: AbortSignal | undefined;
/** resolves when a NodeUnstageVolume handler's signal fires */
let unstageCancelled: Promise<void> = Promise.resolve();
let unstageCalls = 0;

const pidFile = (): string => join(dir, "pid");

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "rpc-cancel-"));
  const v1 = csiProto().csi.v1;
  server = new GrpcServer(nullLogger);
  const impl = {
    // a handler that runs a long program with the caller's signal
    async NodeStageVolume(_req: unknown, ctx: RpcContext) {
      try {
        await exec("sh", ["-c", `echo $$ > ${pidFile()}; exec sleep 30`], { signal: ctx.signal, timeoutMs: 60_000 });
      } catch (err) {
        execError = err;
        throw err;
      }
      return {};
    },
    // a handler that answers at once
    NodeGetCapabilities(_req: unknown, ctx: RpcContext) {
      answeredSignal = ctx.signal;
      return Promise.resolve({ capabilities: [] });
    },
    // a handler that waits for its cancellation
    NodeUnstageVolume(_req: unknown, ctx: RpcContext) {
      unstageCalls++;
      unstageCancelled = new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
      return unstageCancelled.then(() => ({}));
    },
  };
  server.addService(v1.Node.service, wrapService(v1.Node.service, impl, { log: nullLogger, observer: (method, code) => ended.push({ method, code }) }));
  await server.listen({ endpoint: parseEndpoint(`unix://${join(dir, "s.sock")}`) });
  clients = csiClients(`unix:${join(dir, "s.sock")}`);
});

after(async () => {
  clients.close();
  await server.stop(1000);
  await rm(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function childPid(): Promise<number> {
  for (let i = 0; i < 300; i++) {
    const text = await readFile(pidFile(), "utf8").catch(() => "");
    if (/^\d+\n/.test(text)) return Number(text.trim());
    await delay(10);
  }
  throw new Error("the handler's child never started");
}

async function endedWith(method: string): Promise<status> {
  for (let i = 0; i < 300; i++) {
    const e = ended.find((x) => x.method === method);
    if (e) return e.code;
    await delay(10);
  }
  throw new Error(`${method} never finished on the server`);
}

test("a call its client cancels ends the program its handler runs, and ends CANCELLED", async () => {
  ended.length = 0;
  execError = undefined;
  await rm(pidFile(), { force: true });
  const ac = new AbortController();
  const started = Date.now();
  const call = unary(clients.node, "NodeStageVolume", {}, { timeoutMs: 60_000, signal: ac.signal }).catch((e: unknown) => e);
  const pid = await childPid();
  assert.ok(alive(pid));
  ac.abort();
  assert.equal(((await call) as { code?: number }).code, status.CANCELLED, "the client sees its own cancellation");
  assert.equal(await endedWith("NodeStageVolume"), status.CANCELLED);
  assert.ok(execError instanceof ExecCancelledError, `the handler's exec rejected with ${String(execError)}`);
  assert.match(execError.message, /cancelled by the caller/);
  assert.equal(alive(pid), false, "the program is gone");
  assert.ok(Date.now() - started < 10_000, "not the program's 30 s");
});

test("a call whose deadline passes ends the program its handler runs, and ends DEADLINE_EXCEEDED", async () => {
  ended.length = 0;
  execError = undefined;
  await rm(pidFile(), { force: true });
  const call = unary(clients.node, "NodeStageVolume", {}, { timeoutMs: 500 }).catch((e: unknown) => e);
  const pid = await childPid();
  assert.equal(((await call) as { code?: number }).code, status.DEADLINE_EXCEEDED);
  assert.equal(await endedWith("NodeStageVolume"), status.DEADLINE_EXCEEDED);
  assert.ok(execError instanceof ExecCancelledError, `the handler's exec rejected with ${String(execError)}`);
  assert.match(execError.message, /deadline passed/);
  for (let i = 0; i < 100 && alive(pid); i++) await delay(20);
  assert.equal(alive(pid), false, "the program is gone");
});

test("an answered call's signal never fires (grpc-js says cancelled after every answer)", async () => {
  answeredSignal = undefined;
  await unary(clients.node, "NodeGetCapabilities", {}, { timeoutMs: 5_000 });
  await delay(100);
  const signal = answeredSignal as AbortSignal | undefined;
  assert.ok(signal, "the handler ran");
  assert.equal(signal.aborted, false);
});

test("unary() with a signal cancels its outgoing call: the server's handler sees its own signal fire", async () => {
  const ac = new AbortController();
  const before = unstageCalls;
  const call = unary(clients.node, "NodeUnstageVolume", {}, { timeoutMs: 30_000, signal: ac.signal }).catch((e: unknown) => e);
  for (let i = 0; i < 300 && unstageCalls === before; i++) await delay(10);
  ac.abort();
  assert.equal(((await call) as { code?: number }).code, status.CANCELLED);
  await Promise.race([unstageCancelled, delay(5_000).then(() => assert.fail("the server's handler was not cancelled"))]);
});

test("unary() with a signal already fired sends nothing", async () => {
  const before = unstageCalls;
  const err = await unary(clients.node, "NodeUnstageVolume", {}, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
  assert.equal((err as { code?: number }).code, status.CANCELLED);
  await delay(100);
  assert.equal(unstageCalls, before, "the server saw no call");
});
