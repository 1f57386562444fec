// `logs`: journals of the storage daemons, dmesg and glusterfs logs of each
// running VM, plus its serial console, into a host directory.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { vmDir } from "./config.js";
import { sshRun } from "./ssh.js";
import { runningVms } from "./vm.js";

const UNITS = ["glusterd", "tcmu-runner", "iscsid", "multipathd", "lab-net", "lab-bricks"];

export async function collectLogs(dir: string, nodes: number[] = runningVms()): Promise<string[]> {
  const written: string[] = [];
  await Promise.all(
    nodes.map(async (i) => {
      const d = join(dir, `n${i}`);
      mkdirSync(d, { recursive: true });
      const grab = async (file: string, cmd: string): Promise<void> => {
        const r = await sshRun(i, cmd, { timeoutMs: 60_000 });
        writeFileSync(join(d, file), r.stdout + (r.stderr ? `\n--- stderr (exit ${r.code})\n${r.stderr}` : ""));
        written.push(join(d, file));
      };
      for (const u of UNITS) await grab(`${u}.journal.txt`, `journalctl -b --no-pager -o short-precise -u ${u}`);
      await grab("dmesg.txt", "dmesg -T 2>/dev/null || dmesg");
      await grab(
        "state.txt",
        "set -x; gluster --mode=script pool list; gluster --mode=script volume status; iscsiadm -m session -P 1; multipath -ll; targetcli ls; findmnt; ps aux --sort=-rss | head -20",
      );
      await grab("glusterfs-logs.txt", "tail -n 300 /var/log/glusterfs/*.log /var/log/glusterfs/bricks/*.log 2>/dev/null");
      const console = join(vmDir(i), "console.log");
      if (existsSync(console)) {
        copyFileSync(console, join(d, "console.log"));
        written.push(join(d, "console.log"));
      }
    }),
  );
  return written;
}
