// The node plugin in the lab: start/stop it as a transient systemd unit on a
// worker VM, make CSI calls through node-csi-client.ts, and count what an
// iSCSI volume leaves on a node (sessions, paths, maps, mounts, records).
import type { LabNode } from "./lab.js";
import { DIST, NODE, NODE_CSI_CLIENT } from "./product.js";

export const NODE_SOCKET = "/run/gbcsi-node.sock";
export const NODE_STATE_DIR = "/var/lib/gluster-block-csi";
export const NODE_UNIT = "gbcsi-node";

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

/** (Re)starts the node plugin; `env` sets GBCSI_* settings. Waits for its socket. */
export async function startNodePlugin(n: LabNode, env: Record<string, string> = {}): Promise<void> {
  await stopNodePlugin(n);
  const envArgs = Object.entries({ GBCSI_HEAL_INTERVAL_SECONDS: "30", ...env })
    .map(([k, v]) => `-E ${k}=${v}`)
    .join(" ");
  await n.must(`set -e; rm -f ${NODE_SOCKET}
    systemd-run --unit=${NODE_UNIT} --collect --property=KillMode=mixed ${envArgs} \
      ${NODE} ${DIST}/gluster-block-csi.js node --endpoint unix://${NODE_SOCKET} --state-dir ${NODE_STATE_DIR} --node-id ${n.name} --log-level debug
    for k in $(seq 300); do [ -S ${NODE_SOCKET} ] && exit 0; sleep 0.2; done
    journalctl -u ${NODE_UNIT} --no-pager | tail -30; exit 1`);
}

export async function stopNodePlugin(n: LabNode): Promise<void> {
  await n.run(`systemctl stop ${NODE_UNIT} 2>/dev/null; systemctl reset-failed ${NODE_UNIT} 2>/dev/null; true`);
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
