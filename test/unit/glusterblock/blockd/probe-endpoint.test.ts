import { test } from "node:test";
import assert from "node:assert/strict";
import { serveProbes } from "../../../../src/glusterblock/blockd/probe-endpoint.js";
import { parseHttpAddress } from "../../../../src/util/http-endpoint.js";
import { nullLogger } from "../../../../src/util/log.js";

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const get = async (port: number, path: string, method = "GET"): Promise<{ code: number; body: string }> => {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { code: r.status, body: await r.text() };
};

test("/readyz is 503 while the start-up reconcile runs and 200 once it is over; /healthz is 200 throughout", async () => {
  const reconcile = deferred();
  const probes = await serveProbes(parseHttpAddress("127.0.0.1:0"), reconcile.promise, nullLogger);
  try {
    assert.deepEqual(await get(probes.port, "/healthz"), { code: 200, body: "ok\n" });
    const before = await get(probes.port, "/readyz");
    assert.equal(before.code, 503);
    assert.match(before.body, /reconciling this node's LIO/);
    reconcile.resolve();
    await reconcile.promise;
    assert.deepEqual(await get(probes.port, "/readyz"), { code: 200, body: "ok\n" });
    assert.deepEqual(await get(probes.port, "/healthz"), { code: 200, body: "ok\n" });
  } finally {
    await probes.close();
  }
});

test("a start-up reconcile that failed still ends the wait: the failure is in the log and the audit", async () => {
  const reconcile = deferred();
  const probes = await serveProbes(parseHttpAddress("127.0.0.1:0"), reconcile.promise, nullLogger);
  try {
    assert.equal((await get(probes.port, "/readyz")).code, 503);
    reconcile.reject(new Error("glusterd down"));
    await reconcile.promise.catch(() => undefined);
    assert.equal((await get(probes.port, "/readyz")).code, 200);
  } finally {
    await probes.close();
  }
});

test("other paths are 404 naming the two, other methods 405", async () => {
  const probes = await serveProbes(parseHttpAddress("127.0.0.1:0"), Promise.resolve(), nullLogger);
  try {
    assert.deepEqual(await get(probes.port, "/metrics"), { code: 404, body: "not found: try /healthz or /readyz\n" });
    assert.equal((await get(probes.port, "/readyz", "POST")).code, 405);
  } finally {
    await probes.close();
  }
});
