// Garbage collector of iSCSI sessions and multipath maps this plugin (or an
// earlier run of it) left behind. Dry-run by default: it reports, and removes
// only when configured to. It considers ONLY targets of our IQN prefix
// (iqn.2016-12.org.gluster-block:) and, of those, only what:
//   - no node record owns (a stage in progress writes its record first),
//   - no mount uses (neither the map nor a path, nor a bind mount of either),
//   - has looked orphaned for at least the grace period (seen on an earlier
//     run at least `graceMs` ago), so a stage racing the collector is safe.
// Maps are touched only when their paths are sessions of such a target.
// Anything else on the host (other initiators' sessions, other maps) is
// never looked at beyond reading sysfs.
import type { Logger } from "../util/log.js";
import { IQN_PREFIX } from "../identity/names.js";
import { Budget } from "./budget.js";
import type { NodeDeps } from "./node-deps.js";
import { InUseError } from "./errors.js";

export type GcMode = "dry-run" | "fix";

export interface GcFinding {
  iqn: string;
  portals: string[];
  disks: string[];
  maps: string[];
  /** "orphan" (no record owns it), "record-only" (iscsiadm node records, no session) */
  kind: "orphan" | "record-only";
  action: "within-grace" | "in-use" | "would-remove" | "removed" | "failed";
  detail: string;
}

export interface GcOptions {
  mode: GcMode;
  graceMs: number;
  now?: () => number;
}

export class GarbageCollector {
  private readonly firstSeen = new Map<string, number>();
  private readonly now: () => number;
  constructor(
    private readonly deps: NodeDeps,
    private readonly options: GcOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async runOnce(log: Logger): Promise<GcFinding[]> {
    const owned = new Set((await this.deps.records.list()).map((r) => r.iqn));
    const sessions = (await this.deps.sysfs.sessions()).filter((s) => s.targetName.startsWith(IQN_PREFIX) && !owned.has(s.targetName));
    const recordTargets = (await this.deps.iscsi.recordTargets()).filter((t) => t.startsWith(IQN_PREFIX) && !owned.has(t));
    const iqns = [...new Set([...sessions.map((s) => s.targetName), ...recordTargets])];
    const maps = await this.deps.sysfs.dmMaps();
    const findings: GcFinding[] = [];
    const stillOrphan = new Set<string>();
    for (const iqn of iqns) {
      const mine = sessions.filter((s) => s.targetName === iqn);
      const disks = mine.flatMap((s) => s.disks.map((dk) => dk.name));
      const over = maps.filter((m) => m.slaves.some((s) => disks.includes(s)));
      const f: GcFinding = {
        iqn,
        portals: mine.map((s) => s.portal),
        disks,
        maps: over.map((m) => `${m.dmName} (${m.name})`),
        kind: mine.length > 0 ? "orphan" : "record-only",
        action: "would-remove",
        detail: "",
      };
      findings.push(f);
      stillOrphan.add(iqn);
      try {
        await this.deps.attacher.assertUnused(over, disks);
      } catch (err) {
        if (!(err instanceof InUseError)) throw err;
        f.action = "in-use";
        f.detail = err.message;
        continue;
      }
      const seen = this.firstSeen.get(iqn) ?? this.now();
      this.firstSeen.set(iqn, seen);
      const age = this.now() - seen;
      if (age < this.options.graceMs) {
        f.action = "within-grace";
        f.detail = `orphaned for ${Math.round(age / 1000)} s of a ${Math.round(this.options.graceMs / 1000)} s grace period`;
        continue;
      }
      if (this.options.mode === "dry-run") {
        f.detail = "dry run: nothing changed";
        continue;
      }
      const wwid = mine.flatMap((s) => s.disks.map((dk) => dk.wwid)).find((w) => w !== "") ?? over[0]?.uuid.replace(/^mpath-/, "") ?? "";
      const lun = mine.flatMap((s) => s.disks.map((dk) => dk.lun))[0] ?? 0;
      try {
        // a stage that began since the scan above has written its record by now
        if ((await this.deps.records.list()).some((r) => r.iqn === iqn)) {
          f.action = "within-grace";
          f.detail = "a record appeared; left alone";
          continue;
        }
        await this.deps.attacher.detach({ iqn, portals: [], lun, wwid }, new Budget(this.deps.budgetMs));
        f.action = "removed";
        this.firstSeen.delete(iqn);
        stillOrphan.delete(iqn);
      } catch (err) {
        f.action = "failed";
        f.detail = err instanceof Error ? err.message : String(err);
      }
    }
    for (const k of [...this.firstSeen.keys()]) if (!stillOrphan.has(k)) this.firstSeen.delete(k);
    for (const f of findings) log.info("gc finding", { mode: this.options.mode, ...f });
    return findings;
  }
}
