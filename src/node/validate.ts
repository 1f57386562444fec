// Request validation, before anything runs on the host: every failure is
// INVALID_ARGUMENT naming the field, except a volume ID that is present but not
// of our form, or a volume_path (stats, expand) that cannot be a path a volume
// was staged or published at: these name a volume that does not exist there
// (NOT_FOUND, as the CSI spec and csi-sanity have it; for a teardown, OK with
// nothing done), checked after every required field.
import { isAbsolute } from "node:path";
import { invalidArgument, notFound } from "../rpc/errors.js";
import { isOtherFormatVersion, parseVolumeId, type VolumeRef } from "../csi/volume-id.js";
import { parseVolumeContext, SECRET_KEYS, type VolumeContext } from "../csi/volume-context.js";
import { publishedReadOnly } from "../csi/publish-context.js";
import { iqnFor, wwidFor, isGbid } from "../identity/names.js";
import type { VolumeCapability__Output } from "../generated/csi/v1/VolumeCapability.js";
import { DEFAULT_FS, isSupportedFs, SUPPORTED_FS, type FsType } from "./filesystem.js";
import type { Chap } from "./iscsi.js";

export interface Capability {
  accessType: "mount" | "block";
  fsType: FsType;
  mountFlags: string[];
  /** the access mode only allows reading */
  readOnlyMode: boolean;
}

const SINGLE_NODE = new Set(["SINGLE_NODE_WRITER", "SINGLE_NODE_SINGLE_WRITER", "SINGLE_NODE_MULTI_WRITER"]);
const READ_ONLY = new Set(["SINGLE_NODE_READER_ONLY", "MULTI_NODE_READER_ONLY"]);
/** mount options that would send discards through tcmu (see filesystem.ts) */
const FORBIDDEN_FLAGS = new Set(["discard"]);

/** The volume_id field is set (INVALID_ARGUMENT otherwise); whether it names a volume is knownVolume's question. */
export function requireVolumeId(id: string | undefined): string {
  return requireField("volume_id", id);
}

/** The volume a present volume_id names: one not of our form cannot exist, so NOT_FOUND. Call it after the required fields. */
export function knownVolume(id: string): VolumeRef {
  try {
    return parseVolumeId(id);
  } catch (err) {
    throw notFound(`volume ${JSON.stringify(id.slice(0, 140))} does not exist: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** What is wrong with a path the plugin may act on, if anything: it must be absolute and must not climb with "..". */
function pathProblem(p: string): string | undefined {
  if (!isAbsolute(p)) return "is not an absolute path";
  if (p.split("/").includes("..")) return 'contains ".."';
  return undefined;
}

/** A path field the call works at (staging, target): required, absolute, no "..", else INVALID_ARGUMENT. */
/**
 * The volume a teardown (NodeUnstageVolume, NodeUnpublishVolume) names, or
 * undefined for an ID not of our form: it names no volume, so nothing of it is
 * staged or published here, and CSI wants OK for a volume not staged at the
 * path (a kubelet would retry a refused teardown for ever). An ID of another
 * format version is refused (INVALID_ARGUMENT): a newer plugin may have staged
 * the volume it names, and this one cannot undo that. Call it after the required fields.
 */
export function teardownVolume(id: string): VolumeRef | undefined {
  if (isOtherFormatVersion(id))
    throw invalidArgument(`volume_id ${JSON.stringify(id.slice(0, 140))} has a format version this plugin does not know; a newer plugin must undo what it did`);
  try {
    return parseVolumeId(id);
  } catch {
    return undefined;
  }
}

export function requirePath(field: string, p: string | undefined): string {
  const present = requireField(field, p);
  const problem = pathProblem(present);
  if (problem) throw invalidArgument(`${field} ${JSON.stringify(present)} ${problem}`);
  return present;
}

/** The field is set (INVALID_ARGUMENT otherwise); what it names is checked after every required field. */
export function requireField(field: string, p: string | undefined): string {
  if (p === undefined || p === "") throw invalidArgument(`${field} is required`);
  return p;
}

/**
 * The path a volume is said to be staged or published at (NodeGetVolumeStats,
 * NodeExpandVolume): one that is not absolute, or climbs with "..", is no path
 * the CO staged or published a volume at, so the volume does not exist there
 * (NOT_FOUND, as csi-sanity's "some/path" expects). Call it after the required fields.
 */
export function knownVolumePath(field: string, p: string): string {
  const problem = pathProblem(p);
  if (problem) throw notFound(`no volume is staged or published at ${field} ${JSON.stringify(p.slice(0, 200))}: it ${problem}`);
  return p;
}

export function requireCapability(cap: VolumeCapability__Output | null | undefined, contextFsType = ""): Capability {
  if (!cap) throw invalidArgument("volume_capability is required");
  const mode = String(cap.access_mode?.mode ?? "UNKNOWN");
  if (!SINGLE_NODE.has(mode) && !READ_ONLY.has(mode)) {
    throw invalidArgument(
      `volume_capability.access_mode ${mode} is not supported: a gluster-block volume is attached to one node at a time (or read-only on several)`,
    );
  }
  if (cap.block) return { accessType: "block", fsType: DEFAULT_FS, mountFlags: [], readOnlyMode: READ_ONLY.has(mode) };
  if (!cap.mount) throw invalidArgument("volume_capability.access_type must be block or mount");
  const fs = cap.mount.fs_type || contextFsType || DEFAULT_FS;
  if (!isSupportedFs(fs)) throw invalidArgument(`volume_capability.mount.fs_type ${JSON.stringify(fs)} is not supported (${SUPPORTED_FS.join(", ")})`);
  const flags = (cap.mount.mount_flags ?? [])
    .flatMap((f) => f.split(","))
    .map((f) => f.trim())
    .filter((f) => f !== "");
  for (const f of flags) {
    if (FORBIDDEN_FLAGS.has(f))
      throw invalidArgument(`volume_capability.mount.mount_flags: ${f} is not allowed (discards through tcmu-runner's glfs handler time out)`);
  }
  return { accessType: "mount", fsType: fs, mountFlags: flags, readOnlyMode: READ_ONLY.has(mode) };
}

/**
 * The capability as this node must use it: read-only too when the controller
 * published the volume here read-only (its LUN write protected for this
 * initiator), whatever the access mode says: a read-write capability with
 * ControllerPublishVolume.readonly. No format, no repair, mounted ro.
 */
export function asPublished(cap: Capability, publishContext: Readonly<Record<string, string>> | undefined): Capability {
  return publishedReadOnly(publishContext) && !cap.readOnlyMode ? { ...cap, readOnlyMode: true } : cap;
}

/** The context of a stage request, with its identities checked against each other (IQN and WWID both derive from the GBID). */
export function requireContext(ctx: Record<string, string> | undefined): VolumeContext {
  const c = parseVolumeContext(ctx ?? {});
  if (!isGbid(c.gbid)) throw invalidArgument(`volume_context.gbid ${JSON.stringify(c.gbid)} is not a GBID`);
  if (c.iqn !== iqnFor(c.gbid)) throw invalidArgument(`volume_context.iqn ${c.iqn} is not the target of GBID ${c.gbid}`);
  if (c.wwid !== wwidFor(c.gbid)) throw invalidArgument(`volume_context.wwid ${c.wwid} is not the WWID of GBID ${c.gbid} (expected ${wwidFor(c.gbid)})`);
  if (c.portals.length === 0) throw invalidArgument("volume_context.portals is empty");
  return c;
}

export function requireChap(ctx: VolumeContext, secrets: Record<string, string> | undefined): Chap | undefined {
  const username = secrets?.[SECRET_KEYS.username] ?? "";
  const password = secrets?.[SECRET_KEYS.password] ?? "";
  if (!ctx.auth && username === "" && password === "") return undefined;
  if (username === "") throw invalidArgument(`secrets.${SECRET_KEYS.username} is required (the volume uses CHAP)`);
  if (password === "") throw invalidArgument(`secrets.${SECRET_KEYS.password} is required (the volume uses CHAP)`);
  if (/[\0\n]/.test(username) || /[\0\n]/.test(password)) throw invalidArgument("secrets: CHAP credentials must not contain newlines");
  return { username, password };
}
