// The controller's Probe: bounded in time, and "waiting" (a success with
// ready false, which the sidecars wait on) while no gluster-blockd answers,
// never an error that makes the sidecars exit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Metadata } from "@grpc/grpc-js";
import { controllerReadiness } from "../../../src/controller/plugin.js";
import { identityServer, type Readiness } from "../../../src/csi/identity-server.js";
import { StatusError } from "../../../src/rpc/errors.js";
import { nullLogger } from "../../../src/util/log.js";
import type { RpcContext } from "../../../src/rpc/rpc.js";

const ctx: RpcContext = { requestId: "r", method: "Probe", log: nullLogger, peer: "unix:test", outgoing: new Metadata(), signal: new AbortController().signal };

test("a blockd that connects: ready", async () => {
  assert.deepEqual(await controllerReadiness({ pick: () => Promise.resolve("10.0.0.1:24010") }), { ready: true });
});

test("no blockd reachable: waiting, with the reason", async () => {
  const r = await controllerReadiness({ pick: () => Promise.reject(new Error("no gluster-blockd reachable (10.0.0.1:24010)")) });
  assert.deepEqual(r, { ready: false, waiting: true, reason: "no gluster-blockd reachable (10.0.0.1:24010)" });
});

test("a pick that hangs: waiting within the budget, and the pick is told to stop", async () => {
  let aborted = false;
  const t0 = performance.now();
  const r = await controllerReadiness(
    {
      pick: (_prefer, caller) =>
        new Promise((_, reject) => {
          caller?.signal?.addEventListener("abort", () => {
            aborted = true;
            reject(new Error("cancelled"));
          });
        }),
    },
    200,
  );
  const ms = performance.now() - t0;
  assert.equal(r.ready, false);
  assert.equal(r.waiting, true);
  assert.match(r.reason ?? "", /no gluster-blockd answered within 0\.2 s/);
  assert.ok(ms < 2_000, `answered in ${ms.toFixed(0)} ms`);
  assert.ok(aborted, "the pick's signal fired");
});

const probe = (r: Readiness) => identityServer({ driverName: "d", capabilities: [], probe: () => Promise.resolve(r) }).Probe?.({}, ctx);

test("Probe: waiting answers ready false; a fault is FAILED_PRECONDITION", async () => {
  assert.deepEqual(await probe({ ready: true }), { ready: { value: true } });
  assert.deepEqual(await probe({ ready: false, waiting: true, reason: "x" }), { ready: { value: false } });
  await assert.rejects(
    probe({ ready: false, reason: "no mkfs.xfs" }) ?? Promise.resolve(),
    (e: unknown) => e instanceof StatusError && /not ready: no mkfs\.xfs/.test(e.message),
  );
});
