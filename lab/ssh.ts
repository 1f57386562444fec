// Commands in a lab VM over ssh (slirp hostfwd on 127.0.0.1, one control
// master per VM, shared with vm.sh).
import { join } from "node:path";
import { sshKey, sshPort, vmDir } from "./config.js";
import { failureMessage, run } from "./proc.js";
import type { RunOptions, RunResult } from "./proc.js";

export function sshOptions(i: number): string[] {
  return [
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    "LogLevel=ERROR",
    "-o",
    // the TCP connect and sshd's banner: a lab VM under load (TCG, one vCPU running a kubelet, blockd and a mkfs) took over 5 s to send it
    "ConnectTimeout=20",
    "-o",
    "ServerAliveInterval=5",
    "-o",
    "ServerAliveCountMax=6",
    "-o",
    "ControlMaster=auto",
    "-o",
    `ControlPath=${join(vmDir(i), "ssh.ctl")}`,
    "-o",
    "ControlPersist=300",
    "-i",
    sshKey(),
  ];
}

/** Quote one word for the remote POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Run `cmd` on VM i.  A string is a remote shell command line (written by
 * the test); an array is an argv whose words are quoted, so they arrive
 * unchanged.
 */
export async function sshRun(i: number, cmd: string | readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const remote = typeof cmd === "string" ? cmd : cmd.map(shellQuote).join(" ");
  const args = [...sshOptions(i), "-p", String(sshPort(i)), "root@127.0.0.1", "--", remote];
  for (let attempt = 1; ; attempt++) {
    const r = await run("ssh", args, opts);
    // ssh never reached the remote shell (a busy VM's sshd did not answer in time): the command did not run, so running it again is safe
    if (attempt >= SSH_ATTEMPTS || !neverRan(r)) return r;
  }
}

const SSH_ATTEMPTS = 3;

/** ssh's own failure before the session began (exit 255 is also a remote command's possible status: the message decides) */
function neverRan(r: RunResult): boolean {
  return r.code === 255 && /Connection timed out during banner exchange|kex_exchange_identification/.test(r.stderr);
}

export async function sshMust(i: number, cmd: string | readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await sshRun(i, cmd, opts);
  if (r.code !== 0) {
    const shown = typeof cmd === "string" ? cmd : cmd.join(" ");
    throw new Error(failureMessage(`n${i}: ${shown.length > 300 ? `${shown.slice(0, 300)}...` : shown}`, r));
  }
  return r;
}

/** Copy a host file or directory into VM i (scp -r). */
export async function scpTo(i: number, hostPath: string, guestPath: string): Promise<void> {
  const r = await run("scp", ["-q", "-r", ...sshOptions(i), "-P", String(sshPort(i)), hostPath, `root@127.0.0.1:${guestPath}`]);
  if (r.code !== 0) throw new Error(failureMessage(`scp ${hostPath} -> n${i}:${guestPath}`, r));
}
