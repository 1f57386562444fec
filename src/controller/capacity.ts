// CSI capacity ranges to block sizes. Sizes are whole MiB: a MiB is a multiple
// of every block size LIO accepts, and `kubectl get pv` shows round numbers.
// CSI: required_bytes is the floor, limit_bytes the ceiling, 0 means unset;
// both unset means the plugin's default.
import { invalidArgument, outOfRange } from "../rpc/errors.js";

export const MiB = 1024n * 1024n;
export const GiB = 1024n * MiB;
/** The default size when a request names none (a StorageClass cannot; a bare CSI call can). */
export const DEFAULT_VOLUME_BYTES = GiB;
/** The largest size we hand out: the engine's limit (a file offset), in whole MiB. */
export const MAX_VOLUME_BYTES = (((1n << 63n) - 1n) / MiB) * MiB;

/**
 * The smallest volume each filesystem can be made on: mkfs.xfs (xfsprogs 5.19
 * and later; Debian 12 ships 6.1) refuses a device under 300 MiB, so a smaller
 * xfs volume would be bound and then fail at NodeStage. ext4 formats 1 MiB.
 */
export const FILESYSTEM_MIN_BYTES: Readonly<Record<string, bigint>> = { xfs: 300n * MiB, ext4: MiB };

export interface CapacityRangeInput {
  required_bytes: string;
  limit_bytes: string;
}

function bytesOf(field: string, v: string | undefined): bigint {
  let n: bigint;
  try {
    n = BigInt(v === undefined || v === "" ? "0" : v);
  } catch {
    throw invalidArgument(`capacity_range.${field} ${JSON.stringify(v)} is not a whole number`);
  }
  if (n < 0n) throw invalidArgument(`capacity_range.${field} is negative (${n})`);
  return n;
}

const roundUp = (n: bigint): bigint => ((n + MiB - 1n) / MiB) * MiB;
const roundDown = (n: bigint): bigint => (n / MiB) * MiB;

export interface ParsedRange {
  required: bigint;
  limit: bigint;
}

export function parseRange(range: CapacityRangeInput | null | undefined): ParsedRange {
  const required = bytesOf("required_bytes", range?.required_bytes);
  const limit = bytesOf("limit_bytes", range?.limit_bytes);
  if (limit > 0n && required > limit) throw invalidArgument(`capacity_range.required_bytes (${required}) exceeds limit_bytes (${limit})`);
  return { required, limit };
}

/**
 * The size CreateVolume makes: the required bytes rounded up to a MiB, and up
 * to the filesystem's smallest (`fsType` of a mount volume; none for a raw
 * block), within the limit: CSI lets a plugin make a volume larger than
 * required_bytes as long as it stays within limit_bytes.
 */
export function createSize(range: CapacityRangeInput | null | undefined, defaultBytes: bigint = DEFAULT_VOLUME_BYTES, fsType?: string): bigint {
  const { required, limit } = parseRange(range);
  let size: bigint;
  if (required === 0n) {
    size = roundUp(defaultBytes);
    if (limit > 0n && size > limit) size = roundDown(limit);
  } else size = roundUp(required);
  if (size < MiB) throw outOfRange(`capacity_range allows no volume: the smallest is 1 MiB, the limit is ${limit} bytes`);
  if (limit > 0n && size > limit) throw outOfRange(`capacity_range [${required}, ${limit}] holds no whole MiB; sizes are whole MiB`);
  const fsMin = fsType === undefined ? undefined : FILESYSTEM_MIN_BYTES[fsType];
  if (fsMin !== undefined && size < fsMin) {
    if (limit > 0n && limit < fsMin) {
      throw outOfRange(
        `capacity_range allows at most ${limit} bytes, but an ${fsType} filesystem needs at least ${fsMin / MiB} MiB; raise the limit or use another fsType`,
      );
    }
    size = fsMin;
  }
  if (size > MAX_VOLUME_BYTES) throw outOfRange(`capacity ${size} bytes is larger than the largest volume (${MAX_VOLUME_BYTES} bytes)`);
  return size;
}

/** Whether an existing volume of `size` satisfies the range (a retried CreateVolume). */
export function sizeFits(size: bigint, range: CapacityRangeInput | null | undefined): boolean {
  const { required, limit } = parseRange(range);
  return size >= required && (limit === 0n || size <= limit);
}

/** The size ControllerExpandVolume grows to; required_bytes is mandatory there. */
export function expandSize(range: CapacityRangeInput | null | undefined): bigint {
  if (!range) throw invalidArgument("capacity_range is required");
  const { required, limit } = parseRange(range);
  if (required === 0n) throw invalidArgument("capacity_range.required_bytes is required");
  const size = roundUp(required);
  if (limit > 0n && size > limit) throw outOfRange(`capacity_range [${required}, ${limit}] holds no whole MiB; sizes are whole MiB`);
  if (size > MAX_VOLUME_BYTES) throw outOfRange(`capacity ${size} bytes is larger than the largest volume (${MAX_VOLUME_BYTES} bytes)`);
  return size;
}
