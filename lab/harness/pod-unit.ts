// A container the chart renders (chart-pod.ts), started on a lab VM as a
// transient systemd unit around `podman run`: the unit's journal holds the
// program's output (podman's passthrough log driver), and the container's
// processes live in the unit's cgroup (--cgroups=split), so stopping or
// killing the unit stops or kills the program, as a kubelet's would.
import type { LabNode } from "./lab.js";
import { shellQuote } from "../ssh.js";
import type { PodmanRun } from "./chart-pod.js";

export interface PodUnit {
  /** the systemd unit (and the podman container's name) */
  unit: string;
  run: PodmanRun;
  /** a shell condition that holds once the program is ready */
  ready: string;
  /** how long to wait for `ready` (an emulated CPU: the first start of an image is slow) */
  readyTimeoutMs?: number;
}

/** Writes the pod's Secret files and host paths, then (re)starts the unit and waits until `ready`. */
export async function startPodUnit(n: LabNode, p: PodUnit): Promise<void> {
  await stopPodUnit(n, p.unit);
  for (const s of p.run.secrets) {
    for (const [file, content] of Object.entries(s.files)) {
      const path = shellQuote(`${s.dir}/${file}`);
      // over stdin: a command line shows up in failure messages
      await n.must(`set -e; mkdir -p ${shellQuote(s.dir)}; chmod 0700 ${shellQuote(s.dir)}; umask 077; cat > ${path}; chmod ${s.mode.toString(8)} ${path}`, {
        input: content,
      });
    }
  }
  const [verb, ...rest] = p.run.args;
  const argv = ["podman", verb ?? "run", "--cgroups=split", ...rest].map(shellQuote).join(" ");
  const seconds = Math.ceil((p.readyTimeoutMs ?? 420_000) / 1000);
  await n.must(
    `set -e
    ${p.run.prepare}
    systemd-run --unit=${p.unit} --collect --property=KillMode=mixed --property=TimeoutStopSec=70 ${argv} >/dev/null
    end=$(( $(date +%s) + ${seconds} ))
    until ${p.ready}; do
      if ! systemctl is-active -q ${p.unit}; then echo "${p.unit} ended before it was ready:" >&2; journalctl -u ${p.unit} --no-pager -n 30 >&2; exit 1; fi
      if [ "$(date +%s)" -ge "$end" ]; then echo "${p.unit} not ready after ${seconds} s:" >&2; journalctl -u ${p.unit} --no-pager -n 30 >&2; exit 1; fi
      sleep 0.3
    done`,
    { timeoutMs: (p.readyTimeoutMs ?? 420_000) + 60_000 },
  );
}

/** Stops the unit (SIGTERM to the program through podman) and removes what a killed run left. */
export async function stopPodUnit(n: LabNode, unit: string): Promise<void> {
  await n.run(`systemctl stop ${unit} 2>/dev/null; systemctl reset-failed ${unit} 2>/dev/null; podman rm -f -t 0 ${unit} >/dev/null 2>&1; true`, {
    timeoutMs: 180_000,
  });
}

/** A shell expression: the pid (on the node) of the container's first process (tini), found through the unit's cgroup. */
const initPid = (unit: string): string =>
  `$(for p in $(pgrep -x tini); do grep -q '/${unit}.service/' /proc/$p/cgroup 2>/dev/null && { echo $p; break; }; done)`;

/** A shell expression: the pid (on the node) of the program the unit's container runs, tini's child. */
export const programPid = (unit: string): string => `$(pgrep -P ${initPid(unit)} | head -1)`;

/**
 * A shell command that runs `argv` inside the unit's container as an exec
 * does (kubectl exec, runc exec): in all of its namespaces, at its root, with
 * its environment. nsenter, not `podman exec`: the podman binary alone
 * takes about 6 s to start in an emulated VM, on every call.
 */
export function execIn(unit: string, argv: readonly string[]): string {
  return `pid=${initPid(unit)}; [ -n "$pid" ] || { echo "${unit}: no running container" >&2; exit 125; }
  exec nsenter -t "$pid" -a -r -w env -i $(tr '\\0' '\\n' < /proc/$pid/environ | grep -E '^[A-Za-z_][A-Za-z0-9_]*=[^ ]*$') ${argv.map(shellQuote).join(" ")}`;
}
