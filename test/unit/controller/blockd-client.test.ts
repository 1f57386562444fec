// The controller's BlockdClient waits for a channel to connect before it
// calls (a node that is down costs a connect timeout, not a failed
// operation); that wait ends when the CSI call is cancelled. The blockd here
// accepts TCP connections and never speaks HTTP/2, so a channel to it stays
// CONNECTING until the connect timeout.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { status } from "@grpc/grpc-js";
import { BlockdClient } from "../../../src/controller/blockd-client.js";
import { StaticDiscovery } from "../../../src/controller/discovery.js";
import { StatusError } from "../../../src/rpc/errors.js";
import { nullLogger } from "../../../src/util/log.js";

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
