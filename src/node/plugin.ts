// The node plugin program: CSI Identity + Node services on the kubelet's
// plugin socket.
import { mkdir, access, constants } from "node:fs/promises";
import { hostname } from "node:os";
import { GrpcServer } from "../csi/server.js";
import { stopOnSignalsFn } from "../csi/signals.js";
import { csiProto } from "../csi/proto.js";
import { wrapService } from "../csi/rpc.js";
import { identityServer, NODE_PLUGIN_CAPABILITIES, type Readiness } from "../csi/identity-server.js";
import { missingPrograms } from "../util/which.js";
import type { Endpoint } from "../csi/endpoint.js";
import type { Logger } from "../util/log.js";

export const NODE_DEFAULTS = {
  stateDir: "/var/lib/gluster-block-csi",
} as const;

/** Host programs the node plugin drives; without any of them it cannot stage a volume. */
export const NODE_PROGRAMS = ["iscsiadm", "multipath", "multipathd", "blkid", "mkfs.xfs", "mkfs.ext4", "mount", "umount", "findmnt", "xfs_growfs", "resize2fs", "blockdev"] as const;

export interface NodePluginOptions {
  endpoint: Endpoint;
  driverName: string;
  log: Logger;
  nodeId: string | undefined;
  stateDir: string;
}

export async function nodeReadiness(stateDir: string): Promise<Readiness> {
  try {
    await mkdir(stateDir, { recursive: true });
    await access(stateDir, constants.W_OK);
  } catch (err) {
    return { ready: false, reason: `state directory ${stateDir} is not writable: ${err instanceof Error ? err.message : String(err)}` };
  }
  const missing = await missingPrograms(NODE_PROGRAMS);
  if (missing.length > 0) return { ready: false, reason: `programs not found on PATH: ${missing.join(", ")}` };
  return { ready: true };
}

export async function startNodePlugin(opts: NodePluginOptions): Promise<GrpcServer> {
  const log = opts.log.child({ nodeId: opts.nodeId ?? hostname() });
  const csi = csiProto().csi.v1;
  const wrap = { log, quietMethods: ["Probe"] };
  const server = new GrpcServer(log);
  server.addService(
    csi.Identity.service,
    wrapService(
      csi.Identity.service,
      identityServer({ driverName: opts.driverName, capabilities: NODE_PLUGIN_CAPABILITIES, probe: () => nodeReadiness(opts.stateDir) }),
      wrap,
    ),
  );
  await server.listen({ endpoint: opts.endpoint });
  stopOnSignalsFn(() => server.stop(), log);
  return server;
}
