// Volume capabilities the controller accepts: single-node access modes, and
// read-only on many nodes (a filesystem on a LUN has one writer or only
// readers; tcmu fences gateways, not initiators, so a reader's LUN is write
// protected on its ACL), Filesystem (xfs, ext4) or Block.
import type { VolumeCapability__Output } from "../generated/csi/v1/VolumeCapability.js";
import { invalidArgument } from "../rpc/errors.js";

export const SUPPORTED_ACCESS_MODES: readonly string[] = [
  "SINGLE_NODE_WRITER",
  "SINGLE_NODE_SINGLE_WRITER",
  "SINGLE_NODE_READER_ONLY",
  "MULTI_NODE_READER_ONLY",
];
/** modes whose publish maps the LUN read-only */
export const READ_ONLY_ACCESS_MODES: readonly string[] = ["SINGLE_NODE_READER_ONLY", "MULTI_NODE_READER_ONLY"];
/** the one mode several nodes may be published at together */
export const MULTI_NODE_ACCESS_MODES: readonly string[] = ["MULTI_NODE_READER_ONLY"];
export const SUPPORTED_FS_TYPES: readonly string[] = ["xfs", "ext4"];

export interface CapabilitySummary {
  block: boolean;
  mount: boolean;
  /** the fs_type the mount capabilities name ("" when none does) */
  fsType: string;
}

/**
 * Why a capability is unsupported, or undefined when it is supported. With
 * `unknownModeIsAny` an access mode left UNKNOWN (or absent) asks about no
 * mode in particular (GetCapacity's "any mode") and passes; every other call
 * refuses a capability without a supported mode.
 */
export function capabilityProblem(cap: VolumeCapability__Output, o: { unknownModeIsAny?: boolean } = {}): string | undefined {
  const mode = String(cap.access_mode?.mode ?? "UNKNOWN");
  if (!(o.unknownModeIsAny && mode === "UNKNOWN") && !SUPPORTED_ACCESS_MODES.includes(mode))
    return `access mode ${mode} is not supported (supported: ${SUPPORTED_ACCESS_MODES.join(", ")})`;
  if (cap.block) return undefined;
  if (cap.mount) {
    const fs = cap.mount.fs_type;
    if (fs !== "" && !SUPPORTED_FS_TYPES.includes(fs)) return `fs_type ${JSON.stringify(fs)} is not supported (supported: ${SUPPORTED_FS_TYPES.join(", ")})`;
    return undefined;
  }
  return "access_type is required: block or mount";
}

/** Checks every capability (INVALID_ARGUMENT naming the first bad one) and summarises them. */
export function checkCapabilities(caps: readonly VolumeCapability__Output[] | undefined, field = "volume_capabilities"): CapabilitySummary {
  if (!caps || caps.length === 0) throw invalidArgument(`${field} is required`);
  const fsTypes = new Set<string>();
  let block = false;
  let mount = false;
  caps.forEach((cap, i) => {
    const p = capabilityProblem(cap);
    if (p) throw invalidArgument(`${field}[${i}]: ${p}`);
    if (cap.block) block = true;
    if (cap.mount) {
      mount = true;
      if (cap.mount.fs_type !== "") fsTypes.add(cap.mount.fs_type);
    }
  });
  if (fsTypes.size > 1) throw invalidArgument(`${field}: conflicting fs_type values ${[...fsTypes].join(", ")}`);
  return { block, mount, fsType: [...fsTypes][0] ?? "" };
}

export function checkCapability(cap: VolumeCapability__Output | null | undefined, field = "volume_capability"): CapabilitySummary {
  if (!cap) throw invalidArgument(`${field} is required`);
  return checkCapabilities([cap], field);
}
