// The controller program: CSI Identity + Controller services for the
// provisioner, attacher and resizer sidecars.
import { connect } from "node:net";
import { GrpcServer } from "../csi/server.js";
import { stopOnSignalsFn } from "../csi/signals.js";
import { csiProto } from "../csi/proto.js";
import { wrapService } from "../csi/rpc.js";
import { identityServer, CONTROLLER_PLUGIN_CAPABILITIES, type Readiness } from "../csi/identity-server.js";
import { strList, UsageError, type ParsedFlags } from "../util/flags.js";
import { parseEndpoint } from "../csi/endpoint.js";
import type { Endpoint } from "../csi/endpoint.js";
import type { Logger } from "../util/log.js";

export interface ControllerPluginOptions {
  endpoint: Endpoint;
  driverName: string;
  log: Logger;
  flags: ParsedFlags;
}

function tcpReachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: host.replace(/^\[|\]$/g, ""), port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

/** Ready when at least one gluster-blockd answers on its port. */
export async function controllerReadiness(blockd: Endpoint[]): Promise<Readiness> {
  if (blockd.length === 0) return { ready: false, reason: "no gluster-blockd endpoint is configured" };
  for (const e of blockd) if (e.kind === "tcp" && (await tcpReachable(e.host, e.port, 2_000))) return { ready: true };
  return { ready: false, reason: `no gluster-blockd reachable at ${blockd.map((e) => (e.kind === "tcp" ? `${e.host}:${e.port}` : e.path)).join(", ")}` };
}

export async function startControllerPlugin(opts: ControllerPluginOptions): Promise<GrpcServer> {
  const blockd = strList(opts.flags, "blockd-endpoints").map((t) => {
    const e = parseEndpoint(t.includes("://") || t.startsWith("/") ? t : `tcp://${t}`);
    if (e.kind !== "tcp") throw new UsageError(`--blockd-endpoints: ${t} is not host:port`);
    return e;
  });
  const log = opts.log;
  const csi = csiProto().csi.v1;
  const server = new GrpcServer(log);
  server.addService(
    csi.Identity.service,
    wrapService(
      csi.Identity.service,
      identityServer({ driverName: opts.driverName, capabilities: CONTROLLER_PLUGIN_CAPABILITIES, probe: () => controllerReadiness(blockd) }),
      { log, quietMethods: ["Probe"] },
    ),
  );
  await server.listen({ endpoint: opts.endpoint });
  stopOnSignalsFn(() => server.stop(), log);
  return server;
}
