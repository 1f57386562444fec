// `down`: stop the Kubernetes layer's control plane (its cluster state goes
// with the VMs' disks), kill every lab VM, remove bridge, taps, ssh masters
// and any mount of ours, then verify that nothing of the lab remains on the
// host.
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { LAB_BRIDGE, LAB_CACHE, LAB_STATE, MAX_NODES, vmDir } from "./config.js";
import { run } from "./proc.js";
import { killVm, netDown, processesMatching, qemuPid } from "./vm.js";
import { stopControlPlane } from "./k8s/control-plane.js";

export interface Leftovers {
  qemu: string[];
  sshMasters: string[];
  links: string[];
  mounts: string[];
}

export async function down(): Promise<Leftovers> {
  await stopControlPlane({ wipe: true });
  for (let i = 1; i <= MAX_NODES; i++) {
    if (qemuPid(i) !== undefined || existsSync(join(vmDir(i), "ssh.ctl")) || existsSync(join(vmDir(i), "qemu.pid"))) {
      await killVm(i);
    }
  }
  // qemu of this lab whose pid file is gone (state removed under a running VM)
  for (const p of labQemus()) {
    process.stderr.write(`[lab] killing orphaned lab qemu ${p.pid}\n`);
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  if (labQemus().length > 0) await new Promise((r) => setTimeout(r, 500));
  await netDown();
  for (const m of ourMounts().sort().reverse()) await run("umount", ["-l", m]);
  // per-VM disks are recreated on every boot; drop them (console logs and
  // containers.qcow2, podman's image store kept from boot to boot, stay)
  for (let i = 1; i <= MAX_NODES; i++) {
    for (const f of ["disk.qcow2", "bricks.qcow2", "ssh.ctl", "mon.sock"]) rmSync(join(vmDir(i), f), { force: true });
  }
  rmSync(join(LAB_STATE, "nodes"), { force: true });
  return leftovers();
}

/** What of the lab still exists on the host (all empty = clean). */
export function leftovers(): Leftovers {
  return {
    qemu: labQemus().map((p) => `${p.pid} ${p.cmd.slice(0, 120)}`),
    sshMasters: processesMatching(join(LAB_STATE, "n"))
      .filter((p) => p.cmd.startsWith("ssh"))
      .map((p) => `${p.pid} ${p.cmd.slice(0, 120)}`),
    links: readdirSync("/sys/class/net").filter(
      (l) => l === LAB_BRIDGE || (l.startsWith(LAB_BRIDGE) && /^t\d$/.test(l.slice(LAB_BRIDGE.length))) || (LAB_BRIDGE === "gbbr0" && /^gbtap\d$/.test(l)), // tap names of the first version
    ),
    mounts: ourMounts(),
  };
}

/** qemu processes of this lab: their command line names a VM directory of LAB_STATE. */
const labQemus = (): { pid: number; cmd: string }[] => processesMatching(`${LAB_STATE}/n`).filter((p) => p.cmd.startsWith("qemu"));

export const isClean = (l: Leftovers): boolean => l.qemu.length + l.sshMasters.length + l.links.length + l.mounts.length === 0;

/** Mount points under the lab cache (a chroot of an interrupted image build). */
function ourMounts(): string[] {
  const prefix = LAB_CACHE.endsWith("/") ? LAB_CACHE : `${LAB_CACHE}/`;
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => unescapeMount(line.split(" ")[4] ?? ""))
    .filter((m) => m === LAB_CACHE || m.startsWith(prefix));
}

const unescapeMount = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
