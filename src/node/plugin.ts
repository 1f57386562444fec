// The node plugin program: CSI Identity + Node services on the kubelet's
// plugin socket, plus the periodic healer and garbage collector.
import { mkdir, access, constants } from "node:fs/promises";
import { hostname } from "node:os";
import { GrpcServer } from "../rpc/server.js";
import { stopOnSignalsFn } from "../rpc/signals.js";
import { csiProto } from "../rpc/proto.js";
import { wrapService } from "../rpc/rpc.js";
import { identityServer, NODE_PLUGIN_CAPABILITIES, type Readiness } from "../csi/identity-server.js";
import { missingPrograms } from "../util/which.js";
import { exec } from "../util/exec.js";
import type { Endpoint } from "../rpc/endpoint.js";
import type { Logger } from "../util/log.js";
import { defaultHostPaths, recordsDir } from "./host-paths.js";
import { makeNodeDeps } from "./node-deps.js";
import { nodeServer } from "./node-server.js";
import { mapNodeError } from "./errors.js";
import { nodeConfigFromEnv, NodeConfigError, type NodeConfig } from "./node-config.js";
import { topologySource, type TopologySource } from "./node-topology.js";
import { zoneKey } from "../csi/topology.js";
import { Healer } from "./healer.js";
import { GarbageCollector } from "./gc.js";
import { Periodic } from "./periodic.js";

/** Host programs the node plugin drives; without any of them it cannot stage a volume. */
export const NODE_PROGRAMS = [
  "iscsiadm",
  "multipath",
  "multipathd",
  "blkid",
  "mkfs.xfs",
  "mkfs.ext4",
  "e2fsck",
  "mount",
  "umount",
  "findmnt",
  "xfs_growfs",
  "resize2fs",
  "blockdev",
  "flock",
] as const;

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

/**
 * Where NodeGetInfo's topology comes from; a zone label to read needs the
 * in-cluster API (checked at start, not at the first registration). The
 * Kubernetes client is loaded then, and only then (node-labels.ts).
 */
async function nodeTopology(config: NodeConfig, driverName: string, nodeName: string, log: Logger): Promise<TopologySource> {
  const settings = { override: config.topology, zoneKey: zoneKey(driverName), nodeName, ...(config.zoneLabel ? { zoneLabel: config.zoneLabel } : {}) };
  if (config.zoneLabel === undefined || Object.keys(config.topology).length > 0) {
    log.info("topology", Object.keys(config.topology).length > 0 ? { fromGBCSI_TOPOLOGY: config.topology } : { zone: "none read" });
    return topologySource(settings, log);
  }
  const { apiNodeLabels, inClusterKubeConfig } = await import("./node-labels-api.js");
  const kc = inClusterKubeConfig();
  if (!kc)
    throw new NodeConfigError(
      `GBCSI_ZONE_LABEL=${config.zoneLabel}: the node's zone is read from its Node object, which needs the Kubernetes API (run in a pod with a service account token)`,
    );
  log.info("topology", { zoneFromNodeLabel: config.zoneLabel, key: settings.zoneKey });
  return topologySource(settings, log, apiNodeLabels(kc));
}

export async function startNodePlugin(opts: NodePluginOptions): Promise<GrpcServer> {
  const nodeName = opts.nodeId ?? hostname();
  const log = opts.log.child({ nodeId: nodeName });
  const config = nodeConfigFromEnv();
  const paths = defaultHostPaths(opts.stateDir);
  await mkdir(recordsDir(paths), { recursive: true, mode: 0o700 });
  const deps = makeNodeDeps(exec, paths, log, { budgetMs: config.callBudgetMs });
  const topology = await nodeTopology(config, opts.driverName, nodeName, log);
  const csi = csiProto().csi.v1;
  const wrap = { log, quietMethods: ["Probe", "NodeGetCapabilities", "NodeGetVolumeStats"], mapError: mapNodeError };
  const server = new GrpcServer(log);
  server.addService(
    csi.Identity.service,
    wrapService(
      csi.Identity.service,
      identityServer({ driverName: opts.driverName, capabilities: NODE_PLUGIN_CAPABILITIES, probe: () => nodeReadiness(opts.stateDir) }),
      wrap,
    ),
  );
  server.addService(csi.Node.service, wrapService(csi.Node.service, nodeServer(deps, { nodeName, maxVolumesPerNode: config.maxVolumes, topology }), wrap));
  await server.listen({ endpoint: opts.endpoint, pathAuthority: config.pathAuthority });

  const background: Periodic[] = [];
  if (config.healIntervalMs > 0) {
    const healer = new Healer(deps);
    const hlog = log.child({ task: "heal" });
    background.push(new Periodic("heal", config.healIntervalMs, () => healer.runOnce(hlog), hlog, false));
  }
  if (config.gcMode !== "off") {
    const gc = new GarbageCollector(deps, { mode: config.gcMode, graceMs: config.gcGraceMs });
    const glog = log.child({ task: "gc" });
    log.info("garbage collector", { mode: config.gcMode, graceSeconds: config.gcGraceMs / 1000, intervalSeconds: config.gcIntervalMs / 1000 });
    // at start too: it only reports (or, in fix mode, starts the grace clock)
    background.push(new Periodic("gc", config.gcIntervalMs, () => gc.runOnce(glog), glog, true));
  }
  stopOnSignalsFn(async () => {
    for (const b of background) b.stop();
    await server.stop();
    // a mkfs left running would race the next plugin's format of the device
    await deps.formats.stopAll();
  }, log);
  return server;
}
