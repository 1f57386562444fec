// Names and identities of a gluster-block block device: what a hosting volume,
// a block and a host may be called, and the identifiers derived from a
// block's GBID (IQN, WWID, the tcmu-runner cfgstring). The GBID itself is
// random per create (the engine draws it). Pure functions, no I/O.
import { isIPv4, isIPv6 } from "node:net";
import { validate as uuidValidate } from "uuid";

/**
 * The original checks `strlen(name) >= 255` and keeps names in 255-byte C
 * buffers, so a name it can create is at most 254 characters. We accept the
 * same, so every name we write is one the original can read back.
 */
export const MAX_NAME_LENGTH = 254;

export const IQN_PREFIX = "iqn.2016-12.org.gluster-block:";

/** tcmu-runner's per-command timeout when the block has no IOTIMEOUT (the original wrote 43). */
export const DEFAULT_IO_TIMEOUT_SEC = 43;

/** A name, address or identifier that does not meet the rules. `field` says which argument. */
export class InvalidNameError extends Error {
  override readonly name = "InvalidNameError";
  constructor(
    readonly field: "volume" | "block" | "host" | "gbid" | "volserver",
    readonly value: string,
    message: string,
  ) {
    super(message);
  }
}

const NAME_CHARS = /^[A-Za-z0-9_-]+$/;

function describeBadChar(value: string): string {
  const bad = [...value].find((c) => !/[A-Za-z0-9_-]/.test(c)) ?? "";
  const code = bad.codePointAt(0) ?? 0;
  return code < 0x20 || code === 0x7f ? `control character U+${code.toString(16).padStart(4, "0")}` : `'${bad}'`;
}

/** Printable form of a user-supplied value for an error message: control characters escaped, long values cut. */
export function quoteForMessage(value: string): string {
  const cut = value.length > 64 ? `${value.slice(0, 64)}...` : value;
  return JSON.stringify(cut);
}

function checkName(field: "volume" | "block", value: string): void {
  const what = field === "volume" ? "volume name" : "block name";
  if (value.length === 0) throw new InvalidNameError(field, value, `${what} is empty`);
  if (value.length > MAX_NAME_LENGTH) {
    throw new InvalidNameError(field, value, `${what} is ${value.length} characters long; at most ${MAX_NAME_LENGTH} are allowed`);
  }
  if (!NAME_CHARS.test(value)) {
    throw new InvalidNameError(
      field,
      value,
      `${what} ${quoteForMessage(value)} contains ${describeBadChar(value)}; only letters, digits, '-' and '_' are allowed`,
    );
  }
}

/**
 * A hosting volume name. Gluster's own rule (cli_validate_volname) is the same
 * alphabet, no '.', and no leading '-'; the original gluster-block used the
 * block-name rule for volumes too, so both rules hold here.
 */
export function validateVolumeName(volume: string): void {
  checkName("volume", volume);
  if (volume.startsWith("-")) {
    throw new InvalidNameError("volume", volume, `volume name ${quoteForMessage(volume)} must not start with '-'`);
  }
}

/** A block name: `[A-Za-z0-9_-]`, 1..254 characters (it is also the journal's file name). */
export function validateBlockName(block: string): void {
  checkName("block", block);
}

/**
 * A storage-node address: an IPv4 or IPv6 literal. Hostnames are refused as
 * in the original (gluster-block#187): portals, journal lines and peer
 * checks compare addresses textually. IPv6 zone ids (`%eth0`) are refused.
 */
export function validateHostAddress(host: string): void {
  if (host.length === 0) throw new InvalidNameError("host", host, "host address is empty");
  if (isIPv4(host)) return;
  if (isIPv6(host) && !host.includes("%")) return;
  throw new InvalidNameError(
    "host",
    host,
    `host address ${quoteForMessage(host)} is not an IP address; hostnames are not supported, use IPv4 or IPv6 addresses`,
  );
}

/** A name validateBlockName accepts (e.g. a /block-meta entry that can be a block). */
export function isValidBlockName(name: string): boolean {
  try {
    validateBlockName(name);
    return true;
  } catch {
    return false;
  }
}

export function isHostAddress(host: string): boolean {
  try {
    validateHostAddress(host);
    return true;
  } catch {
    return false;
  }
}

/** Canonical text of an address, for comparisons: IPv6 lower-cased and fully expanded; IPv4 as is. */
export function canonicalHost(host: string): string {
  if (!isIPv6(host)) return host;
  let text = host.toLowerCase();
  // an embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const fill = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill("0");
  return [...headGroups, ...fill, ...tailGroups].map((g) => g.padStart(4, "0")).join(":");
}

/** Split `<volname>/<blockname>` and validate both halves. */
export function parseVolumeBlock(text: string): { volume: string; block: string } {
  const slash = text.indexOf("/");
  if (slash < 0) {
    throw new InvalidNameError("block", text, `argument '<volname/blockname>' (${quoteForMessage(text)}) has no '/'`);
  }
  const volume = text.slice(0, slash);
  const block = text.slice(slash + 1);
  validateVolumeName(volume);
  validateBlockName(block);
  return { volume, block };
}

function checkGbid(gbid: string): void {
  // GBIDs are uuid_unparse() output (v4, lower case), the original's and ours; earlier builds of ours wrote v5
  if (!uuidValidate(gbid) || gbid !== gbid.toLowerCase()) {
    throw new InvalidNameError("gbid", gbid, `GBID ${quoteForMessage(gbid)} is not a lower-case UUID`);
  }
}

export function isGbid(gbid: string): boolean {
  try {
    checkGbid(gbid);
    return true;
  } catch {
    return false;
  }
}

/** The iSCSI target name every HA node uses for the block. */
export function iqnFor(gbid: string): string {
  checkGbid(gbid);
  return `${IQN_PREFIX}${gbid}`;
}

/**
 * The multipath WWID the initiator will see: "3" (scsi_id's NAA prefix) +
 * "6001405" (NAA 6, LIO's OUI 00:14:05) + the first 25 hex digits of the unit
 * serial, which is the GBID (LIO skips the dashes).
 */
export function wwidFor(gbid: string): string {
  checkGbid(gbid);
  return `36001405${gbid.replace(/-/g, "").slice(0, 25)}`;
}

/**
 * The user:glfs backstore's cfgstring, read by tcmu-runner's glfs handler:
 * `<volume>@<volserver>/block-store/<gbid>;tcmur_cmd_time_out=<s>`. The
 * original always appended the timeout, 43 s when the block has none
 * (journal `IOTIMEOUT: 0`), as the recorded targetcli output shows.
 */
export function cfgstringFor(volume: string, volserver: string, gbid: string, ioTimeoutSec?: number): string {
  validateVolumeName(volume);
  checkGbid(gbid);
  if (volserver !== "localhost" && !isHostAddress(volserver) && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(volserver)) {
    throw new InvalidNameError("volserver", volserver, `volume server ${quoteForMessage(volserver)} is not a host name or address`);
  }
  if (ioTimeoutSec !== undefined && (!Number.isSafeInteger(ioTimeoutSec) || ioTimeoutSec < 0)) {
    throw new RangeError(`io-timeout must be a non-negative integer, got ${ioTimeoutSec}`);
  }
  const timeout = ioTimeoutSec === undefined || ioTimeoutSec === 0 ? DEFAULT_IO_TIMEOUT_SEC : ioTimeoutSec;
  // no brackets around an IPv6 server: tcmu-runner splits at '@' and the first '/', and hands the host to gfapi as is
  return `${volume}@${volserver}/block-store/${gbid};tcmur_cmd_time_out=${timeout}`;
}
