// The chart as the lab installs it (lab/chart/values.yaml), rendered once per
// process by the real helm: the lab runs gluster-blockd and the node plugin
// from the rendered DaemonSets (chart-pod.ts), never from arguments of its own.
import { join } from "node:path";
import { LAB_SCRIPTS } from "../config.js";
import { findObject, renderChart, type K8sObject } from "../helm.js";
import { podSpecOf } from "./chart-pod.js";

export const LAB_VALUES = join(LAB_SCRIPTS, "chart/values.yaml");
export const BLOCKD_CONTAINER = "gluster-blockd";
export const NODE_CONTAINER = "gluster-block-csi";

let rendered: K8sObject[] | undefined;

export function labChart(): readonly K8sObject[] {
  rendered ??= renderChart({ values: [LAB_VALUES] });
  return rendered;
}

export const blockdDaemonSet = (): K8sObject => findObject(labChart(), "DaemonSet", "-blockd");
export const nodeDaemonSet = (): K8sObject => findObject(labChart(), "DaemonSet", "-node");

interface Mount {
  name: string;
  mountPath: string;
}

/** Where a path inside a container is on the node: through the container's hostPath mount that holds it. */
export function hostPathOf(obj: K8sObject, container: string, path: string): string {
  const pod = podSpecOf(obj);
  const c = pod.containers.find((x) => x.name === container) as { volumeMounts?: Mount[] } | undefined;
  const mounts = [...(c?.volumeMounts ?? [])].sort((a, b) => b.mountPath.length - a.mountPath.length);
  const m = mounts.find((x) => path === x.mountPath || path.startsWith(`${x.mountPath}/`));
  const v = m && (pod.volumes ?? []).find((x) => x.name === m.name);
  if (!m || !v?.hostPath) throw new Error(`${path} in ${container} is on no hostPath volume`);
  return `${v.hostPath.path}${path.slice(m.mountPath.length)}`;
}

/** The value of a `--flag=value` argument of a container. */
export function argOf(obj: K8sObject, container: string, flag: string): string {
  const c = podSpecOf(obj).containers.find((x) => x.name === container);
  const a = (c?.args ?? []).find((x) => x.startsWith(`${flag}=`));
  if (a === undefined) throw new Error(`${container} has no ${flag}= argument`);
  return a.slice(flag.length + 1);
}

/** Where a node's path is inside a container: through the hostPath mount that holds it (the inverse of hostPathOf). */
export function containerPathOf(obj: K8sObject, container: string, hostPath: string): string {
  const pod = podSpecOf(obj);
  const c = pod.containers.find((x) => x.name === container) as { volumeMounts?: Mount[] } | undefined;
  const candidates = (c?.volumeMounts ?? []).flatMap((m) => {
    const v = (pod.volumes ?? []).find((x) => x.name === m.name);
    const h = v?.hostPath?.path;
    return h !== undefined && (hostPath === h || hostPath.startsWith(`${h.replace(/\/$/, "")}/`)) ? [{ h, m }] : [];
  });
  const best = candidates.sort((a, b) => b.h.length - a.h.length)[0];
  if (!best) throw new Error(`${hostPath} is on no hostPath volume of ${container}`);
  return `${best.m.mountPath}${hostPath.slice(best.h.replace(/\/$/, "").length)}`;
}
