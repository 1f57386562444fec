// The node plugin in the lab: start/stop it from the product image on a
// worker VM, as the chart's node DaemonSet runs it (chart-pod.ts), make CSI
// calls through node-csi-client.ts on the socket the kubelet would use, and
// count what an iSCSI volume leaves on a node (sessions, paths, maps,
// mounts, records).
import type { LabNode } from "./lab.js";
import { podmanRun } from "./chart-pod.js";
import { argOf, hostPathOf, NODE_CONTAINER, nodeDaemonSet } from "./lab-chart.js";
import { startPodUnit, stopPodUnit } from "./pod-unit.js";
import { NODE, NODE_CSI_CLIENT } from "./product.js";
import { ensureImageOn } from "./product-image.js";

/** the unit, and the container, the node plugin runs as */
export const NODE_UNIT = "gbcsi-node";
/**
 * How often the lab's kubelet stand-ins call a NodeStageVolume again after an
 * "in progress" answer, 1 s apart, where the kubelet retries without end: a
 * first mkfs in a TCG VM (79 s for 512 MiB) outlasts several 20 s budgets,
 * each call waiting for the same mkfs (src/node/format-jobs.ts).
 */
export const STAGE_RETRIES = 30;
/** the plugin's CSI socket on the node: where the chart's endpoint is, through its hostPath (the kubelet's plugin directory) */
export const NODE_SOCKET = hostPathOf(nodeDaemonSet(), NODE_CONTAINER, argOf(nodeDaemonSet(), NODE_CONTAINER, "--endpoint").replace(/^unix:\/\//, ""));
/** the plugin's state directory (the chart's --state-dir, a hostPath of the same path) */
export const NODE_STATE_DIR = argOf(nodeDaemonSet(), NODE_CONTAINER, "--state-dir");
/** the kubelet's directory, which the kubelet makes before any plugin starts */
const KUBELET_DIR = "/var/lib/kubelet";

export interface CallResult {
  method: string;
  ok: boolean;
  code: number;
  details: string;
  response: Record<string, unknown> | null;
  ms: number;
  attempts: number;
}

export interface Call {
  method: string;
  request: unknown;
  stopOnError?: boolean;
  retries?: number;
}

/**
 * (Re)starts the node plugin from the product image with the chart's
 * arguments, env and host mounts (privileged, host network and PID, the
 * kubelet directory with Bidirectional propagation); `env` overrides the
 * chart's GBCSI_* settings. Waits for its socket.
 */
export async function startNodePlugin(n: LabNode, env: Record<string, string> = {}): Promise<void> {
  await ensureImageOn(n);
  await stopNodePlugin(n);
  // a killed plugin leaves its socket file: readiness is a new one
  await n.must(`mkdir -p ${KUBELET_DIR}/plugins_registry; rm -f ${NODE_SOCKET}`);
  const run = podmanRun(nodeDaemonSet(), NODE_CONTAINER, {
    name: NODE_UNIT,
    nodeName: n.name,
    hostIP: n.address,
    secretsRoot: `/var/lib/lab-pods/${NODE_UNIT}`,
    extraEnv: env,
  });
  await startPodUnit(n, { unit: NODE_UNIT, run, ready: `[ -S ${NODE_SOCKET} ]`, readyTimeoutMs: 120_000 });
}

export async function stopNodePlugin(n: LabNode): Promise<void> {
  await stopPodUnit(n, NODE_UNIT);
}

/** A shell command printing the plugin's log since its unit last started (JSON lines). */
export const CURRENT_PLUGIN_LOG = `journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID=$(systemctl show -p InvocationID --value ${NODE_UNIT})`;

/** The plugin's log since its unit last started; `everyRun` for all of the unit's runs in the journal (secret greps). */
export async function nodePluginLog(n: LabNode, everyRun = false): Promise<string> {
  return (await n.run(everyRun ? `journalctl -u ${NODE_UNIT} --no-pager -o cat` : CURRENT_PLUGIN_LOG)).stdout;
}

/** Makes the calls in one client process on the VM (built by buildProduct); one result per call (fewer if a stopOnError call failed). */
export async function csiCalls(n: LabNode, calls: Call[], timeoutMs = 900_000): Promise<CallResult[]> {
  const r = await n.run(`${NODE} ${NODE_CSI_CLIENT} ${NODE_SOCKET}`, { input: JSON.stringify(calls), timeoutMs });
  if (r.code !== 0) throw new Error(`csi client failed (${r.code}): ${r.stderr}\n${r.stdout}`);
  return r.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as CallResult);
}

export interface Traces {
  sessions: number;
  paths: number;
  maps: number;
  mounts: number;
  nodeRecords: number;
  records: number;
  wwids: number;
}

/** What one target (by IQN and WWID) leaves on the node. */
export async function traces(n: LabNode, iqn: string, wwid: string, mountPrefix = "/var/lib/kubelet/"): Promise<Traces> {
  const r = await n.must(`
    s=0; p=0
    for d in /sys/class/iscsi_session/session*; do
      [ -e "$d/targetname" ] || continue
      [ "$(cat $d/targetname)" = "${iqn}" ] || continue
      s=$((s+1)); p=$((p+$(ls -d $d/device/target*/*/block/* 2>/dev/null | wc -l)))
    done
    m=0; for u in /sys/block/dm-*/dm/uuid; do [ -e "$u" ] && [ "$(cat $u)" = "mpath-${wwid}" ] && m=$((m+1)); done
    echo "sessions=$s paths=$p maps=$m"
    echo "mounts=$(findmnt -rn -o TARGET | grep -c '^${mountPrefix}' || true)"
    echo "nodeRecords=$(ls /etc/iscsi/nodes/${iqn} 2>/dev/null | wc -l)"
    echo "records=$(ls ${NODE_STATE_DIR}/volumes 2>/dev/null | wc -l)"
    echo "wwids=$(grep -c '/${wwid}/' /etc/multipath/wwids 2>/dev/null || true)"
  `);
  const num = (k: string): number => Number(new RegExp(`${k}=(\\d+)`).exec(r.stdout)?.[1] ?? "NaN");
  return {
    sessions: num("sessions"),
    paths: num("paths"),
    maps: num("maps"),
    mounts: num("mounts"),
    nodeRecords: num("nodeRecords"),
    records: num("records"),
    wwids: num("wwids"),
  };
}

export const NOTHING: Traces = { sessions: 0, paths: 0, maps: 0, mounts: 0, nodeRecords: 0, records: 0, wwids: 0 };

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}
