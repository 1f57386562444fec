// CSI volume names to block names. The external-provisioner sends
// "pvc-<uid>", already a valid block name, used as is so `gluster-block list`
// shows the PV's name. Anything else is mapped deterministically (a retry of
// the same name finds the same block): unsafe characters become '-', the
// result is cut, and a hash of the whole name keeps distinct names distinct.
import { createHash } from "node:crypto";
import { InvalidNameError } from "./names.js";

/**
 * Names up to this length are kept as they are. Short enough that the volume
 * ID ("v1/<hostingVolume>/<block>", at most 128 bytes) leaves 60 characters
 * for the hosting volume's name.
 */
export const MAX_PLAIN_BLOCK_NAME = 64;
const HASH_CHARS = 12;

export function blockNameFor(csiName: string): string {
  if (csiName === "") throw new InvalidNameError("block", csiName, "name is required");
  if (csiName.length <= MAX_PLAIN_BLOCK_NAME && /^[A-Za-z0-9_-]+$/.test(csiName)) return csiName;
  const hash = createHash("sha256").update(csiName, "utf8").digest("hex").slice(0, HASH_CHARS);
  const base = csiName
    .replace(/[^A-Za-z0-9_-]+/g, "-")
    .slice(0, MAX_PLAIN_BLOCK_NAME - HASH_CHARS - 1)
    .replace(/^[-_]+|[-_]+$/g, "");
  return base === "" ? `vol-${hash}` : `${base}-${hash}`;
}
