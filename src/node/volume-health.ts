// NodeGetVolumeStats and NodeExpandVolume: usage and condition of a staged
// volume, and online growth after the controller grew the target.
import { lstat } from "node:fs/promises";
import type { NodeGetVolumeStatsResponse } from "../generated/csi/v1/NodeGetVolumeStatsResponse.js";
import { InUseError, NotStagedError, UnknownVolumeError } from "./errors.js";
import { boundDeviceNode } from "./mount.js";
import type { NodeDeps } from "./node-deps.js";
import type { NodeRecord } from "./node-record.js";
import { targetOf } from "./stager.js";

export interface Condition {
  abnormal: boolean;
  message: string;
}

export class VolumeHealth {
  constructor(private readonly deps: NodeDeps) {}

  /** Abnormal when a path is down, a session is not logged in, the WWID does not match, or the filesystem went read-only. */
  async condition(rec: NodeRecord, mountOptions?: readonly string[]): Promise<Condition> {
    const problems: string[] = [];
    const map = await this.deps.multipath.map(rec.wwid);
    if (!map) problems.push(`multipath map ${rec.wwid} is missing`);
    const sessions = await this.deps.sysfs.sessionsOf(rec.iqn);
    for (const portal of rec.portals) {
      const s = sessions.find((x) => x.portal === portal);
      if (!s) problems.push(`no iSCSI session to ${portal}`);
      else if (s.state !== "LOGGED_IN") problems.push(`iSCSI session to ${portal} is ${s.state}`);
      else if (!s.disks.some((dk) => dk.lun === rec.lun)) problems.push(`LUN ${rec.lun} missing on the session to ${portal}`);
    }
    for (const s of sessions)
      for (const dk of s.disks)
        if (dk.lun === rec.lun && dk.wwid !== "" && dk.wwid !== rec.wwid) problems.push(`path ${dk.name} has WWID ${dk.wwid}, expected ${rec.wwid}`);
    if (map) {
      const state = await this.deps.multipath.state(rec.wwid);
      for (const p of state?.paths ?? []) {
        if (p.dmState === "failed" || p.checkerState === "faulty" || p.devState === "offline") {
          const portal = sessions.find((s) => s.disks.some((dk) => dk.name === p.dev))?.portal ?? "?";
          problems.push(`path ${p.dev} (${portal}) is down: dm ${p.dmState}, checker ${p.checkerState}, device ${p.devState}`);
        }
      }
      if (state && state.paths.length === 0) problems.push("the multipath map has no paths");
    }
    if (mountOptions && mountOptions.includes("ro") && !rec.mountFlags.includes("ro"))
      problems.push("the filesystem is mounted read-only (an I/O error made it so, or it was remounted)");
    return { abnormal: problems.length > 0, message: problems.length > 0 ? problems.join("; ") : "healthy" };
  }

  async stats(volumeId: string, volumePath: string): Promise<NodeGetVolumeStatsResponse> {
    const rec = await this.deps.records.get(volumeId);
    if (!rec || rec.phase !== "staged") throw new UnknownVolumeError(`volume ${volumeId} is not staged on this node`);
    if (!(await lstat(volumePath).catch(() => undefined))) throw new UnknownVolumeError(`volume ${volumeId} is not at ${volumePath}: no such path`);
    const mounts = await this.deps.mounter.at(volumePath);
    const map = await this.deps.multipath.map(rec.wwid);
    if (rec.accessType === "block") {
      const here = mounts.some((m) => map && boundDeviceNode(m.source) === map.name);
      if (!here && volumePath !== rec.stagingPath) throw new UnknownVolumeError(`volume ${volumeId} is not published at ${volumePath}`);
      const c = await this.condition(rec);
      return { usage: [{ unit: "BYTES", total: map?.sizeBytes ?? 0 }], volume_condition: c };
    }
    const top = mounts[mounts.length - 1];
    if (!top || !map || top.devNo !== map.devNo) throw new UnknownVolumeError(`volume ${volumeId} is not mounted at ${volumePath}`);
    const u = await this.deps.fs.usage(volumePath);
    // read-only-ness of the filesystem shows on the staging mount (a publish path may be a read-only bind on purpose)
    const staged = (await this.deps.mounter.at(rec.stagingPath)).find((m) => m.devNo === map.devNo);
    const c = await this.condition(rec, staged?.options ?? []);
    return {
      usage: [
        { unit: "BYTES", total: u.totalBytes, available: u.availableBytes, used: u.usedBytes },
        { unit: "INODES", total: u.totalInodes, available: u.freeInodes, used: u.totalInodes - u.freeInodes },
      ],
      volume_condition: c,
    };
  }

  /** Rescan, resize the map, grow the filesystem online; the new size in bytes. */
  async expand(volumeId: string, volumePath: string): Promise<number> {
    const rec = await this.deps.records.get(volumeId);
    if (!rec || rec.phase !== "staged") throw new UnknownVolumeError(`volume ${volumeId} is not staged on this node`);
    const map = await this.deps.attacher.rescanAndResize(targetOf(rec));
    if (!map) throw new NotStagedError(`volume ${volumeId}: multipath map ${rec.wwid} is gone`);
    if (rec.accessType === "mount") {
      const path = (await this.deps.mounter.at(volumePath)).some((m) => m.devNo === map.devNo) ? volumePath : rec.stagingPath;
      if (!(await this.deps.mounter.at(path)).some((m) => m.devNo === map.devNo)) throw new InUseError(`volume ${volumeId} is not mounted at ${volumePath}`);
      await this.deps.fs.grow(this.deps.attacher.devicePath(map), path, rec.fsType);
    }
    return map.sizeBytes;
  }
}
