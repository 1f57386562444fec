// The CSI volume ID: self-describing and versioned, so DeleteVolume and every
// later call need no other state: "v1/<hostingVolume>/<blockName>".
import { invalidArgument } from "../rpc/errors.js";
import { validateBlockName, validateVolumeName } from "../identity/names.js";

export interface VolumeRef {
  hostingVolume: string;
  block: string;
}

/** CSI volume IDs may be at most 128 bytes (spec: "SHOULD NOT exceed 128 bytes" for the CO's sake; kubernetes stores it). */
export const MAX_VOLUME_ID_BYTES = 128;

export function formatVolumeId(ref: VolumeRef): string {
  return `v1/${ref.hostingVolume}/${ref.block}`;
}

/**
 * An ID of another format version of ours ("v2/..."): it may name a live
 * volume a newer plugin made or staged, so no call may answer that it does
 * not exist.
 */
export function isOtherFormatVersion(id: string): boolean {
  return /^v\d+\//.test(id) && !id.startsWith("v1/");
}

/** Parses a volume ID, throwing INVALID_ARGUMENT with a clear message for anything that is not one of ours. */
export function parseVolumeId(id: string): VolumeRef {
  if (id === "") throw invalidArgument("volume_id is required");
  if (Buffer.byteLength(id) > MAX_VOLUME_ID_BYTES) throw invalidArgument(`volume_id is longer than ${MAX_VOLUME_ID_BYTES} bytes`);
  const parts = id.split("/");
  if (parts.length !== 3 || parts[0] !== "v1") throw invalidArgument(`volume_id ${JSON.stringify(id)} is not of the form v1/<hosting-volume>/<block>`);
  const [, hostingVolume = "", block = ""] = parts;
  try {
    validateVolumeName(hostingVolume);
    validateBlockName(block);
  } catch (err) {
    throw invalidArgument(`volume_id ${JSON.stringify(id)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { hostingVolume, block };
}
