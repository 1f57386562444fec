// The VM lab for e2e tests: boot or reuse it, run commands on its nodes,
// reset storage state between tests, collect logs on failure.
//
//   const lab = await ensureLab({ nodes: 3 });
//   await lab.node(1).must(["gluster", "volume", "info"]);
//   await lab.resetState();
import { join } from "node:path";
import { HOSTING_VOLUME, LAB_REPO, LAB_STATE, nodeAddress } from "../config.js";
import { labNodes, labRepo, up } from "../cluster.js";
import { collectLogs as collectLabLogs } from "../logs.js";
import { scpTo, sshMust, sshRun } from "../ssh.js";
import { runningVms } from "../vm.js";
import type { RunResult } from "../proc.js";
import { RESET_SCRIPT } from "./reset.js";

export type { RunResult } from "../proc.js";
export { HOSTING_VOLUME } from "../config.js";

export interface RunOpts {
  /** default 120 s */
  timeoutMs?: number;
  /** written to the command's stdin */
  input?: string;
}

export interface LabNode {
  readonly index: number;
  readonly name: string;
  readonly address: string;
  /** A string is a shell command line; an array is an argv passed unchanged. */
  run(cmd: string | readonly string[], opts?: RunOpts): Promise<RunResult>;
  /** Like run, but throws (with stdout/stderr) on a non-zero exit. */
  must(cmd: string | readonly string[], opts?: RunOpts): Promise<RunResult>;
  copyTo(hostPath: string, guestPath: string): Promise<void>;
}

export interface Lab {
  readonly nodes: readonly LabNode[];
  /** Addresses of the nodes on the lab bridge, index 0 = n1. */
  readonly addresses: readonly string[];
  readonly volume: string;
  /** whether ensureLab found this lab running (same checkout, enough nodes) rather than booting it */
  readonly reused: boolean;
  node(i: number): LabNode;
  copyTo(i: number, hostPath: string, guestPath: string): Promise<void>;
  collectLogs(dir?: string): Promise<string>;
  /**
   * Between tests, without a reboot: unmount test mounts (/mnt/*,
   * /var/lib/kubelet/*), log out of and delete all iSCSI records, flush
   * multipath maps, clear LIO, delete volumes other than the hosting one and
   * empty the hosting volume.  `stopNodeProcesses` also kills processes run
   * with the shared Node (/lab/node/bin/node) in the VMs.
   */
  resetState(opts?: { stopNodeProcesses?: boolean }): Promise<void>;
}

export const labAddresses = (count: number): string[] => Array.from({ length: count }, (_, k) => nodeAddress(k + 1));

function makeNode(i: number): LabNode {
  const opts = (o?: RunOpts): { timeoutMs: number; input?: string } => ({
    timeoutMs: o?.timeoutMs ?? 120_000,
    ...(o?.input === undefined ? {} : { input: o.input }),
  });
  return {
    index: i,
    name: `n${i}`,
    address: nodeAddress(i),
    run: (cmd, o) => sshRun(i, cmd, opts(o)),
    must: (cmd, o) => sshMust(i, cmd, opts(o)),
    copyTo: (h, g) => scpTo(i, h, g),
  };
}

/**
 * Boots the lab with `nodes` VMs, or reuses the one that runs (a 3-node lab
 * also serves nodes: 1).  Returns once every daemon is ready and the
 * hosting volume is started.
 */
export async function ensureLab({ nodes = 3 }: { nodes?: 1 | 3 } = {}): Promise<Lab> {
  const current = labNodes();
  const running = runningVms();
  const ok =
    labRepo() === LAB_REPO && current !== undefined && current >= nodes && Array.from({ length: current }, (_, k) => k + 1).every((i) => running.includes(i));
  const count = ok && current !== undefined ? current : nodes;
  if (!ok) {
    const r = await up(nodes);
    console.log(`lab up (${nodes} VM(s)): ${r.phases.map((p) => `${p.name} ${p.seconds}s`).join(", ")}`);
  }
  const all = Array.from({ length: count }, (_, k) => makeNode(k + 1));
  const lab: Lab = {
    nodes: all,
    addresses: labAddresses(count),
    volume: HOSTING_VOLUME,
    reused: ok,
    node(i) {
      const n = all[i - 1];
      if (!n) throw new Error(`lab has ${count} node(s), no n${i}`);
      return n;
    },
    copyTo: (i, h, g) => lab.node(i).copyTo(h, g),
    async collectLogs(dir) {
      const d = dir ?? join(LAB_STATE, "logs", new Date().toISOString().replace(/[:.]/g, "-"));
      await collectLabLogs(
        d,
        all.map((n) => n.index),
      );
      return d;
    },
    async resetState(opts) {
      const procs = opts?.stopNodeProcesses ? "kill-node" : "keep";
      // node 1 also cleans the hosting volume (FUSE mount, rm, unmount)
      await Promise.all(
        all.map((n) =>
          sshMust(n.index, `bash -s -- ${n.index === 1 ? "volume" : "local"} ${HOSTING_VOLUME} ${n.address} ${procs}`, {
            input: RESET_SCRIPT,
            timeoutMs: 180_000,
          }),
        ),
      );
    },
  };
  return lab;
}
