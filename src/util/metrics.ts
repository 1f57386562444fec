// Prometheus metrics for the three programs: one registry per program, RPC
// counts and latency by method and code (fed by WrapOptions.observer), the
// latency of every external program (fed by observeExec), and the volume
// gauges the controller's health check sets. Served on /metrics over plain HTTP; the
// address is a flag and off unless given, since the node plugin and blockd
// run on the host network where every port is the host's.
import { status } from "@grpc/grpc-js";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { observeExec } from "./exec.js";
import type { Logger } from "./log.js";
import { answerText, parseHttpAddress, serveHttp, type HttpAddress, type HttpEndpoint } from "./http-endpoint.js";

// seconds: CSI calls range from a millisecond (Probe) to minutes (a create with prealloc)
const RPC_BUCKETS = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const EXEC_BUCKETS = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** the name of a gRPC status code ("OK", "NOT_FOUND"), or its number when unknown */
export function codeName(code: number): string {
  const name = (status as unknown as Record<number, string | undefined>)[code];
  return typeof name === "string" ? name : String(code);
}

export class Metrics {
  readonly registry = new Registry();
  private readonly rpcCalls: Counter<"method" | "code">;
  private readonly rpcSeconds: Histogram<"method" | "code">;
  private readonly execCalls: Counter<"program" | "result">;
  private readonly execSeconds: Histogram<"program" | "result">;
  private readonly volumes: Gauge<"state">;
  private readonly haPaths: Gauge<"volume">;
  private unobserveExec: (() => void) | undefined;

  constructor(component: string, opts: { defaultMetrics?: boolean } = {}) {
    // "component", not "program": exec metrics already label by the program run
    this.registry.setDefaultLabels({ component });
    const registers = [this.registry];
    this.rpcCalls = new Counter({
      name: "gluster_block_rpc_calls_total",
      help: "gRPC calls served, by method and status code",
      labelNames: ["method", "code"],
      registers,
    });
    this.rpcSeconds = new Histogram({
      name: "gluster_block_rpc_duration_seconds",
      help: "gRPC call latency, by method and status code",
      labelNames: ["method", "code"],
      buckets: RPC_BUCKETS,
      registers,
    });
    this.execCalls = new Counter({
      name: "gluster_block_exec_calls_total",
      help: "external program runs (targetcli, iscsiadm, multipath, gluster, mkfs, ...), by program and result",
      labelNames: ["program", "result"],
      registers,
    });
    this.execSeconds = new Histogram({
      name: "gluster_block_exec_duration_seconds",
      help: "external program run time, by program and result",
      labelNames: ["program", "result"],
      buckets: EXEC_BUCKETS,
      registers,
    });
    this.volumes = new Gauge({
      name: "gluster_block_volumes",
      help: "block volumes by state (ready, degraded, creating, deleting, unreadable), as the controller's health check last counted them",
      labelNames: ["state"],
      registers,
    });
    this.haPaths = new Gauge({
      name: "gluster_block_ha_paths_up",
      help: "HA hosts serving each volume (exported, and their LIO holding what the journal asks for), by volume ID, as the controller's health check last saw them",
      labelNames: ["volume"],
      registers,
    });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** pass as WrapOptions.observer */
  /** Fed by the RPC wrapper (its RpcObserver): one call served. */
  readonly rpcObserver = (method: string, code: status, durationMs: number): void => {
    const labels = { method, code: codeName(code) };
    this.rpcCalls.inc(labels);
    this.rpcSeconds.observe(labels, durationMs / 1000);
  };

  /** starts counting every exec() of this process; idempotent */
  watchExec(): void {
    this.unobserveExec ??= observeExec((file, durationMs, ok) => {
      // the program's base name: a label per path would split /usr/sbin/iscsiadm from iscsiadm
      const labels = { program: file.slice(file.lastIndexOf("/") + 1), result: ok ? "ok" : "error" };
      this.execCalls.inc(labels);
      this.execSeconds.observe(labels, durationMs / 1000);
    });
  }

  /** replaces the whole volumes-by-state picture (states not named drop to absent) */
  setVolumesByState(counts: Readonly<Record<string, number>>): void {
    this.volumes.reset();
    for (const [state, n] of Object.entries(counts)) this.volumes.set({ state }, n);
  }

  setHaPathsUp(volume: string, up: number): void {
    this.haPaths.set({ volume }, up);
  }

  /** a volume gone: its series goes too, so dashboards do not show stale paths */
  forgetVolume(volume: string): void {
    this.haPaths.remove({ volume });
  }

  close(): void {
    this.unobserveExec?.();
    this.unobserveExec = undefined;
  }
}

export { HttpAddressError as MetricsAddressError } from "./http-endpoint.js";
export type MetricsServer = HttpEndpoint;

/** ":9822", "0.0.0.0:9822", "127.0.0.1:0", "[::1]:9822" */
export const parseMetricsAddress = parseHttpAddress;

/** Serves /metrics (Prometheus text) and /healthz (200 while the process runs). */
export function startMetricsServer(metrics: Metrics, address: HttpAddress, log: Logger): Promise<MetricsServer> {
  return serveHttp(
    {
      "/metrics": (res) => {
        metrics.registry.metrics().then(
          (body) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(body),
          (err: unknown) => {
            log.warn("metrics collection failed", { error: err instanceof Error ? err.message : String(err) });
            answerText(res, 500, "metrics collection failed\n");
          },
        );
      },
      "/healthz": (res) => answerText(res, 200, "ok\n"),
    },
    address,
    log,
    "metrics endpoint",
  );
}

/**
 * The programs' one call: no address, no metrics (undefined); else a registry
 * that already counts exec() runs, served on `address`.
 */
export async function startProgramMetrics(
  address: string | undefined,
  component: string,
  log: Logger,
): Promise<{ metrics: Metrics; server: MetricsServer } | undefined> {
  if (address === undefined || address === "") return undefined;
  const parsed = parseMetricsAddress(address);
  const metrics = new Metrics(component);
  metrics.watchExec();
  const server = await startMetricsServer(metrics, parsed, log);
  return { metrics, server };
}
