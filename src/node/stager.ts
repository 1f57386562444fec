// NodeStageVolume and NodeUnstageVolume: the record first, then the host,
// then the record again after each phase; unstage works from the record and
// from what the host shows, so a restart, a failed stage or a wiped staging
// directory changes nothing.
import { mkdir } from "node:fs/promises";
import type { Logger } from "../util/log.js";
import type { VolumeRef } from "../csi/volume-id.js";
import { Budget } from "./budget.js";
import { ConflictError, FsTypeMismatchError, WwidMismatchError } from "./errors.js";
import { newFormatIntent, planFormat } from "./format-intent.js";
import type { Chap } from "./iscsi.js";
import type { NodeDeps } from "./node-deps.js";
import type { NodeRecord } from "./node-record.js";
import type { TargetSpec } from "./attacher.js";
import type { Capability } from "./validate.js";
import type { DmMap } from "./sysfs.js";

export interface StageParams {
  volumeId: string;
  stagingPath: string;
  cap: Capability;
  target: TargetSpec;
  chap: Chap | undefined;
}

export const targetOf = (r: NodeRecord): TargetSpec => ({ iqn: r.iqn, portals: r.portals, lun: r.lun, wwid: r.wwid });

export class Stager {
  constructor(private readonly deps: NodeDeps) {}

  /** An existing stage that is whole and matches: nothing to do. */
  private async alreadyStaged(rec: NodeRecord, p: StageParams): Promise<boolean> {
    if (rec.phase !== "staged" || rec.stagingPath !== p.stagingPath) return false;
    const map = await this.deps.multipath.map(rec.wwid);
    if (!map || map.slaves.length === 0) return false;
    if (rec.accessType === "block") return true;
    return (await this.deps.mounter.at(p.stagingPath)).some((m) => m.devNo === map.devNo);
  }

  /** `signal`: the caller's cancellation; the stage stops where it is, and a retry carries on from the record. */
  async stage(p: StageParams, log: Logger, signal?: AbortSignal): Promise<void> {
    const budget = new Budget(this.deps.budgetMs, signal);
    const existing = await this.deps.records.get(p.volumeId);
    if (existing && existing.phase !== "detaching") {
      if (existing.accessType !== p.cap.accessType || (p.cap.accessType === "mount" && existing.fsType !== p.cap.fsType)) {
        throw new ConflictError(
          `volume ${p.volumeId} is already staged here as ${existing.accessType}${existing.accessType === "mount" ? ` (${existing.fsType})` : ""}`,
        );
      }
      if (existing.iqn !== p.target.iqn || existing.wwid !== p.target.wwid)
        throw new ConflictError(`volume ${p.volumeId} is already staged here from target ${existing.iqn}`);
      if (existing.phase === "staged" && existing.stagingPath !== p.stagingPath) {
        throw new ConflictError(`volume ${p.volumeId} is already staged here at ${existing.stagingPath}`);
      }
      if (await this.alreadyStaged(existing, p)) {
        log.info("already staged", { volumeId: p.volumeId });
        return;
      }
    }
    let rec = await this.deps.records.put({
      version: 1,
      volumeId: p.volumeId,
      iqn: p.target.iqn,
      portals: [...p.target.portals],
      lun: p.target.lun,
      wwid: p.target.wwid,
      accessType: p.cap.accessType,
      fsType: p.cap.accessType === "mount" ? p.cap.fsType : "",
      mountFlags: p.cap.readOnlyMode && !p.cap.mountFlags.includes("ro") ? [...p.cap.mountFlags, "ro"] : p.cap.mountFlags,
      stagingPath: p.stagingPath,
      phase: "attaching",
      device: existing?.device ?? "",
      publishedPaths: existing?.publishedPaths ?? [],
      // a format this node began and never saw finish: the retry must know the device's state as its own
      ...(existing?.formatIntent && p.cap.accessType === "mount" ? { formatIntent: existing.formatIntent } : {}),
      updatedAt: "",
    });

    let attached;
    try {
      attached = await this.deps.attacher.attach(p.target, p.chap, budget);
    } catch (err) {
      if (err instanceof WwidMismatchError) {
        // a final error: kubelet will not call unstage, so nothing of this stage may stay
        log.error("WWID mismatch: rolling back the login", { expected: err.expected, found: err.found, device: err.device });
        try {
          await this.deps.attacher.detach(p.target, new Budget(this.deps.budgetMs));
          await this.deps.records.delete(p.volumeId);
        } catch (cleanupErr) {
          log.error("rollback after WWID mismatch failed; unstage or the garbage collector will finish it", {
            error: cleanupErr instanceof Error ? cleanupErr.message : String(cleanupErr),
          });
        }
      }
      throw err;
    }
    if (attached.missingPortals.length > 0) log.warn("staged without every portal; healing will retry them", { missing: attached.missingPortals });
    if (p.cap.readOnlyMode) await this.deps.attacher.setReadOnly(attached.map, budget);
    rec = await this.deps.records.put({ ...rec, phase: "attached", device: attached.map.name });

    if (p.cap.accessType === "mount") rec = await this.mountFilesystem(p, rec, attached.map, attached.devicePath, budget, log);
    await this.deps.records.put({ ...rec, phase: "staged" });
  }

  /** Formats the device if it is blank (or holds our own unfinished format) and mounts it; returns the record, its format intent settled. */
  private async mountFilesystem(p: StageParams, rec: NodeRecord, map: DmMap, device: string, budget: Budget, log: Logger): Promise<NodeRecord> {
    const here = await this.deps.mounter.at(p.stagingPath);
    // mounted only after a format intent was cleared: the filesystem is whole
    if (here.some((m) => m.devNo === map.devNo)) return rec;
    if (here.length > 0) {
      // something else is mounted where our volume goes (a stale mount of an earlier device): never stack on it
      log.warn("staging path holds another mount; unmounting it", { stagingPath: p.stagingPath, source: here.map((m) => m.source) });
      await this.deps.mounter.unmountAll(p.stagingPath, budget.signal);
    }
    await mkdir(p.stagingPath, { recursive: true });
    rec = await this.ensureFilesystem(p, rec, device, budget, log);
    budget.check("mounting");
    const options = [...p.cap.mountFlags, ...(p.cap.readOnlyMode && !p.cap.mountFlags.includes("ro") ? ["ro"] : [])];
    await this.deps.mounter.mount(device, p.stagingPath, p.cap.fsType, options, budget.signal);
    return rec;
  }

  /**
   * The device's filesystem, whole: a format under way is waited for, a
   * blank device (or our own unfinished format) is formatted, an existing
   * filesystem is checked. Returns the record, its format intent settled.
   */
  private async ensureFilesystem(p: StageParams, rec: NodeRecord, device: string, budget: Budget, log: Logger): Promise<NodeRecord> {
    const fsType = p.cap.fsType;
    const formats = this.deps.formats;
    let format = formats.get(p.volumeId);
    if (format && format.device !== device) {
      // begun on another device of this volume (its map was made again since): not this device's format
      await formats.stop(p.volumeId, budget);
      format = undefined;
    }
    if (format) {
      // an earlier call's mkfs goes on: wait for it; never probe a half-made filesystem and format again
      log.info("a format of this device is under way; waiting for it", { device, uuid: format.uuid });
    } else {
      const probe = await this.deps.fs.probe(device);
      const plan = await planFormat({
        device,
        fsType,
        readOnly: p.cap.readOnlyMode,
        probe,
        intent: rec.formatIntent,
        headIsZero: () => this.deps.fs.headIsZero(device),
      });
      if (plan.action !== "format") {
        if (rec.formatIntent) {
          // not our UUID: someone else's filesystem, used as it is; our intent is void
          log.warn("the device holds a filesystem this node did not make; the format intent is dropped", {
            device,
            uuid: probe.uuid,
            intent: rec.formatIntent.uuid,
          });
          rec = await this.withoutIntent(rec);
        }
        if (!p.cap.readOnlyMode) await this.deps.fs.check(device, fsType, budget.signal);
        return rec;
      }
      budget.check("formatting");
      const intent = plan.resume && rec.formatIntent ? rec.formatIntent : newFormatIntent(fsType);
      if (plan.resume) log.warn("formatting again: our own format of this device did not finish", { device, fsType, uuid: intent.uuid, found: plan.why });
      else log.info("formatting a blank device", { device, fsType, uuid: intent.uuid });
      // the intent is durable before mkfs writes a byte, and goes only once mkfs succeeded and blkid sees its work
      if (rec.formatIntent !== intent) rec = await this.deps.records.put({ ...rec, formatIntent: intent });
      format = { device, uuid: intent.uuid };
      const force = plan.resume;
      // the plugin's job, not this call's: it goes on when the call ends first (format-jobs.ts)
      formats.start(p.volumeId, format, (signal) => this.deps.fs.format(device, fsType, { uuid: intent.uuid, force, signal }));
    }
    await formats.claim(p.volumeId, budget);
    const again = await this.deps.fs.probe(device);
    if (again.type !== fsType || again.uuid.toLowerCase() !== format.uuid) {
      throw new FsTypeMismatchError(
        `mkfs.${fsType} finished but blkid sees ${JSON.stringify(again.type)} with UUID ${JSON.stringify(again.uuid)} on ${device}, not ${format.uuid}`,
      );
    }
    return this.withoutIntent(rec);
  }

  private withoutIntent(rec: NodeRecord): Promise<NodeRecord> {
    const { formatIntent: _settled, ...rest } = rec;
    return this.deps.records.put(rest);
  }

  /**
   * Target of a volume with no record: from the staging mount's map and its
   * session, else unknown. A GBID is random per create, so the volume ID
   * cannot name the target: guessing would detach another volume's disk.
   */
  private async inferTarget(stagingPath: string): Promise<TargetSpec | undefined> {
    const here = await this.deps.mounter.at(stagingPath);
    if (here.length > 0) {
      const maps = await this.deps.sysfs.dmMaps();
      const m = maps.find((x) => here.some((h) => h.devNo === x.devNo) && x.uuid.startsWith("mpath-"));
      if (m) {
        const wwid = m.uuid.slice("mpath-".length);
        const sessions = await this.deps.sysfs.sessions();
        const s = sessions.find((x) => x.disks.some((dk) => m.slaves.includes(dk.name)));
        if (s) return { iqn: s.targetName, portals: [], lun: s.disks.find((dk) => m.slaves.includes(dk.name))?.lun ?? 0, wwid };
      }
    }
    return undefined;
  }

  async unstage(ref: VolumeRef, volumeId: string, stagingPath: string, log: Logger, signal?: AbortSignal): Promise<void> {
    const budget = new Budget(this.deps.budgetMs, signal);
    let rec = await this.deps.records.get(volumeId);
    const target = rec ? targetOf(rec) : await this.inferTarget(stagingPath);
    if (!target) {
      // nothing names the volume's target here: no sessions or maps are touched (they may be another volume's)
      log.info("no node record and no target behind the staging path; unmounting only, the volume's sessions are not known here", {
        volume: `${ref.hostingVolume}/${ref.block}`,
        stagingPath,
      });
      await this.deps.mounter.unmountAll(stagingPath, budget.signal);
      return;
    }
    if (!rec) log.info("no node record; cleaning up from what the host shows", { iqn: target.iqn, wwid: target.wwid });
    // a format an earlier stage left running ends before anything of the device goes (its intent stays in the record until the record goes)
    await this.deps.formats.stop(volumeId, budget);
    if (rec) rec = await this.deps.records.put({ ...rec, phase: "detaching" });
    // the umounts, like every program the unstage runs, end when the caller cancels (a retry carries on from the record)
    await this.deps.mounter.unmountAll(stagingPath, budget.signal);
    if (rec && rec.stagingPath !== stagingPath) await this.deps.mounter.unmountAll(rec.stagingPath, budget.signal);
    // static PVs may share a target; the sessions stay while another record uses them
    const others = (await this.deps.records.list()).filter((r) => r.volumeId !== volumeId && r.iqn === target.iqn);
    await this.deps.attacher.detach(target, budget, { keepSessions: others.length > 0 });
    await this.deps.records.delete(volumeId);
  }
}
