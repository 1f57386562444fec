// The gluster-block command line, parsed into a typed command:
//
//   gluster-block [timeout <seconds>] <command> <volname[/blockname]> [<args>] [--json*]
//
// The syntax and defaults are the original 0.5.1's (ha 1, auth disable,
// prealloc full, unlink-storage yes; ring-buffer 1..1024 MB; the same yes/no
// words). The ranges are identity's (src/identity/limits.ts), the ones the
// CSI controller and the engine take too, so the CLI refuses at once what the
// engine would: ha 1..16, block-size 512, 1024, 2048 or 4096, io-timeout
// 1..3600 s (0.5.1 took any ha up to the hosts given, any multiple of 512,
// any io-timeout >= 1 s). Differences, all on inputs the original mishandled:
// - a --json* flag is recognised anywhere, so argument errors are printed as
//   JSON too (the original printed them as plain text);
// - --help and -h are help (the original called --help a bad JSON flag and -h
//   an unknown option);
// - every bad value is an error with exit 255 (the original exited 0 on a bad
//   size and read "1.5GiB" as 1 GiB); unaligned sizes are refused, not
//   silently rounded down;
// - hosts may be IPv6 literals; duplicate hosts are refused; more hosts than
//   `ha` are allowed (the first `ha` are used), as the daemon always allowed;
// - list checks the volume name; delete's options may come in any order.
import { InvalidNameError, canonicalHost, parseVolumeBlock, quoteForMessage, validateHostAddress, validateVolumeName } from "../../identity/names.js";
import { SizeError, SECTOR_SIZE, checkDeviceSize, parseSize } from "../../identity/size.js";
import type { CliCommand, CreateCommand, ParsedArgs } from "./types.js";
import type { JsonStyle } from "./json.js";
import { BLOCK_SIZES, HA_COUNT, IO_TIMEOUT_SEC, RING_BUFFER_MB } from "../../identity/limits.js";
import { isInitiatorName } from "../../identity/initiator-name.js";

/** Exit code of every argument error (the original's -1). */
export const USAGE_EXIT_CODE = 255;
/** No command, or one it does not know: 0.5.1 exits 1 there (and 255 for a known command's bad arguments). */
export const NO_COMMAND_EXIT_CODE = 1;

export const USAGE = {
  create:
    "gluster-block create <volname/blockname> [ha <count>] [auth <enable|disable>] [prealloc <full|no>] " +
    "[storage <filename>] [ring-buffer <size-in-MB-units>] [block-size <size-in-Byte-units>] " +
    "[io-timeout <N-in-Second>] <HOST1[,HOST2,...]> [size] [--json*]",
  list: "gluster-block list <volname> [--json*]",
  info: "gluster-block info <volname/blockname> [--json*]",
  delete: "gluster-block delete <volname/blockname> [unlink-storage <yes|no>] [force] [--json*]",
  modify: "gluster-block modify <volname/blockname> [auth <enable|disable>] [size <size> [force]] [--json*]",
  replace: "gluster-block replace <volname/blockname> <old-node> <new-node> [force] [--json*]",
  reload: "gluster-block reload <volname/blockname> [force] [--json*]",
  genconfig: "gluster-block genconfig <volname[,volume2,volume3,...]> enable-tpg <host> [--json*]",
  audit: "gluster-block audit <volname> [--fix] [--json*]",
  adopt: "gluster-block adopt <volname/blockname> [initiator <iqn1[,iqn2,...]>] [--dry-run] [--json*]",
  general: "gluster-block [timeout <seconds>] <command> <volname[/blockname]> [<args>] [--json*]",
} as const;

/** A command line that cannot be run. `json` is the style asked for, so the error can be printed in it. */
export class CliUsageError extends Error {
  override readonly name = "CliUsageError";
  constructor(
    message: string,
    readonly usage?: string,
    readonly json?: JsonStyle,
    readonly exitCode: number = USAGE_EXIT_CODE,
  ) {
    super(message);
  }
}

const JSON_FLAGS: Readonly<Record<string, JsonStyle>> = {
  "--json": "spaced",
  "--json-spaced": "spaced",
  "--json-plain": "plain",
  "--json-pretty": "pretty",
};

// the original's boolean words (convertStringToTrillianParse)
const TRUE_WORDS = new Set(["yes", "true", "enable", "1", "set", "full"]);
const FALSE_WORDS = new Set(["no", "false", "disable", "0", "unset"]);

const MAX_TIMEOUT_SEC = 2147483647;
const UINT32_MAX = 4294967295;

/** Thrown inside the parser; re-thrown as CliUsageError with the command's usage and the JSON style. */
class ArgError extends Error {}

function bool(option: string, value: string, expected: string): boolean {
  if (TRUE_WORDS.has(value)) return true;
  if (FALSE_WORDS.has(value)) return false;
  throw new ArgError(`'${option}' takes ${expected}, got ${quoteForMessage(value)}`);
}

function uint(option: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value)) throw new ArgError(`'${option}' takes a whole number, got ${quoteForMessage(value)}`);
  const n = Number(value);
  if (n < min || n > max) throw new ArgError(`'${option}' must be between ${min} and ${max}, got ${value}`);
  return n;
}

function volBlock(text: string | undefined): { volume: string; block: string } {
  if (text === undefined) throw new ArgError("missing <volname/blockname>");
  return parseVolumeBlock(text);
}

function noMore(args: readonly string[], from: number): void {
  const extra = args[from];
  if (extra !== undefined) throw new ArgError(`unexpected argument ${quoteForMessage(extra)}`);
}

function hostList(text: string): string[] {
  const hosts = text.split(",");
  if (hosts.some((h) => h === "")) throw new ArgError(`host list ${quoteForMessage(text)} has an empty entry`);
  const seen = new Map<string, string>();
  for (const h of hosts) {
    validateHostAddress(h);
    const key = canonicalHost(h);
    const prev = seen.get(key);
    if (prev !== undefined) throw new ArgError(`host ${h} is given twice in ${quoteForMessage(text)}`);
    seen.set(key, h);
  }
  return hosts;
}

const CREATE_OPTIONS = new Set(["ha", "auth", "prealloc", "storage", "ring-buffer", "block-size", "io-timeout"]);

function parseCreate(args: readonly string[]): CreateCommand {
  const { volume, block } = volBlock(args[0]);
  const opts = new Map<string, string>();
  let i = 1;
  while (i < args.length && CREATE_OPTIONS.has(args[i] ?? "")) {
    const name = args[i] ?? "";
    const value = args[i + 1];
    if (value === undefined) throw new ArgError(`'${name}' needs a value`);
    if (opts.has(name)) throw new ArgError(`'${name}' is given twice`);
    opts.set(name, value);
    i += 2;
  }
  const positional = args.slice(i);
  const storage = opts.get("storage");
  if (storage !== undefined) {
    // eslint-disable-next-line no-control-regex
    if (storage === "" || /[\u0000-\u001f\u007f]/.test(storage)) throw new ArgError("'storage' needs a file name without control characters");
    if (opts.has("prealloc")) throw new ArgError("do not use 'prealloc' with 'storage': the existing file is used as it is");
    if (positional.length === 2) throw new ArgError("do not give a size with 'storage': the size is the file's");
  }
  const wanted = storage === undefined ? 2 : 1;
  if (positional.length < wanted) {
    throw new ArgError(positional.length === 0 ? "missing <host1[,host2,...]>" + (wanted === 2 ? " and <size>" : "") : "missing <size>");
  }
  if (positional.length > wanted) {
    const first = positional[0] ?? "";
    throw new ArgError(
      /^[a-z][a-z-]*$/.test(first)
        ? `unknown option ${quoteForMessage(first)}`
        : `too many arguments: options go before <host1[,host2,...]>${wanted === 2 ? " <size>" : ""}`,
    );
  }
  const hosts = hostList(positional[0] ?? "");
  const haText = opts.get("ha");
  const ha = haText === undefined ? 1 : uint("ha", haText, HA_COUNT.min, HA_COUNT.max);
  if (ha > hosts.length) throw new ArgError(`'ha' is ${ha} but only ${hosts.length} host${hosts.length === 1 ? " is" : "s are"} given`);
  const authText = opts.get("auth");
  const preallocText = opts.get("prealloc");
  const rb = opts.get("ring-buffer");
  const bs = opts.get("block-size");
  const io = opts.get("io-timeout");
  const blockSize = bs === undefined ? undefined : uint("block-size", bs, SECTOR_SIZE, UINT32_MAX);
  if (blockSize !== undefined && !BLOCK_SIZES.includes(blockSize))
    throw new ArgError(`'block-size' must be one of ${BLOCK_SIZES.join(", ")}, got ${blockSize}`);
  let sizeBytes: bigint | undefined;
  if (storage === undefined) {
    sizeBytes = parseSize(positional[1] ?? "");
    checkDeviceSize(sizeBytes, blockSize ?? SECTOR_SIZE);
  }
  return {
    kind: "create",
    volume,
    block,
    ha,
    auth: authText === undefined ? false : bool("auth", authText, "enable or disable"),
    prealloc: preallocText === undefined ? true : bool("prealloc", preallocText, "full or no"),
    ...(rb === undefined ? {} : { ringBufferMb: uint("ring-buffer", rb, RING_BUFFER_MB.min, RING_BUFFER_MB.max) }),
    ...(blockSize === undefined ? {} : { blockSize }),
    ...(io === undefined ? {} : { ioTimeout: uint("io-timeout", io, IO_TIMEOUT_SEC.min, IO_TIMEOUT_SEC.max) }),
    ...(storage === undefined ? {} : { storage }),
    hosts,
    ...(sizeBytes === undefined ? {} : { sizeBytes }),
  };
}

function parseDelete(args: readonly string[]): CliCommand {
  const { volume, block } = volBlock(args[0]);
  let unlinkStorage: boolean | undefined;
  let force = false;
  for (let i = 1; i < args.length; i++) {
    const a = args[i] ?? "";
    if (a === "unlink-storage") {
      if (unlinkStorage !== undefined) throw new ArgError("'unlink-storage' is given twice");
      const v = args[++i];
      if (v === undefined) throw new ArgError("'unlink-storage' needs yes or no");
      unlinkStorage = bool("unlink-storage", v, "yes or no");
    } else if (a === "force") {
      if (force) throw new ArgError("'force' is given twice");
      force = true;
    } else {
      throw new ArgError(`unknown option ${quoteForMessage(a)}`);
    }
  }
  return { kind: "delete", volume, block, unlinkStorage: unlinkStorage ?? true, force };
}

function parseModify(args: readonly string[]): CliCommand {
  const { volume, block } = volBlock(args[0]);
  const what = args[1];
  if (what === "auth") {
    const v = args[2];
    if (v === undefined) throw new ArgError("'auth' needs enable or disable");
    const auth = bool("auth", v, "enable or disable");
    noMore(args, 3);
    return { kind: "modify-auth", volume, block, auth };
  }
  if (what === "size") {
    const v = args[2];
    if (v === undefined) throw new ArgError("'size' needs a size");
    const sizeBytes = parseSize(v);
    checkDeviceSize(sizeBytes);
    let force = false;
    if (args[3] === "force") force = true;
    noMore(args, force ? 4 : 3);
    return { kind: "modify-size", volume, block, sizeBytes, force };
  }
  if (what === undefined) throw new ArgError("modify needs 'auth <enable|disable>' or 'size <size> [force]'");
  throw new ArgError(`unknown option ${quoteForMessage(what)} for modify; use 'auth <enable|disable>' or 'size <size> [force]'`);
}

function parseReplace(args: readonly string[]): CliCommand {
  const { volume, block } = volBlock(args[0]);
  const oldNode = args[1];
  const newNode = args[2];
  if (oldNode === undefined || newNode === undefined) throw new ArgError("missing <old-node> <new-node>");
  validateHostAddress(oldNode);
  validateHostAddress(newNode);
  if (canonicalHost(oldNode) === canonicalHost(newNode)) throw new ArgError(`<old-node> and <new-node> are the same (${oldNode})`);
  const force = args[3] === "force";
  if (args[3] !== undefined && !force) throw new ArgError(`unknown option ${quoteForMessage(args[3])} for replace`);
  noMore(args, 4);
  return { kind: "replace", volume, block, oldNode, newNode, force };
}

function parseReload(args: readonly string[]): CliCommand {
  const { volume, block } = volBlock(args[0]);
  const force = args[1] === "force";
  if (args[1] !== undefined && !force) throw new ArgError(`unknown option ${quoteForMessage(args[1])} for reload`);
  noMore(args, 2);
  return { kind: "reload", volume, block, force };
}

function parseAdopt(args: readonly string[]): CliCommand {
  const { volume, block } = volBlock(args[0]);
  let initiators: string[] = [];
  let dryRun = false;
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    if (a === "--dry-run" && !dryRun) dryRun = true;
    else if (a === "initiator" && initiators.length === 0) {
      const list = args[++i];
      if (list === undefined) throw new ArgError("missing <iqn1[,iqn2,...]> after initiator");
      initiators = list.split(",");
      const bad = initiators.find((x) => !isInitiatorName(x));
      if (bad !== undefined) throw new ArgError(`${quoteForMessage(bad)} is not an iSCSI initiator name (iqn., eui. or naa.)`);
    } else throw new ArgError(`unknown option ${quoteForMessage(a ?? "")} for adopt`);
  }
  return { kind: "adopt", volume, block, initiators: [...new Set(initiators)], dryRun };
}

function parseGenconfig(args: readonly string[]): CliCommand {
  const list = args[0];
  if (list === undefined) throw new ArgError("missing <volname[,volume2,...]>");
  const volumes = list.split(",");
  if (volumes.some((v) => v === "")) throw new ArgError(`volume list ${quoteForMessage(list)} has an empty entry`);
  volumes.forEach(validateVolumeName);
  if (new Set(volumes).size !== volumes.length) throw new ArgError(`volume list ${quoteForMessage(list)} names a volume twice`);
  if (args[1] !== "enable-tpg") {
    throw new ArgError(args[1] === undefined ? "missing 'enable-tpg <host>'" : `unknown option ${quoteForMessage(args[1])} for genconfig`);
  }
  const host = args[2];
  if (host === undefined) throw new ArgError("'enable-tpg' needs a host address");
  validateHostAddress(host);
  noMore(args, 3);
  return { kind: "genconfig", volumes, enableTpg: host };
}

function parseVolumeOnly(args: readonly string[]): string {
  const volume = args[0];
  if (volume === undefined) throw new ArgError("missing <volname>");
  validateVolumeName(volume);
  return volume;
}

const PARSERS: Readonly<Record<string, { usage: string; parse: (args: readonly string[]) => CliCommand }>> = {
  create: { usage: USAGE.create, parse: parseCreate },
  list: {
    usage: USAGE.list,
    parse: (a) => {
      const volume = parseVolumeOnly(a);
      noMore(a, 1);
      return { kind: "list", volume };
    },
  },
  info: {
    usage: USAGE.info,
    parse: (a) => {
      const { volume, block } = volBlock(a[0]);
      noMore(a, 1);
      return { kind: "info", volume, block };
    },
  },
  delete: { usage: USAGE.delete, parse: parseDelete },
  modify: { usage: USAGE.modify, parse: parseModify },
  replace: { usage: USAGE.replace, parse: parseReplace },
  reload: { usage: USAGE.reload, parse: parseReload },
  genconfig: { usage: USAGE.genconfig, parse: parseGenconfig },
  adopt: { usage: USAGE.adopt, parse: parseAdopt },
  audit: {
    usage: USAGE.audit,
    parse: (a) => {
      const volume = parseVolumeOnly(a);
      const fix = a[1] === "--fix";
      if (a[1] !== undefined && !fix) throw new ArgError(`unknown option ${quoteForMessage(a[1])} for audit`);
      noMore(a, fix ? 2 : 1);
      return { kind: "audit", volume, fix };
    },
  },
};

const HELP_WORDS = new Set(["help", "--help", "-h", "usage", "--usage"]);
const VERSION_WORDS = new Set(["version", "--version"]);

/** Take the --json* flags out of argv, wherever they are. */
function extractJson(argv: readonly string[]): { rest: string[]; json?: JsonStyle; problem?: string } {
  const rest: string[] = [];
  let json: JsonStyle | undefined;
  let flag: string | undefined;
  let problem: string | undefined;
  for (const a of argv) {
    const style = JSON_FLAGS[a];
    if (style !== undefined) {
      if (json !== undefined && json !== style) problem ??= `conflicting JSON formats ${flag} and ${a}`;
      json ??= style;
      flag ??= a;
    } else if (a.startsWith("--json")) {
      problem ??= `unknown JSON format ${quoteForMessage(a)}; use --json, --json-plain, --json-spaced or --json-pretty`;
    } else {
      rest.push(a);
    }
  }
  return { rest, ...(json === undefined ? {} : { json }), ...(problem === undefined ? {} : { problem }) };
}

/**
 * Parse argv (without the program name). Throws CliUsageError, and nothing
 * else, for a command line that cannot be run.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const { rest, json, problem } = extractJson(argv);
  const fail = (message: string, usage?: string, exitCode?: number): never => {
    throw new CliUsageError(message, usage, json, exitCode);
  };
  if (problem !== undefined) fail(problem, USAGE.general);

  let i = 0;
  let timeoutSec: number | undefined;
  while (rest[i] === "timeout") {
    const v = rest[i + 1];
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < 1 || Number(v) > MAX_TIMEOUT_SEC) {
      fail(`'timeout' takes a whole number of seconds between 1 and ${MAX_TIMEOUT_SEC}${v === undefined ? "" : `, got ${quoteForMessage(v)}`}`, USAGE.general);
    }
    timeoutSec = Number(v);
    i += 2;
  }
  const name = rest[i];
  const opt = (): { timeoutSec?: number; json?: JsonStyle } => ({
    ...(json === undefined ? {} : { json }),
    ...(timeoutSec === undefined ? {} : { timeoutSec }),
  });
  if (name === undefined) return fail("no command given; see 'gluster-block help'", USAGE.general, NO_COMMAND_EXIT_CODE);
  if (HELP_WORDS.has(name)) return { command: { kind: "help" }, ...opt() };
  if (VERSION_WORDS.has(name)) return { command: { kind: "version" }, ...opt() };
  const parser = PARSERS[name];
  if (parser === undefined) return fail(`unknown command ${quoteForMessage(name)}; see 'gluster-block help'`, USAGE.general, NO_COMMAND_EXIT_CODE);
  try {
    return { command: parser.parse(rest.slice(i + 1)), ...opt() };
  } catch (e) {
    if (e instanceof ArgError || e instanceof InvalidNameError || e instanceof SizeError) {
      return fail(`${name}: ${e.message}`, parser.usage);
    }
    throw e;
  }
}
