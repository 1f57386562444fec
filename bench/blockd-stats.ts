// What gluster-blockd costs on a storage node: its resident memory, and how
// long its start-up reconcile takes to export every block again after the
// node's LIO configuration was wiped (a reboot, as far as LIO is concerned).
import type { LabNode } from "../lab/harness/lab.js";
import { programPid } from "../lab/harness/pod-unit.js";
import { BLOCKD_UNIT, startBlockd, stopBlockd } from "../lab/harness/product.js";
import { timed } from "./timing.js";

/**
 * gluster-blockd as deployed (the chart's logLevel: info), not at the debug
 * level the e2e tests run it with: a debug line per configfs write was a
 * tenth of blockd's CPU in a profile of the lab.
 */
export const BENCH_BLOCKD_ARGS = ["--log-level", "info"];

export async function blockdRssMb(n: LabNode): Promise<number> {
  const r = await n.must(`pid=${programPid(BLOCKD_UNIT)}; awk '/^VmRSS:/ {print $2}' /proc/$pid/status`);
  return Number(r.stdout.trim()) / 1024;
}

export interface ReconcileFigures {
  /** blocks exported again */
  converged: number;
  /** the reconcile itself, from blockd's log line */
  reconcileS: number;
  /** restart of the container until the reconcile's log line, its start-up included */
  restartToReadyS: number;
  /** LUNs in configfs afterwards */
  lunsAfter: number;
}

export async function reconcileAfterWipe(n: LabNode): Promise<ReconcileFigures> {
  await stopBlockd(n);
  await n.must("targetctl clear", { timeoutMs: 600_000 });
  const since = (await n.must("date '+%Y-%m-%d %H:%M:%S'")).stdout.trim();
  let line = "";
  const restartToReadyS = await timed(async () => {
    await startBlockd(n, BENCH_BLOCKD_ARGS);
    const r = await n.must(
      `for k in $(seq 9000); do l=$(journalctl -u ${BLOCKD_UNIT} --since '${since}' -o cat | grep -m1 'reconciled LIO to the journals'); [ -n "$l" ] && { echo "$l"; exit 0; }; sleep 0.2; done; exit 1`,
      { timeoutMs: 1_900_000 },
    );
    line = r.stdout.trim();
  });
  const fields = JSON.parse(line) as { converged?: number; ms?: number };
  const luns = await n.must("ls -d /sys/kernel/config/target/iscsi/*/tpgt_*/lun/lun_0 2>/dev/null | wc -l");
  return { converged: fields.converged ?? 0, reconcileS: (fields.ms ?? 0) / 1000, restartToReadyS, lunsAfter: Number(luns.stdout.trim()) };
}
