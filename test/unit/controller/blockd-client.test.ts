// The controller's BlockdClient waits for a channel to connect before it
// calls (a node that is down costs a connect timeout, not a failed
// operation); that wait ends when the CSI call is cancelled. The blockd here
// accepts TCP connections and never speaks HTTP/2, so a channel to it stays
// CONNECTING until the connect timeout.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { status } from "@grpc/grpc-js";
import { BlockdClient } from "../../../src/controller/blockd-client.js";
import { StaticDiscovery } from "../../../src/controller/discovery.js";
import { StatusError } from "../../../src/rpc/errors.js";
import { nullLogger, type Logger } from "../../../src/util/log.js";

let silent: Server;
let endpoint: string;
const sockets: Socket[] = [];
let accepted = 0;

before(async () => {
  silent = createServer((s) => {
    accepted++;
    sockets.push(s);
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const a = silent.address();
  assert.ok(a && typeof a === "object");
  endpoint = `127.0.0.1:${a.port}`;
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

/** A client whose connect wait, uncancelled, would outlast the test's patience many times. */
function client(connectTimeoutMs = 20_000): BlockdClient {
  return new BlockdClient({ discovery: new StaticDiscovery([endpoint]), log: nullLogger, connectTimeoutMs });
}

const REQ = { volume: "hv", block: "b1" };

async function cancelledAfter(ms: number, run: (signal: AbortSignal) => Promise<unknown>): Promise<{ err: unknown; tookMs: number }> {
  const ac = new AbortController();
  const started = Date.now();
  const pending = run(ac.signal).then(
    () => undefined,
    (e: unknown) => e,
  );
  setTimeout(() => ac.abort(new Error("cancelled by the caller")), ms);
  const err = await pending;
  return { err, tookMs: Date.now() - started };
}

test("uncancelled, the wait for a channel that never connects lasts the connect timeout: UNAVAILABLE", async () => {
  const c = client(300);
  try {
    const before = accepted;
    await assert.rejects(
      c.call(endpoint, "GetBlock", REQ),
      (e: unknown) => e instanceof StatusError && e.code === status.UNAVAILABLE && /does not connect/.test(e.message),
    );
    assert.ok(accepted > before, "the channel reached the server's socket and stayed connecting");
  } finally {
    c.close();
  }
});

test("a call cancelled while its channel connects stops waiting at once, as a cancelled blockd call", async () => {
  const c = client();
  try {
    const { err, tookMs } = await cancelledAfter(200, (signal) => c.call(endpoint, "GetBlock", REQ, { signal }));
    assert.ok(err instanceof StatusError, String(err));
    assert.equal(err.code, status.ABORTED, err.message);
    assert.match(err.message, /GetBlock not sent: the caller cancelled/);
    assert.ok(tookMs < 3_000, `took ${tookMs} ms, not the 20 s connect timeout`);
  } finally {
    c.close();
  }
});

test("any(): picking an endpoint stops when the caller cancels", async () => {
  const c = client();
  try {
    const { err, tookMs } = await cancelledAfter(200, (signal) => c.any("GetBlock", REQ, { signal }));
    assert.ok(err instanceof StatusError, String(err));
    assert.equal(err.code, status.ABORTED, err.message);
    assert.match(err.message, /not sent: the caller cancelled/);
    assert.ok(tookMs < 3_000, `took ${tookMs} ms, not the 20 s connect timeout`);
  } finally {
    c.close();
  }
});

test("a call already cancelled does not wait for the channel", async () => {
  const c = client();
  try {
    const ac = new AbortController();
    ac.abort();
    const started = Date.now();
    await assert.rejects(c.call(endpoint, "GetBlock", REQ, { signal: ac.signal }), (e: unknown) => e instanceof StatusError && e.code === status.ABORTED);
    assert.ok(Date.now() - started < 1_000);
  } finally {
    c.close();
  }
});

test("no endpoint connects within the connect timeout: one longer wait takes the first that connects (a loaded node's slow handshake)", async () => {
  // a gRPC server behind a proxy that holds each connection 2 s before passing it on: past the 200 ms connect timeout
  const { Server, ServerCredentials } = await import("@grpc/grpc-js");
  const grpcServer = new Server();
  const port = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const held: Socket[] = [];
  const slow = createServer((inbound) => {
    held.push(inbound);
    setTimeout(() => {
      const outbound = createConnection(port, "127.0.0.1");
      held.push(outbound);
      inbound.pipe(outbound).pipe(inbound);
    }, 2_000);
  });
  await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
  const a = slow.address();
  assert.ok(a && typeof a === "object");
  const slowEndpoint = `127.0.0.1:${a.port}`;
  const said: string[] = [];
  const log: Logger = { ...nullLogger, warn: (m) => said.push(m), info: (m) => said.push(m), child: () => log };
  const c = new BlockdClient({ discovery: new StaticDiscovery([slowEndpoint]), log, connectTimeoutMs: 200, patientConnectTimeoutMs: 5_000 });
  const quick = new BlockdClient({ discovery: new StaticDiscovery([slowEndpoint]), log: nullLogger, connectTimeoutMs: 200, patientConnectTimeoutMs: 300 });
  try {
    // first (grpc-js shares a connected subchannel between clients of one address): a longer wait too short still fails
    await assert.rejects(
      quick.pick(),
      (e: unknown) => e instanceof StatusError && e.code === status.UNAVAILABLE && /no gluster-blockd reachable/.test(e.message),
    );
    assert.equal(await c.pick(), slowEndpoint);
    assert.deepEqual(said, ["gluster-blockd endpoint does not connect; trying the next", "gluster-blockd endpoint connected after a longer wait"]);
  } finally {
    c.close();
    quick.close();
    for (const s of held) s.destroy();
    await new Promise<void>((resolve) => slow.close(() => resolve()));
    grpcServer.forceShutdown();
  }
});
