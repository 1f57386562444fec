// The iSCSI + multipath half of staging and unstaging one gluster-block
// target: log in on every portal, scan our LUN on our sessions only, wait
// (polling sysfs) for the paths and for the one dm map whose WWID is the
// expected one; and the reverse, which works from what the host shows, with
// the target gone, and after a crash at any step.
import { setTimeout as delay } from "node:timers/promises";
import { join } from "node:path";
import type { Exec } from "../util/exec.js";
import type { Logger } from "../util/log.js";
import { pollFor, type Budget } from "./budget.js";
import { BudgetExceededError, InUseError, NoPathError, NodeRecordError, WwidMismatchError } from "./errors.js";
import type { Chap, Iscsiadm } from "./iscsi.js";
import type { Multipath } from "./multipath.js";
import { boundDeviceNode, type Mounter } from "./mount.js";
import type { DmMap, IscsiSession, ScsiDisk, Sysfs } from "./sysfs.js";
import type { UdevDb } from "./udev.js";

export interface TargetSpec {
  iqn: string;
  portals: readonly string[];
  lun: number;
  wwid: string;
}

export interface AttacherOptions {
  exec: Exec;
  sysfs: Sysfs;
  iscsi: Iscsiadm;
  multipath: Multipath;
  mounter: Mounter;
  udev: UdevDb;
  devDir: string;
  log: Logger;
  /** how long to wait for every portal's path before going on with the ones there (ms) */
  allPathsWaitMs?: number;
  pollMs?: number;
  /** how long a path may wait for udev before multipathd is handed it anyway (ms) */
  udevWaitMs?: number;
}

export interface Attached {
  map: DmMap;
  /** "/dev/dm-3" */
  devicePath: string;
  paths: ScsiDisk[];
  missingPortals: string[];
}

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
/** exec options carrying the call's cancellation, if it has one */
const signalOf = (budget: Budget): { signal?: AbortSignal } => (budget.signal ? { signal: budget.signal } : {});

export function disksAtLun(sessions: readonly IscsiSession[], lun: number): ScsiDisk[] {
  return sessions.flatMap((s) => s.disks.filter((d) => d.lun === lun));
}

export class Attacher {
  private readonly pollMs: number;
  constructor(private readonly deps: AttacherOptions) {
    this.pollMs = deps.pollMs ?? 200;
  }

  devicePath(map: DmMap): string {
    return join(this.deps.devDir, map.name);
  }

  /** Logs in on every portal that has no session yet; returns the portals that failed, with why. */
  async loginAll(t: TargetSpec, chap: Chap | undefined, budget: Budget, writeRecords: boolean): Promise<Map<string, unknown>> {
    const sessions = await this.deps.sysfs.sessionsOf(t.iqn);
    const todo = t.portals.filter((p) => !sessions.some((s) => s.portal === p));
    const failed = new Map<string, unknown>();
    // records one at a time (the database lock serializes them anyway), logins in parallel:
    // a dead portal costs its login timeout once, not once per portal
    const ready: string[] = [];
    for (const p of todo) {
      try {
        if (writeRecords || !(await this.deps.iscsi.hasRecord(t.iqn, p))) await this.deps.iscsi.ensureRecord(t.iqn, p, chap, budget.signal);
        ready.push(p);
      } catch (err) {
        failed.set(p, new NodeRecordError(`the iscsiadm node record of ${t.iqn} at ${p} could not be written: ${errText(err)}`, { cause: err }));
      }
    }
    await Promise.all(
      ready.map(async (p) => {
        try {
          await this.deps.iscsi.login(t.iqn, p, budget.cap(15_000), budget.signal);
        } catch (err) {
          failed.set(p, err);
        }
      }),
    );
    for (const [p, err] of failed) this.deps.log.warn("iSCSI login failed", { iqn: t.iqn, portal: p, error: errText(err) });
    return failed;
  }

  /** Scans our LUN on the sessions of our target that do not show it yet. */
  async scan(t: TargetSpec): Promise<void> {
    for (const s of await this.deps.sysfs.sessionsOf(t.iqn)) {
      if (s.state !== "LOGGED_IN" || s.disks.some((d) => d.lun === t.lun)) continue;
      await this.deps.sysfs.scanLun(s.host, t.lun).catch((err: unknown) => this.deps.log.warn("LUN scan failed", { session: s.name, error: errText(err) }));
    }
  }

  /**
   * Keeps WRITE SAME away from our paths (see Sysfs.disableWriteSame: it
   * kills tcmu-runner on every gateway in turn). Only disks whose WWID is ours.
   */
  async guardPaths(t: TargetSpec, disks?: readonly ScsiDisk[]): Promise<void> {
    const ours = (disks ?? disksAtLun(await this.deps.sysfs.sessionsOf(t.iqn), t.lun)).filter((d) => d.wwid === t.wwid);
    for (const d of ours) {
      if (await this.deps.sysfs.disableWriteSame(d)) this.deps.log.info("WRITE SAME disabled on path", { disk: d.name, hctl: d.hctl, wwid: t.wwid });
    }
  }

  /** Scans our LUN where it is missing, waits a little for the new disks and guards them (the healer's step). */
  async scanAndGuard(t: TargetSpec, waitMs = 5_000): Promise<void> {
    await this.scan(t);
    const started = performance.now();
    for (;;) {
      const sessions = (await this.deps.sysfs.sessionsOf(t.iqn)).filter((s) => s.state === "LOGGED_IN");
      const disks = disksAtLun(sessions, t.lun);
      if (disks.length >= sessions.length || performance.now() - started > waitMs) {
        await this.guardPaths(t, disks);
        return;
      }
      await delay(this.pollMs);
    }
  }

  /** Throws WwidMismatchError if a disk of our target at our LUN has another identity. */
  private checkIdentity(t: TargetSpec, disks: readonly ScsiDisk[]): void {
    for (const d of disks) if (d.wwid !== "" && d.wwid !== t.wwid) throw new WwidMismatchError(t.wwid, d.wwid, d.name);
  }

  async attach(t: TargetSpec, chap: Chap | undefined, budget: Budget): Promise<Attached> {
    await this.deps.multipath.checkConfig();
    await this.deps.multipath.allowWwid(t.wwid);
    const failed = await this.loginAll(t, chap, budget, true);
    budget.checkCancelled(`logging in to ${t.iqn}`);
    // a portal that is down is left to the healer; one whose record failed only a retry with the secret can finish
    const unrecorded = [...failed.values()].find((e) => e instanceof NodeRecordError);
    if (unrecorded) throw unrecorded;
    const logged = (await this.deps.sysfs.sessionsOf(t.iqn)).filter((s) => s.state === "LOGGED_IN");
    if (logged.length === 0) {
      const first = [...failed.values()][0];
      if (first instanceof Error && first.name === "AuthFailedError") throw first;
      throw new NoPathError(
        `no iSCSI session to ${t.iqn} on any of ${t.portals.join(", ")}: ${[...failed.entries()].map(([p, e]) => `${p}: ${errText(e)}`).join("; ")}`,
      );
    }
    await this.scan(t);

    // every logged-in session's path, or what is there once the wait is over
    const wanted = logged.length;
    const allWait = this.deps.allPathsWaitMs ?? 8_000;
    let paths = await pollFor(
      async () => {
        const disks = disksAtLun(await this.deps.sysfs.sessionsOf(t.iqn), t.lun);
        this.checkIdentity(t, disks);
        const good = disks.filter((d) => d.wwid === t.wwid);
        return good.length >= wanted ? good : undefined;
      },
      { budget, limitMs: allWait, intervalMs: this.pollMs },
    );
    if (!paths) {
      await this.scan(t);
      paths = disksAtLun(await this.deps.sysfs.sessionsOf(t.iqn), t.lun);
      this.checkIdentity(t, paths);
      paths = paths.filter((d) => d.wwid === t.wwid);
    }
    if (paths.length === 0) {
      budget.check(`waiting for a path of ${t.iqn}`);
      throw new NoPathError(`logged in to ${t.iqn}, but LUN ${t.lun} did not appear on any session`);
    }
    await this.guardPaths(t, paths);

    // the map: multipathd builds it from the uevents, but queues them behind
    // its checker loop (2-3 s measured in the lab); while the map is not
    // there, hand it one more path at each look, once udev has processed
    // that path (multipathd refuses one it has not: each refused `add path`
    // cost a process start, ~0.3-0.8 s in the lab; an `add path` of a path
    // it holds is a no-op; the first accepted one usually makes the map)
    const handed = new Set<string>();
    const udevDeadline = performance.now() + (this.deps.udevWaitMs ?? 5_000);
    /** hands multipathd the first of `disks` not handed yet that udev has processed (any, once the wait is over) */
    const handNext = async (disks: readonly ScsiDisk[]): Promise<boolean> => {
      for (const d of disks) {
        if (handed.has(d.name)) continue;
        if (performance.now() < udevDeadline && !(await this.deps.udev.initialized(await this.deps.sysfs.devNo(d.name)))) continue;
        handed.add(d.name);
        await this.deps.multipath.addPaths([d.name], budget.signal);
        return true;
      }
      return false;
    };
    let map = await pollFor(
      async () => {
        const m = await this.deps.multipath.map(t.wwid);
        if (m && m.slaves.length > 0) return m;
        await handNext(paths);
        return undefined;
      },
      { budget, intervalMs: this.pollMs },
    );
    if (!map)
      throw new BudgetExceededError(
        `waiting for the multipath map ${t.wwid} (paths ${paths.map((d) => d.name).join(", ")}; is the WWID blacklisted?)`,
        budget.totalMs,
      );
    // a map made by hand: multipathd may have passed over the other paths' uevents (a WWID not yet allowed)
    const left = handed.size > 0 ? paths.filter((d) => !map?.slaves.includes(d.name)) : [];
    if (left.length > 0) {
      handed.clear();
      await pollFor(
        async () => {
          while (await handNext(left));
          return left.every((d) => handed.has(d.name)) ? true : undefined;
        },
        { budget, limitMs: Math.max(0, udevDeadline - performance.now()) + this.pollMs, intervalMs: this.pollMs },
      );
      map = (await this.deps.multipath.map(t.wwid)) ?? map;
    }
    // every slave must be one of the paths we identified
    for (const s of map.slaves) {
      const d = await this.deps.sysfs.disk(s);
      if (!d || d.wwid !== t.wwid) throw new WwidMismatchError(t.wwid, d?.wwid ?? "unknown", s);
    }
    const missingPortals = t.portals.filter((p) => !logged.some((s) => s.portal === p));
    return { map, devicePath: this.devicePath(map), paths, missingPortals };
  }

  /** Maps built over any of these disks (ours by WWID, or one multipathd made from a wrong LUN). */
  private async mapsOver(t: TargetSpec, disks: readonly string[]): Promise<DmMap[]> {
    const maps = await this.deps.sysfs.dmMaps();
    return maps.filter((m) => m.uuid === `mpath-${t.wwid}` || (m.uuid.startsWith("mpath-") && m.slaves.some((s) => disks.includes(s))));
  }

  /** Refuses to go on while any of these maps or disks is mounted or held (never tear down under a mount). */
  async assertUnused(maps: readonly DmMap[], disks: readonly string[]): Promise<void> {
    const mounts = await this.deps.mounter.all();
    const devNos = new Map<string, string>();
    for (const m of maps) devNos.set(m.devNo, m.name);
    for (const d of disks) devNos.set(await this.deps.sysfs.devNo(d), d);
    for (const m of mounts) {
      const byNo = devNos.get(m.devNo);
      const node = boundDeviceNode(m.source);
      const byNode = node !== undefined && (maps.some((x) => x.name === node) || disks.includes(node));
      if (byNo !== undefined || byNode) throw new InUseError(`${byNo ?? node} is still mounted at ${m.target}`);
    }
    for (const m of maps) {
      const holders = await this.deps.sysfs.holders(m.name);
      if (holders.length > 0) throw new InUseError(`${m.name} (${m.dmName}) is held by ${holders.join(", ")}`);
    }
  }

  /**
   * Marks the map read-only on this host (BLKROSET) for a read-only access
   * mode. The target refuses the writes (the reader's LUN is write protected
   * in its ACL), but LIO's MODE SENSE does not report it (WP=0 in the lab's
   * 6.1 kernels), so the kernel thinks the disk writable; XFS then clears
   * stale log blocks on a read-only mount and the mount fails with EREMOTEIO
   * ("log recovery write I/O error"). A read-only block device is written by
   * no filesystem.
   */
  async setReadOnly(map: DmMap, budget: Budget): Promise<void> {
    await this.deps.exec("blockdev", ["--setro", this.devicePath(map)], { timeoutMs: budget.cap(5_000), logger: this.deps.log, ...signalOf(budget) });
  }

  /**
   * Undoes attach from what the host shows: flush and remove the map, delete
   * each path, log out of every portal (unless `keepSessions`), delete the
   * node records and forget the WWID. Idempotent; a gone target only makes it
   * take longer.
   */
  async detach(t: TargetSpec, budget: Budget, opts: { keepSessions?: boolean } = {}): Promise<void> {
    const sessions = await this.deps.sysfs.sessionsOf(t.iqn);
    const disks = sessions.flatMap((s) => s.disks.map((d) => d.name));
    const maps = await this.mapsOver(t, disks);
    const allDisks = [...new Set([...disks, ...maps.flatMap((m) => m.slaves)])];
    await this.assertUnused(maps, allDisks);
    for (const m of maps) {
      await this.deps
        .exec("blockdev", ["--flushbufs", this.devicePath(m)], { timeoutMs: budget.cap(5_000), logger: this.deps.log, ...signalOf(budget) })
        .catch((err: unknown) => this.deps.log.warn("flushbufs failed", { device: m.name, error: errText(err) }));
      budget.checkCancelled(`flushing ${m.name}`);
      const wwid = m.uuid.replace(/^mpath-/, "");
      await this.deps.multipath.disableQueueing(wwid, budget.signal);
      if (!(await this.deps.multipath.flush(wwid, budget))) {
        budget.check(`removing multipath map ${m.dmName}`);
        throw new InUseError(`multipath map ${m.dmName} (${m.name}) could not be removed; retry`);
      }
    }
    // the paths: only now that no map holds them; none may be held before any goes
    const present: string[] = [];
    for (const d of allDisks) {
      if (!(await this.deps.sysfs.exists(d))) continue;
      const holders = await this.deps.sysfs.holders(d);
      if (holders.length > 0) throw new InUseError(`path ${d} is still held by ${holders.join(", ")}`);
      present.push(d);
    }
    // each path's removal waits on its own target (a SYNCHRONIZE CACHE): side by side
    await Promise.all(
      present.map(async (d) => {
        await this.deps
          .exec("blockdev", ["--flushbufs", join(this.deps.devDir, d)], { timeoutMs: budget.cap(5_000), logger: this.deps.log, ...signalOf(budget) })
          .catch(() => undefined);
        await this.deps.sysfs.deleteDisk(d).catch((err: unknown) => this.deps.log.warn("deleting path failed", { disk: d, error: errText(err) }));
      }),
    );
    await pollFor(async () => ((await Promise.all(allDisks.map((d) => this.deps.sysfs.exists(d)))).some(Boolean) ? undefined : true), {
      budget,
      limitMs: 5_000,
      intervalMs: this.pollMs,
    });
    if (!opts.keepSessions) {
      const portals = new Set([...sessions.map((s) => s.portal).filter((p) => p !== ""), ...(await this.deps.iscsi.recordPortals(t.iqn))]);
      budget.check(`logging out of ${t.iqn}`);
      // one session per portal, each its own connection: logged out side by side, as they were logged in
      const outs = await Promise.allSettled([...portals].map((p) => this.deps.iscsi.logout(t.iqn, p, budget.cap(15_000), budget.signal)));
      const failed = outs.find((o): o is PromiseRejectedResult => o.status === "rejected");
      if (failed) throw failed.reason;
      // a session whose connection lost its address: log out by target
      if ((await this.deps.sysfs.sessionsOf(t.iqn)).length > 0) {
        await this.deps.exec("iscsiadm", ["-m", "node", "-T", t.iqn, "--logout"], {
          timeoutMs: budget.cap(15_000),
          logger: this.deps.log,
          okExitCodes: [21],
          ...signalOf(budget),
        });
      }
      await this.deps.iscsi.deleteRecords(t.iqn, undefined, budget.signal);
    }
    // a failure fails the detach: its retry still has the record naming the WWID (a GBID is random per
    // create, so a retry without the record could not name it again)
    await this.deps.multipath.forgetWwid(t.wwid, budget.signal);
    // a last look: slaves vanish briefly during logout, so check maps again
    if (await this.deps.multipath.map(t.wwid)) {
      await delay(this.pollMs);
      if (await this.deps.multipath.map(t.wwid)) await this.deps.multipath.flush(t.wwid, budget);
    }
  }

  /** Rescans our paths' capacity (after the target grew) and resizes the map. */
  async rescanAndResize(t: TargetSpec): Promise<DmMap | undefined> {
    for (const d of disksAtLun(await this.deps.sysfs.sessionsOf(t.iqn), t.lun)) {
      await this.deps.sysfs.rescanDisk(d.name).catch((err: unknown) => this.deps.log.warn("rescan failed", { disk: d.name, error: errText(err) }));
    }
    await this.guardPaths(t);
    const map = await this.deps.multipath.map(t.wwid);
    if (map) await this.deps.multipath.resize(t.wwid);
    return this.deps.multipath.map(t.wwid);
  }
}
