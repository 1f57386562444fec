import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status, type ServiceError } from "@grpc/grpc-js";
import { GrpcServer } from "../../../src/rpc/server.js";
import { csiProto } from "../../../src/rpc/proto.js";
import { wrapService } from "../../../src/rpc/rpc.js";
import { notFound } from "../../../src/rpc/errors.js";
import { parseEndpoint } from "../../../src/rpc/endpoint.js";
import { csiClients, call } from "../../../lab/harness/csi-client.js";
import { exec } from "../../../src/util/exec.js";
import { nullLogger } from "../../../src/util/log.js";
import {
  Metrics,
  MetricsAddressError,
  codeName,
  parseMetricsAddress,
  startMetricsServer,
  startProgramMetrics,
  type MetricsServer,
} from "../../../src/util/metrics.js";

/** the value of the sample `name` whose labels (besides the registry's component) are exactly `labels` */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = new Map([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x): [string, string] => [x[1] ?? "", x[2] ?? ""]));
    got.delete("component");
    if (got.size === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => got.get(k) === v)) return Number(m[3]);
  }
  return undefined;
}

describe("metrics endpoint", () => {
  let dir: string;
  let grpc: GrpcServer;
  let addr: string;
  let metrics: Metrics;
  let http: MetricsServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "metrics-"));
    metrics = new Metrics("test-program", { defaultMetrics: false });
    metrics.watchExec();
    http = await startMetricsServer(metrics, parseMetricsAddress("127.0.0.1:0"), nullLogger);
    const v1 = csiProto().csi.v1;
    grpc = new GrpcServer(nullLogger);
    const impl = {
      NodeGetCapabilities: () => Promise.resolve({ capabilities: [] }),
      NodeUnstageVolume: () => Promise.reject(notFound("no such volume")),
    };
    grpc.addService(v1.Node.service, wrapService(v1.Node.service, impl, { log: nullLogger, observer: metrics.rpcObserver }));
    await grpc.listen({ endpoint: parseEndpoint(`unix://${join(dir, "s.sock")}`) });
    addr = `unix:${join(dir, "s.sock")}`;
  });

  after(async () => {
    metrics.close();
    await http.close();
    await grpc.stop(1000);
    await rm(dir, { recursive: true, force: true });
  });

  const scrape = async (): Promise<string> => {
    const r = await fetch(`http://127.0.0.1:${http.port}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/plain/);
    return r.text();
  };

  test("counts RPCs by method and code, and their latency", async () => {
    const c = csiClients(addr);
    try {
      await call(c.node, "NodeGetCapabilities", {});
      await call(c.node, "NodeGetCapabilities", {});
      const err = await call(c.node, "NodeUnstageVolume", { volume_id: "v1/x/y", staging_target_path: "/tmp/s" }).then(
        () => assert.fail("should fail"),
        (e: ServiceError) => e,
      );
      assert.equal(err.code, status.NOT_FOUND);
    } finally {
      c.close();
    }
    const text = await scrape();
    assert.equal(sample(text, "gluster_block_rpc_calls_total", { method: "NodeGetCapabilities", code: "OK" }), 2);
    assert.equal(sample(text, "gluster_block_rpc_calls_total", { method: "NodeUnstageVolume", code: "NOT_FOUND" }), 1);
    assert.equal(sample(text, "gluster_block_rpc_duration_seconds_count", { method: "NodeGetCapabilities", code: "OK" }), 2);
  });

  test("counts exec runs by program base name and result", async () => {
    await exec(process.execPath, ["-e", "0"]);
    await assert.rejects(exec(process.execPath, ["-e", "process.exit(3)"]));
    const text = await scrape();
    const program = process.execPath.slice(process.execPath.lastIndexOf("/") + 1);
    assert.equal(sample(text, "gluster_block_exec_calls_total", { program, result: "ok" }), 1);
    assert.equal(sample(text, "gluster_block_exec_calls_total", { program, result: "error" }), 1);
    assert.equal(sample(text, "gluster_block_exec_duration_seconds_count", { program, result: "ok" }), 1);
  });

  test("gauges: volumes by state replace the picture; HA paths per volume", async () => {
    metrics.setVolumesByState({ healthy: 3, degraded: 1 });
    metrics.setVolumesByState({ healthy: 4 });
    metrics.setHaPathsUp("pvc-1", 3);
    metrics.setHaPathsUp("pvc-2", 1);
    metrics.forgetVolume("pvc-2");
    const text = await scrape();
    assert.equal(sample(text, "gluster_block_volumes", { state: "healthy" }), 4);
    assert.equal(sample(text, "gluster_block_volumes", { state: "degraded" }), undefined);
    assert.equal(sample(text, "gluster_block_ha_paths_up", { volume: "pvc-1" }), 3);
    assert.equal(sample(text, "gluster_block_ha_paths_up", { volume: "pvc-2" }), undefined);
  });

  test("/healthz answers 200; other paths 404", async () => {
    assert.equal((await fetch(`http://127.0.0.1:${http.port}/healthz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${http.port}/nope`)).status, 404);
  });
});

test("exec counts stop after close", async () => {
  const m = new Metrics("closing", { defaultMetrics: false });
  m.watchExec();
  m.close();
  await exec(process.execPath, ["-e", "0"]);
  assert.doesNotMatch(await m.registry.metrics(), /gluster_block_exec_calls_total\{/);
});

test("metrics addresses", () => {
  assert.deepEqual(parseMetricsAddress(":9822"), { host: "0.0.0.0", port: 9822 });
  assert.deepEqual(parseMetricsAddress("127.0.0.1:0"), { host: "127.0.0.1", port: 0 });
  assert.deepEqual(parseMetricsAddress("[::1]:9822"), { host: "::1", port: 9822 });
  for (const bad of ["9822", "host:", ":99999", "a:b:1", ""]) assert.throws(() => parseMetricsAddress(bad), MetricsAddressError, bad);
  assert.equal(codeName(status.DEADLINE_EXCEEDED), "DEADLINE_EXCEEDED");
  assert.equal(codeName(99), "99");
});

test("startProgramMetrics is off without an address", async () => {
  assert.equal(await startProgramMetrics(undefined, "p", nullLogger), undefined);
  assert.equal(await startProgramMetrics("", "p", nullLogger), undefined);
  const on = await startProgramMetrics("127.0.0.1:0", "p", nullLogger);
  assert.ok(on);
  try {
    assert.match(await (await fetch(`http://127.0.0.1:${on.server.port}/metrics`)).text(), /gluster_block_rpc_calls_total/);
  } finally {
    on.metrics.close();
    await on.server.close();
  }
});
