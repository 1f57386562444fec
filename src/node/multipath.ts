// dm-multipath through multipath/multipathd: let our WWID (and only it) be
// mapped, find the map by WWID in sysfs, flush it bounded and retried, resize
// it, and read its paths' states as JSON.
import type { Exec } from "../util/exec.js";
import { ExecError } from "../util/exec.js";
import type { Logger } from "../util/log.js";
import { pause, type Budget } from "./budget.js";
import { HostConfigError } from "./errors.js";
import { effectiveTcmuSettings, parseMultipathConfig, tcmuSettingProblems, type EffectiveSettings } from "./multipath-config.js";
import type { DmMap, Sysfs } from "./sysfs.js";

export interface PathState {
  dev: string;
  /** device-mapper's view: "active" | "failed" */
  dmState: string;
  /** path checker's view: "ready" | "faulty" | "shaky" | "ghost" | ... */
  checkerState: string;
  /** "running" | "offline" | ... */
  devState: string;
}

export interface MapState {
  paths: PathState[];
  features: string;
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
const str = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");

/** Parses `multipathd show map <wwid> json` (one "map") or `show maps json` ("maps") into path states. */
export function parseMapJson(text: string, wwid: string): MapState | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const root = asRecord(doc);
  if (!root) return undefined;
  const maps: unknown[] = Array.isArray(root.maps) ? root.maps : root.map !== undefined ? [root.map] : [];
  for (const m of maps.map(asRecord)) {
    if (!m || (str(m.uuid) !== wwid && str(m.name) !== wwid)) continue;
    const paths: PathState[] = [];
    for (const g of Array.isArray(m.path_groups) ? m.path_groups.map(asRecord) : []) {
      for (const p of g && Array.isArray(g.paths) ? g.paths.map(asRecord) : []) {
        if (p) paths.push({ dev: str(p.dev), dmState: str(p.dm_st), checkerState: str(p.chk_st), devState: str(p.dev_st) });
      }
    }
    return { paths, features: str(m.features) };
  }
  return undefined;
}

export interface MultipathOptions {
  exec: Exec;
  sysfs: Sysfs;
  log: Logger;
}

export class Multipath {
  private checked: { at: number; settings: EffectiveSettings } | undefined;
  constructor(private readonly deps: MultipathOptions) {}

  /** Refuses settings that endanger tcmu volumes (cached for a minute). */
  async checkConfig(): Promise<EffectiveSettings> {
    if (this.checked && performance.now() - this.checked.at < 60_000) return this.checked.settings;
    const r = await this.deps.exec("multipathd", ["show", "config"], { timeoutMs: 10_000, logger: this.deps.log });
    const settings = effectiveTcmuSettings(parseMultipathConfig(r.stdout));
    const problems = tcmuSettingProblems(settings);
    if (problems.length > 0) throw new HostConfigError(`multipath settings for LIO-ORG TCMU devices are unsafe: ${problems.join("; ")}`);
    if (settings.findMultipaths === "no" || settings.findMultipaths === "off") {
      this.deps.log.warn("multipath find_multipaths is off: multipathd maps every non-blacklisted disk of this host", {
        findMultipaths: settings.findMultipaths,
      });
    }
    this.checked = { at: performance.now(), settings };
    return settings;
  }

  /** Adds the WWID to multipath's wwids file, so find_multipaths strict/smart maps it at its first path. */
  async allowWwid(wwid: string): Promise<void> {
    // not fatal: with find_multipaths greedy/off (or a blacklist exception) the map comes anyway, and
    // the wait for it says clearly when it does not
    await this.deps.exec("multipath", ["-a", wwid], { timeoutMs: 10_000, logger: this.deps.log }).catch((err: unknown) => {
      this.deps.log.warn("multipath -a failed", { wwid, error: err instanceof Error ? err.message : String(err) });
    });
  }

  /** Removes the WWID from the wwids file; `signal` ends it when the caller cancels. */
  async forgetWwid(wwid: string, signal?: AbortSignal): Promise<void> {
    await this.deps.exec("multipath", ["-w", wwid], { timeoutMs: 10_000, logger: this.deps.log, okExitCodes: [1], ...(signal ? { signal } : {}) });
  }

  /** Asks multipathd to take these paths (it builds the map if the uevent was missed). */
  async addPaths(disks: readonly string[], signal?: AbortSignal): Promise<void> {
    for (const d of disks) {
      await this.deps
        .exec("multipathd", ["add", "path", d], { timeoutMs: 10_000, logger: this.deps.log, okExitCodes: [1], ...(signal ? { signal } : {}) })
        .catch((err: unknown) => {
          this.deps.log.warn("multipathd add path failed", { disk: d, error: err instanceof Error ? err.message : String(err) });
        });
    }
  }

  map(wwid: string): Promise<DmMap | undefined> {
    return this.deps.sysfs.multipathMap(wwid);
  }

  async state(wwid: string): Promise<MapState | undefined> {
    try {
      const r = await this.deps.exec("multipathd", ["show", "maps", "json"], { timeoutMs: 10_000, logger: this.deps.log });
      return parseMapJson(r.stdout, wwid);
    } catch (err) {
      this.deps.log.warn("multipathd show maps json failed", { error: err instanceof Error ? err.message : String(err) });
      return undefined;
    }
  }

  /** Makes the map fail I/O instead of queueing it, so a flush cannot hang on a dead target. */
  async disableQueueing(wwid: string, signal?: AbortSignal): Promise<void> {
    await this.deps
      .exec("multipathd", ["disablequeueing", "map", wwid], { timeoutMs: 10_000, logger: this.deps.log, okExitCodes: [1], ...(signal ? { signal } : {}) })
      .catch(() => undefined);
  }

  /** Removes the map: `multipath -f`, bounded (10 s a try) and retried; true when it is gone. */
  async flush(wwid: string, budget: Budget): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (!(await this.map(wwid))) return true;
      budget.checkCancelled(`removing multipath map ${wwid}`);
      if (budget.expired()) return false;
      try {
        await this.deps.exec("multipath", ["-f", wwid], {
          timeoutMs: budget.cap(10_000),
          logger: this.deps.log,
          ...(budget.signal ? { signal: budget.signal } : {}),
        });
      } catch (err) {
        this.deps.log.warn("multipath -f failed", { wwid, attempt, error: err instanceof Error ? err.message : String(err) });
      }
      if (!(await this.map(wwid))) return true;
      await pause(budget, 500, `removing multipath map ${wwid}`);
    }
    return !(await this.map(wwid));
  }

  /** Grows the map to its paths' new size. */
  async resize(wwid: string): Promise<void> {
    const r = await this.deps.exec("multipathd", ["resize", "map", wwid], { timeoutMs: 15_000, logger: this.deps.log, okExitCodes: [1] });
    if (!/\bok\b/.test(r.stdout)) {
      throw new ExecError(
        "multipathd",
        ["resize", "map", wwid],
        r.exitCode,
        undefined,
        false,
        r.stderr.slice(-2000),
        r.stdout.slice(-2000),
        r.durationMs,
        "resize refused",
      );
    }
  }
}
