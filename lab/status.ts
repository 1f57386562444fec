// `status`: which VMs run, their addresses and whether their stack is ready.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LAB_SCRIPTS, nodeAddress, nodeName, sshPort } from "./config.js";
import { labNodes, labRepo } from "./cluster.js";
import { sshRun } from "./ssh.js";
import { qemuPid, runningVms } from "./vm.js";

export interface NodeStatus {
  node: string;
  address: string;
  sshPort: number;
  qemuPid: number | undefined;
  ready: boolean;
  detail: string;
}

export async function status(): Promise<{ nodes: NodeStatus[]; labUp: number | undefined; repo: string | undefined }> {
  const ready = readFileSync(join(LAB_SCRIPTS, "guest/ready.sh"), "utf8");
  const nodes = await Promise.all(
    runningVms().map(async (i): Promise<NodeStatus> => {
      // timeout 1 s: report, do not wait
      const r = await sshRun(i, "bash -s -- 1", { input: ready, timeoutMs: 30_000 });
      return {
        node: nodeName(i),
        address: nodeAddress(i),
        sshPort: sshPort(i),
        qemuPid: qemuPid(i),
        ready: r.code === 0,
        detail: r.code === 0 ? "ready" : (r.stdout.match(/NOT READY: .*/)?.[0] ?? `ssh exit ${r.code} ${r.stderr.trim()}`),
      };
    }),
  );
  return { nodes, labUp: labNodes(), repo: labRepo() };
}
