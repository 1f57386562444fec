// The controller program: CSI Identity + Controller services for the
// provisioner, attacher and resizer sidecars, over gluster-blockd.
import { GrpcServer } from "../rpc/server.js";
import { stopOnSignalsFn } from "../rpc/signals.js";
import { csiProto } from "../rpc/proto.js";
import { wrapService, type RpcObserver } from "../rpc/rpc.js";
import { identityServer, controllerPluginCapabilities, type Readiness } from "../csi/identity-server.js";
import type { ParsedFlags } from "../util/flags.js";
import type { Endpoint } from "../rpc/endpoint.js";
import type { Logger } from "../util/log.js";
import { controllerConfig, type ControllerConfig } from "./config.js";
import { buildController } from "./build-controller.js";
import { controllerService } from "./controller-service.js";
import { controllerErrorMap } from "./errors.js";
import type { BlockdClient } from "./blockd-client.js";
import type { KubeApi } from "./kube-api.js";
import type { ControllerDeps } from "./deps.js";
import { HealthMonitor, type HealthGauges } from "./health-monitor.js";

export interface ControllerPluginOptions {
  endpoint: Endpoint;
  driverName: string;
  log: Logger;
  flags: ParsedFlags;
  /** metrics: sees every RPC */
  observer?: RpcObserver;
  /** metrics: the volume gauges the health check sets */
  gauges?: HealthGauges;
}

/**
 * Ready when at least one gluster-blockd connects within `budgetMs`, which
 * stays under the liveness probe's own timeout (10 s). None reachable is
 * "waiting", not an error: the controller is healthy, and the sidecars,
 * which exit on a Probe error, wait for a ready answer instead.
 */
export async function controllerReadiness(blockd: Pick<BlockdClient, "pick">, budgetMs = 5_000): Promise<Readiness> {
  const budget = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no gluster-blockd answered within ${budgetMs / 1000} s`));
      budget.abort();
    }, budgetMs);
  });
  try {
    await Promise.race([blockd.pick([], { signal: budget.signal }), timedOut]);
    return { ready: true };
  } catch (err) {
    return { ready: false, waiting: true, reason: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

export interface RunningController {
  server: GrpcServer;
  address: string;
  /** the periodic volume health check (started unless its interval is 0) */
  health: HealthMonitor;
  /** what the services are built from (tests look at its parts) */
  deps: ControllerDeps;
  stop(): Promise<void>;
}

/** Serves Identity + Controller on `endpoint`; for the program and for tests. */
export async function serveController(
  cfg: ControllerConfig,
  endpoint: Endpoint,
  log: Logger,
  overrides: { kube?: KubeApi; observer?: RpcObserver; gauges?: HealthGauges } = {},
): Promise<RunningController> {
  const observe = overrides.observer ? { observer: overrides.observer } : {};
  const built = await buildController(cfg, log, overrides);
  const csi = csiProto().csi.v1;
  const server = new GrpcServer(log);
  server.addService(
    csi.Identity.service,
    wrapService(
      csi.Identity.service,
      identityServer({
        driverName: cfg.driverName,
        capabilities: controllerPluginCapabilities(built.deps.topology !== undefined),
        probe: () => controllerReadiness(built.deps.blockd),
      }),
      { log, quietMethods: ["Probe"], ...observe },
    ),
  );
  server.addService(
    csi.Controller.service,
    wrapService(csi.Controller.service, controllerService(built.deps), { log, mapError: controllerErrorMap, ...observe }),
  );
  const address = await server.listen({ endpoint });
  const health = new HealthMonitor(built.deps, { intervalMs: cfg.healthIntervalMs, log, ...(overrides.gauges ? { gauges: overrides.gauges } : {}) });
  health.start();
  return {
    server,
    address,
    health,
    deps: built.deps,
    async stop() {
      await health.stop();
      await server.stop();
      built.close();
    },
  };
}

export async function startControllerPlugin(opts: ControllerPluginOptions): Promise<GrpcServer> {
  const running = await serveController(controllerConfig(opts.flags, opts.driverName), opts.endpoint, opts.log, {
    ...(opts.observer ? { observer: opts.observer } : {}),
    ...(opts.gauges ? { gauges: opts.gauges } : {}),
  });
  stopOnSignalsFn(() => running.stop(), opts.log);
  return running.server;
}
