// The format intent: before the plugin formats a blank device it records, in
// the volume's node record, that it is about to, with a filesystem UUID it
// chose itself, and mkfs writes that UUID. Until mkfs returned success the
// intent stays; a retry after a plugin (or node) killed mid-mkfs then knows
// the device's state as its own unfinished format and formats it again with
// the same UUID. What a killed mkfs leaves (seen with mkfs.xfs 6.1 and
// mke2fs 1.47, SIGKILLed at each write): mkfs.xfs, an xfs superblock with
// our UUID and sb_inprogress set (blkid reports it, the kernel will not
// mount it); mke2fs, which writes its superblock last, no signature at all
// but non-zero blocks in the first MiBs. A half-made filesystem is never
// mounted: while the intent stands, a device with our UUID is formatted
// again (forced), never mounted as it is. Anything else (another UUID,
// another signature, a partition table) is what it was before: never
// formatted.
import { randomUUID } from "node:crypto";
import { FsTypeMismatchError, NotBlankError } from "./errors.js";
import type { FsType, Probe } from "./filesystem.js";

export interface FormatIntent {
  /** filesystem UUID the plugin gave mkfs (lower case) */
  uuid: string;
  fsType: string;
  startedAt: string;
}

export function newFormatIntent(fsType: FsType): FormatIntent {
  return { uuid: randomUUID(), fsType, startedAt: new Date().toISOString() };
}

export function isFormatIntent(v: unknown): v is FormatIntent {
  if (v === null || typeof v !== "object") return false;
  const r = v as Record<string, unknown>;
  return typeof r.uuid === "string" && /^[0-9a-f-]{36}$/.test(r.uuid) && typeof r.fsType === "string" && typeof r.startedAt === "string";
}

/** What to do with the device at a stage: format it (`resume`: our own unfinished format, overwritten by force), or use the filesystem on it. */
export type FormatPlan = { action: "format"; resume: boolean; why: string } | { action: "use" };

export interface PlanInput {
  device: string;
  fsType: FsType;
  readOnly: boolean;
  probe: Probe;
  intent: FormatIntent | undefined;
  /** the first MiBs read back as zeros */
  headIsZero: () => Promise<boolean>;
}

/** Decides from what blkid found and the recorded intent; refuses (throws) whatever may hold someone's data. */
export async function planFormat(i: PlanInput): Promise<FormatPlan> {
  const { device, probe, intent } = i;
  // mkfs never writes a partition table: one is never ours
  if (probe.ptType !== "") throw new NotBlankError(`${device} holds a ${probe.ptType} partition table; refusing to format it`);
  const ours = intent !== undefined && (probe.type === "" || probe.uuid.toLowerCase() === intent.uuid);
  if (ours) {
    if (i.readOnly) throw new NotBlankError(`${device} holds an unfinished format of this node and the volume is read-only; stage it read-write once`);
    // The intent was recorded only after the device read blank and zero, and
    // nothing mounts it while the intent stands: what is on it now is our
    // cut-short mkfs (mke2fs leaves no signature until its last write).
    const why =
      probe.type === ""
        ? "no signature yet (mkfs cut short before its superblock)"
        : `a ${probe.type} signature with our UUID ${intent.uuid} (mkfs cut short, or its success not recorded)`;
    return { action: "format", resume: true, why };
  }
  if (probe.type === "") {
    if (i.readOnly) throw new NotBlankError(`${device} holds no filesystem and the volume is read-only; nothing to mount`);
    if (!(await i.headIsZero())) {
      throw new NotBlankError(`blkid finds no filesystem on ${device}, but its first MiBs are not zeros (or cannot be read); refusing to format it`);
    }
    return { action: "format", resume: false, why: "blank" };
  }
  if (probe.type !== i.fsType) throw new FsTypeMismatchError(`${device} holds a ${probe.type} filesystem, not ${i.fsType}; it is not reformatted`);
  return { action: "use" };
}
