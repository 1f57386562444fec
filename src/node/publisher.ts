// NodePublishVolume / NodeUnpublishVolume: a bind mount of the staging mount
// (Filesystem) or of the multipath device node onto a file (Block),
// read-only when asked.
import { mkdir, open, rm, rmdir, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { Logger } from "../util/log.js";
import { ConflictError, NotStagedError } from "./errors.js";
import { boundDeviceNode } from "./mount.js";
import type { NodeDeps } from "./node-deps.js";
import type { Capability } from "./validate.js";

export interface PublishParams {
  volumeId: string;
  stagingPath: string;
  targetPath: string;
  cap: Capability;
  readOnly: boolean;
}

export class Publisher {
  constructor(private readonly deps: NodeDeps) {}

  async publish(p: PublishParams, log: Logger): Promise<void> {
    const rec = await this.deps.records.get(p.volumeId);
    if (!rec || rec.phase !== "staged") throw new NotStagedError(`volume ${p.volumeId} is not staged on this node`);
    if (rec.accessType !== p.cap.accessType) throw new ConflictError(`volume ${p.volumeId} is staged as ${rec.accessType}, not ${p.cap.accessType}`);
    const map = await this.deps.multipath.map(rec.wwid);
    if (!map) throw new NotStagedError(`volume ${p.volumeId}: multipath map ${rec.wwid} is gone; stage it again`);
    const readOnly = p.readOnly || p.cap.readOnlyMode;
    const existing = await this.deps.mounter.at(p.targetPath);

    if (p.cap.accessType === "mount") {
      const staged = await this.deps.mounter.at(p.stagingPath);
      if (!staged.some((m) => m.devNo === map.devNo)) throw new NotStagedError(`staging path ${p.stagingPath} is not mounted from volume ${p.volumeId}`);
      if (existing.length > 0) {
        const top = existing[existing.length - 1];
        if (top && top.devNo === map.devNo && top.options.includes("ro") === readOnly) return;
        throw new ConflictError(`${p.targetPath} is already mounted (${top?.source ?? "?"}, ${top?.options.includes("ro") ? "ro" : "rw"})`);
      }
      await mkdir(p.targetPath, { recursive: true });
      await this.deps.mounter.bind(p.stagingPath, p.targetPath, readOnly);
    } else {
      if (existing.length > 0) {
        const top = existing[existing.length - 1];
        if (top && boundDeviceNode(top.source) === map.name && top.options.includes("ro") === readOnly) return;
        throw new ConflictError(`${p.targetPath} is already mounted (${top?.source ?? "?"})`);
      }
      await mkdir(dirname(p.targetPath), { recursive: true });
      await (await open(p.targetPath, "a", 0o660)).close();
      await this.deps.mounter.bind(this.deps.attacher.devicePath(map), p.targetPath, readOnly);
    }
    const latest = (await this.deps.records.get(p.volumeId)) ?? rec;
    if (!latest.publishedPaths.includes(p.targetPath)) await this.deps.records.put({ ...latest, publishedPaths: [...latest.publishedPaths, p.targetPath] });
    log.info("published", { targetPath: p.targetPath, readOnly });
  }

  async unpublish(volumeId: string, targetPath: string, log: Logger): Promise<void> {
    await this.deps.mounter.unmountAll(targetPath);
    const st = await stat(targetPath).catch(() => undefined);
    if (st?.isDirectory()) {
      await rmdir(targetPath).catch((err: unknown) =>
        log.warn("target directory not removed", { targetPath, error: err instanceof Error ? err.message : String(err) }),
      );
    } else if (st) {
      await rm(targetPath, { force: true });
    }
    const rec = await this.deps.records.get(volumeId);
    if (rec?.publishedPaths.includes(targetPath)) await this.deps.records.put({ ...rec, publishedPaths: rec.publishedPaths.filter((x) => x !== targetPath) });
  }
}
