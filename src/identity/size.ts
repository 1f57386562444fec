// Block-device sizes as the gluster-block CLI reads and prints them.
//
// Accepted (from the original's glusterBlockParseSize): an unsigned decimal
// integer, optionally one space, then an optional unit. Units are 1024-based
// and case-insensitive: B, K, M, G, T, P, E (Z and Y parse but always
// overflow), each optionally followed by "i" or "iB" ("1G", "1GiB", "1gib",
// "1 GiB"). "KB", "GB", ... are refused, as the original refuses them.
//
// Not copied: the original read the number with strtod and cast it, so
// "1.5GiB" became 1 GiB, "1e3" and "0x10" were numbers, and a bad size
// printed an error but exited 0. Here every such input is a SizeError.
// Alignment to the sector size is checked by checkDeviceSize, separately; the
// original silently rounded down (see the report).

export type SizeErrorReason = "empty" | "negative" | "zero" | "fraction" | "unit" | "syntax" | "overflow" | "alignment";

export class SizeError extends Error {
  override readonly name = "SizeError";
  constructor(
    readonly reason: SizeErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/** Largest size we accept: a file offset (off_t) and the original's ssize_t both stop here. */
export const MAX_SIZE_BYTES = (1n << 63n) - 1n;

/** The sector size every size is aligned to unless the block has a larger block-size. */
export const SECTOR_SIZE = 512;

const UNIT_POWER: Readonly<Record<string, bigint>> = { b: 0n, k: 1n, m: 2n, g: 3n, t: 4n, p: 5n, e: 6n, z: 7n, y: 8n };
const UNIT_HINT = "use B, K/KiB, M/MiB, G/GiB, T/TiB, P/PiB or E/EiB (1024-based, e.g. 10GiB)";

function show(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}

/** Parse a size argument to bytes. Throws SizeError (and nothing else) for anything but a positive whole size. */
export function parseSize(text: string): bigint {
  if (typeof text !== "string" || text.length === 0) throw new SizeError("empty", "size is empty");
  const m = /^(\d+) ?([A-Za-z]*)$/.exec(text);
  if (!m) {
    if (/^\s*-/.test(text)) throw new SizeError("negative", `size ${show(text)} is negative; give a positive size such as 10GiB`);
    if (/^\+?\d*[.,]\d*(?: ?[A-Za-z]*)$/.test(text) && /\d/.test(text)) {
      throw new SizeError("fraction", `size ${show(text)} has a fraction; give a whole number in a smaller unit (1.5GiB = 1536MiB)`);
    }
    throw new SizeError("syntax", `size ${show(text)} is not a whole number followed by an optional unit; ${UNIT_HINT}`);
  }
  const digits = m[1] ?? "";
  const unit = m[2] ?? "";
  let power = 0n;
  if (unit !== "") {
    const first = unit[0]?.toLowerCase() ?? "";
    const rest = unit.slice(1).toLowerCase();
    const p = UNIT_POWER[first];
    // after the unit letter only a prefix of "ib" may follow, and never after "b"
    const restOk = rest === "" || (first !== "b" && "ib".startsWith(rest));
    if (p === undefined || !restOk) {
      throw new SizeError("unit", `unknown size unit ${show(unit)} in ${show(text)}; ${UNIT_HINT}`);
    }
    power = p;
  }
  const value = BigInt(digits);
  if (value === 0n) throw new SizeError("zero", `size ${show(text)} is zero; give a positive size`);
  const bytes = value * 1024n ** power;
  if (bytes > MAX_SIZE_BYTES) {
    throw new SizeError("overflow", `size ${show(text)} is too large; the largest size is ${formatSize(MAX_SIZE_BYTES)} (${MAX_SIZE_BYTES} bytes)`);
  }
  return bytes;
}

/**
 * A device size must be at least one block and a whole number of blocks
 * (`blockSize`, default the 512-byte sector). Throws SizeError("alignment").
 */
export function checkDeviceSize(bytes: bigint, blockSize: number = SECTOR_SIZE): void {
  const bs = BigInt(blockSize);
  if (bs <= 0n) throw new RangeError(`block size must be positive, got ${blockSize}`);
  if (bytes < bs) {
    throw new SizeError("alignment", `size ${bytes} B is smaller than one block; the minimum is ${blockSize} bytes`);
  }
  const rem = bytes % bs;
  if (rem !== 0n) {
    const down = bytes - rem;
    throw new SizeError("alignment", `size ${bytes} B is not a multiple of the ${blockSize}-byte block size; use ${down} or ${down + bs}`);
  }
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"] as const;

/**
 * Human size as the original prints it in info and modify ("1.0 GiB",
 * "512.0 B", "1.5 GiB"): divide by 1024 while >= 1024, keep only the last
 * remainder, print one decimal. glibc's printf rounds an exact tie to even
 * ("%.1f" of 1.25 is "1.2"), so ties round to even here too; JavaScript's
 * toFixed would round them up.
 */
export function formatSize(bytes: bigint): string {
  if (bytes < 0n) throw new RangeError(`size must not be negative, got ${bytes}`);
  let whole = bytes;
  let rem = 0n;
  let i = 0;
  while (whole >= 1024n && i < UNITS.length - 1) {
    rem = whole % 1024n;
    whole /= 1024n;
    i++;
  }
  // tenths = round_half_even((whole + rem/1024) * 10)
  const num = (whole * 1024n + rem) * 10n;
  let tenths = num / 1024n;
  const r = num % 1024n;
  if (r * 2n > 1024n || (r * 2n === 1024n && tenths % 2n === 1n)) tenths += 1n;
  return `${tenths / 10n}.${tenths % 10n} ${UNITS[i]}`;
}
