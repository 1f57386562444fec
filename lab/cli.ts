// npm run lab -- <command>: the real-stack VM lab (qemu TCG, 1 or 3 VMs).
//   build                 build the VM image (cached by recipe hash)
//   up [--nodes 1|3]      boot (or reuse) the lab: daemons ready, pool, volume block-test
//   ssh N CMD...          run CMD on VM nN (exit status kept)
//   scp|copy N SRC DST    copy a host file/directory into VM nN
//   status                running VMs, addresses, readiness
//   down                  kill all lab VMs, remove bridge/taps/mounts, verify nothing remains
//   logs [DIR]            collect daemon journals, dmesg and consoles into DIR
//   k8s-bins              where the Kubernetes layer's binaries are (exit 0), or why it is skipped (exit 3)
import { join } from "node:path";
import { HOSTING_VOLUME, LAB_STATE } from "./config.js";
import { describeNodes, up } from "./cluster.js";
import { collectLogs } from "./logs.js";
import { secondsSince } from "./proc.js";
import { scpTo, sshRun } from "./ssh.js";
import { status } from "./status.js";
import { down, isClean } from "./teardown.js";
import { buildImage } from "./vm.js";
import { k8sBins, K8S_SKIP } from "./k8s/config.js";

const USAGE = `usage: npm run lab -- build | up [--nodes 1|3] | ssh N CMD... | scp N SRC DST | status | down | logs [DIR] | k8s-bins`;

function nodeArg(s: string | undefined): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 9) throw new Error(`VM number 1..9 expected, got ${s ?? "nothing"}`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const t0 = performance.now();
  switch (cmd) {
    case "build": {
      const dir = await buildImage();
      console.log(`image: ${dir} (${secondsSince(t0)}s)`);
      return 0;
    }
    case "up": {
      const k = rest.indexOf("--nodes");
      const count = k >= 0 ? Number(rest[k + 1]) : 3;
      const r = await up(count);
      console.log(`lab up: ${r.nodes.length} VM(s), volume ${HOSTING_VOLUME} started (${secondsSince(t0)}s)`);
      for (const p of r.phases) console.log(`  ${p.name.padEnd(28)} ${p.seconds}s`);
      console.log(describeNodes(r.nodes));
      return 0;
    }
    case "ssh": {
      const i = nodeArg(rest[0]);
      if (rest.length < 2) throw new Error("ssh N CMD...");
      // the words after N form the remote command line, as with ssh itself
      const r = await sshRun(i, rest.slice(1).join(" "), { inherit: true });
      return r.code;
    }
    case "scp":
    case "copy": {
      const [n, src, dst] = rest;
      if (src === undefined || dst === undefined) throw new Error(`${cmd} N SRC DST`);
      await scpTo(nodeArg(n), src, dst);
      return 0;
    }
    case "status": {
      const s = await status();
      if (s.nodes.length === 0) console.log("no lab VM runs");
      for (const n of s.nodes) {
        console.log(`${n.node}  ${n.address}  ssh 127.0.0.1:${n.sshPort}  qemu pid ${n.qemuPid ?? "-"}  ${n.detail}`);
      }
      if (s.labUp) console.log(`lab up with ${s.labUp} node(s), volume ${HOSTING_VOLUME}, sharing ${s.repo ?? "an unknown checkout"} at /lab/repo`);
      return s.nodes.every((n) => n.ready) ? 0 : 1;
    }
    case "down": {
      const left = await down();
      if (!isClean(left)) {
        console.error(`lab down INCOMPLETE, still present: ${JSON.stringify(left, null, 2)}`);
        return 1;
      }
      console.log(`lab down (${secondsSince(t0)}s); verified: no lab qemu process, no ssh master, no bridge/tap, no mount of ours remains`);
      return 0;
    }
    case "k8s-bins": {
      const bins = k8sBins();
      if (!bins) {
        console.log(`k8s layer skipped: ${K8S_SKIP}`);
        return 3;
      }
      console.log(`Kubernetes binaries in ${bins.dir} (${bins.from === "K8S_BIN_DIR" ? "K8S_BIN_DIR" : "the fixed place"})`);
      return 0;
    }
    case "logs": {
      const dir = rest[0] ?? join(LAB_STATE, "logs", new Date().toISOString().replace(/[:.]/g, "-"));
      const files = await collectLogs(dir);
      console.log(`${files.length} log files in ${dir}`);
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
