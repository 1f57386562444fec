// Periodic repair of staged volumes: log in again on portals that lost their
// session, rescan our LUN where it is missing. It never logs a session out:
// logging out under a mounted filesystem turns a transient outage into I/O
// errors and a read-only filesystem for good (Trident #961).
import type { Logger } from "../util/log.js";
import { Budget } from "./budget.js";
import type { NodeDeps } from "./node-deps.js";
import { targetOf } from "./stager.js";

export interface HealReport {
  volumeId: string;
  relogged: string[];
  failed: string[];
  rescanned: boolean;
}

export class Healer {
  constructor(private readonly deps: NodeDeps) {}

  async runOnce(log: Logger): Promise<HealReport[]> {
    const out: HealReport[] = [];
    for (const rec of await this.deps.records.list()) {
      if (rec.phase !== "staged") continue;
      // a busy volume is being worked on by an RPC; next round
      const release = this.deps.locks.tryAcquire(rec.volumeId);
      if (!release) continue;
      try {
        const t = targetOf(rec);
        const sessions = await this.deps.sysfs.sessionsOf(rec.iqn);
        const missing = rec.portals.filter((p) => !sessions.some((s) => s.portal === p));
        const lunMissing = sessions.some((s) => s.state === "LOGGED_IN" && !s.disks.some((dk) => dk.lun === rec.lun));
        if (missing.length === 0 && !lunMissing) continue;
        const report: HealReport = { volumeId: rec.volumeId, relogged: [], failed: [], rescanned: false };
        if (missing.length > 0) {
          // only portals whose node record (with its CHAP settings) still exists
          const withRecord: string[] = [];
          for (const p of missing) if (await this.deps.iscsi.hasRecord(rec.iqn, p)) withRecord.push(p);
          const failed = await this.deps.attacher.loginAll({ ...t, portals: withRecord }, undefined, new Budget(this.deps.budgetMs), false);
          report.failed = [...failed.keys(), ...missing.filter((p) => !withRecord.includes(p))];
          report.relogged = withRecord.filter((p) => !failed.has(p));
        }
        await this.deps.attacher.scanAndGuard(t);
        report.rescanned = true;
        log.info("healed volume paths", { ...report });
        out.push(report);
      } catch (err) {
        log.warn("healing failed", { volumeId: rec.volumeId, error: err instanceof Error ? err.message : String(err) });
      } finally {
        release();
      }
    }
    return out;
  }
}
