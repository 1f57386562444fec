// The VMs' life cycle, through vm.sh and build-image.sh.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { buildScript, MAX_NODES, vmDir, vmScript } from "./config.js";
import { failureMessage, run } from "./proc.js";

/** Builds the image, or reuses the cached one; returns its directory. */
export async function buildImage(): Promise<string> {
  const r = await run("bash", [buildScript()], { teeStderr: true });
  if (r.code !== 0) throw new Error(failureMessage("build-image.sh", r));
  const dir = r.stdout.trim().split("\n").pop() ?? "";
  if (dir === "") throw new Error("build-image.sh printed no image directory");
  return dir;
}

async function vm(args: string[], timeoutMs = 600_000): Promise<void> {
  const r = await run("bash", [vmScript(), ...args], { teeStderr: true, timeoutMs });
  if (r.code !== 0) throw new Error(failureMessage(`vm.sh ${args.join(" ")}`, r));
}

export const netUp = (): Promise<void> => vm(["net-up"]);
export const netDown = (): Promise<void> => vm(["net-down"]);
export const startVm = (i: number): Promise<void> => vm(["start", String(i)]);
export const killVm = (i: number): Promise<void> => vm(["kill", String(i)]);

/** pid of VM i's qemu when it runs, from its pid file, checked against /proc. */
export function qemuPid(i: number): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(vmDir(i), "qemu.pid"), "utf8").trim());
  } catch {
    return undefined;
  }
  // our qemu names its state directory on its command line
  return Number.isInteger(pid) && pid > 0 && cmdline(pid).includes(`${vmDir(i)}/`) ? pid : undefined;
}

export const isRunning = (i: number): boolean => qemuPid(i) !== undefined;

export function runningVms(): number[] {
  const out: number[] = [];
  for (let i = 1; i <= MAX_NODES; i++) if (isRunning(i)) out.push(i);
  return out;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
}

/** Every host process whose command line contains `needle` (read-only scan of /proc). */
export function processesMatching(needle: string): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cmd = cmdline(Number(name));
    if (cmd.includes(needle)) out.push({ pid: Number(name), cmd: cmd.trim() });
  }
  return out;
}
