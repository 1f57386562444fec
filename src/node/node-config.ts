// Node plugin settings that the command line does not carry, from the
// environment (a DaemonSet sets them in its pod spec):
//   GBCSI_GC_MODE              dry-run (default) | fix | off
//   GBCSI_GC_GRACE_SECONDS     orphan age before the collector acts (default 600)
//   GBCSI_GC_INTERVAL_SECONDS  collector period (default 600; it also runs at start)
//   GBCSI_HEAL_INTERVAL_SECONDS  healing period (default 60; 0 = off)
//   GBCSI_MAX_VOLUMES          NodeGetInfo max_volumes_per_node (default 128)
//   GBCSI_TOPOLOGY             accessible topology, "key=value,key2=value2" (default none): an override of
//                              what GBCSI_ZONE_LABEL would read
//   GBCSI_ZONE_LABEL           the Node label holding the node's zone, e.g. topology.kubernetes.io/zone: read
//                              from this node's Node object (the API, the pod's service account) and reported
//                              as topology.<driver>/zone (node-topology.ts); unset: no zone is read
//   GBCSI_CALL_BUDGET_SECONDS  time one RPC may spend before it returns DEADLINE_EXCEEDED and leaves the
//                              rest to the retry (default 20, more than 0; budget.ts, src/node/README.md)
//   GBCSI_PATH_AUTHORITY       on: accept calls whose HTTP/2 :authority is the socket path, as
//                              kubelets before 1.26 send them (rpc/authority-front.ts); off (default)
import type { GcMode } from "./gc.js";
import { parseTopology } from "./node-info.js";
import { DEFAULT_BUDGET_MS } from "./budget.js";
import { isLabelKey } from "../csi/topology.js";

/** The defaults of the node mode's own flags (gluster-block-csi's command line). */
export const NODE_DEFAULTS = {
  stateDir: "/var/lib/gluster-block-csi",
} as const;

export interface NodeConfig {
  gcMode: GcMode | "off";
  gcGraceMs: number;
  gcIntervalMs: number;
  healIntervalMs: number;
  maxVolumes: number;
  topology: Record<string, string>;
  /** the Node label the node's zone is read from (GBCSI_ZONE_LABEL) */
  zoneLabel?: string;
  callBudgetMs: number;
  pathAuthority: boolean;
}

export class NodeConfigError extends Error {
  override readonly name = "NodeConfigError";
}

function seconds(env: NodeJS.ProcessEnv, key: string, def: number): number {
  const v = env[key];
  if (v === undefined || v === "") return def * 1000;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new NodeConfigError(`${key}=${JSON.stringify(v)} is not a number of seconds`);
  return n * 1000;
}

export function nodeConfigFromEnv(env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const mode = env.GBCSI_GC_MODE ?? "dry-run";
  if (mode !== "dry-run" && mode !== "fix" && mode !== "off") throw new NodeConfigError(`GBCSI_GC_MODE=${JSON.stringify(mode)}: expected dry-run, fix or off`);
  const maxVolumes = Number(env.GBCSI_MAX_VOLUMES ?? "128");
  if (!Number.isInteger(maxVolumes) || maxVolumes < 0) throw new NodeConfigError(`GBCSI_MAX_VOLUMES=${JSON.stringify(env.GBCSI_MAX_VOLUMES)} is not a count`);
  const pathAuthority = env.GBCSI_PATH_AUTHORITY ?? "off";
  if (pathAuthority !== "on" && pathAuthority !== "off") throw new NodeConfigError(`GBCSI_PATH_AUTHORITY=${JSON.stringify(pathAuthority)}: expected on or off`);
  const callBudgetMs = seconds(env, "GBCSI_CALL_BUDGET_SECONDS", DEFAULT_BUDGET_MS / 1000);
  if (callBudgetMs <= 0)
    throw new NodeConfigError(`GBCSI_CALL_BUDGET_SECONDS=${JSON.stringify(env.GBCSI_CALL_BUDGET_SECONDS)}: a call needs more than 0 seconds`);
  let topology: Record<string, string>;
  try {
    topology = parseTopology(env.GBCSI_TOPOLOGY);
  } catch (err) {
    throw new NodeConfigError(`GBCSI_TOPOLOGY: ${err instanceof Error ? err.message : String(err)}`);
  }
  const zoneLabel = env.GBCSI_ZONE_LABEL?.trim() || undefined;
  if (zoneLabel !== undefined && !isLabelKey(zoneLabel))
    throw new NodeConfigError(`GBCSI_ZONE_LABEL=${JSON.stringify(env.GBCSI_ZONE_LABEL)} is not a label key (e.g. topology.kubernetes.io/zone)`);
  return {
    gcMode: mode,
    gcGraceMs: seconds(env, "GBCSI_GC_GRACE_SECONDS", 600),
    gcIntervalMs: seconds(env, "GBCSI_GC_INTERVAL_SECONDS", 600),
    healIntervalMs: seconds(env, "GBCSI_HEAL_INTERVAL_SECONDS", 60),
    maxVolumes,
    topology,
    ...(zoneLabel !== undefined ? { zoneLabel } : {}),
    callBudgetMs,
    pathAuthority: pathAuthority === "on",
  };
}
