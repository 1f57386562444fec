// Parser of a block's metadata journal, `/block-meta/<blockname>`.
//
// When the journal is trusted, and when it is not (a JournalError):
// - A final line without a newline is a torn append (the writer died mid
//   write): it is ignored and reported in `tornTail`, never an error. A tail
//   of NUL bytes (a hole left by a crash) counts as torn too.
// - Blank lines are skipped (no writer emits them; they change nothing).
// - A line whose key is not a known key, not an IP address and not an
//   upper-case word, or a known key with an impossible value (a GBID that is
//   not a UUID, a SIZE that is not a number, an unknown host status), means
//   the file is not a journal we understand. Guessing could expose or delete
//   the wrong thing, so the whole journal is refused with the line number;
//   the caller decides (report it; `delete force`).
// - Upper-case keys this code does not know are kept in `unknownKeys`, so a
//   newer writer's additions do not make a block unreadable.
// - VOLUME, GBID and HA must be present (the original writes them in its very
//   first append), and VOLUME and GBID must never change: a second identity
//   in one file means two blocks' lines were mixed.
// Error messages never quote a line's value: a PASSWORD line holds a secret.
import { isGbid, isHostAddress, validateBlockName, validateVolumeName } from "../../identity/names.js";
import { MAX_SIZE_BYTES } from "../../identity/size.js";
import {
  ENTRY_PHASES,
  type BlockMeta,
  type EntryPhase,
  type HostState,
  type HostStatus,
  type JournalEntry,
  JournalError,
  type MetaKey,
  isHostStatus,
  isMetaKey,
} from "./model.js";

const UINT32_MAX = 4294967295;
const UNKNOWN_KEY = /^[A-Z][A-Z0-9_]*$/;
const RESIZE_STATUS = /^(RSINPROGRESS|RSSUCCESS|RSFAIL)(?:-(\d+))?$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why `value` cannot be the value of `key`, or undefined if it can. Shared with the line builders. */
export function keyValueProblem(key: MetaKey, value: string): string | undefined {
  if (CONTROL.test(value)) return `${key} value contains a control character`;
  if (value.includes(": ")) return `${key} value contains ': '`;
  const uint = (max: number | bigint): string | undefined => {
    if (!/^\d+$/.test(value)) return `${key} value is not an unsigned integer`;
    return BigInt(value) > BigInt(max) ? `${key} value is larger than ${max}` : undefined;
  };
  switch (key) {
    case "VOLUME":
      try {
        validateVolumeName(value);
        return undefined;
      } catch (e) {
        return `VOLUME: ${(e as Error).message}`;
      }
    case "GBID":
      return isGbid(value) ? undefined : "GBID value is not a lower-case UUID";
    case "HA": {
      const p = uint(1024);
      return p ?? (value === "0" || /^0+$/.test(value) ? "HA value is 0" : undefined);
    }
    case "ENTRYCREATE":
    case "ENTRYDELETE":
      return (ENTRY_PHASES as readonly string[]).includes(value) ? undefined : `${key} value is not one of ${ENTRY_PHASES.join(", ")}`;
    case "PRIOPATH":
      return value === "" || isHostAddress(value) ? undefined : "PRIOPATH value is not an IP address";
    case "SIZE":
      return uint(MAX_SIZE_BYTES);
    case "RINGBUFFER":
    case "BLKSIZE":
    case "IOTIMEOUT":
      return uint(UINT32_MAX);
    case "PASSWORD":
      return /\s/.test(value) ? "PASSWORD value contains white space" : undefined;
  }
}

/** Why `text` cannot be a host status value, or the parsed status. */
export function parseHostStatus(text: string): { status: HostStatus; resizeBytes?: bigint } | string {
  const rs = RESIZE_STATUS.exec(text);
  if (rs) {
    const status = rs[1] as HostStatus;
    if (rs[2] === undefined) return { status };
    const bytes = BigInt(rs[2]);
    if (bytes > MAX_SIZE_BYTES) return "resize size is too large";
    return { status, resizeBytes: bytes };
  }
  if (isHostStatus(text)) return { status: text };
  return "unknown host status";
}

function classify(line: string, lineNo: number): JournalEntry {
  let key: string;
  let value: string;
  const sep = line.indexOf(": ");
  if (sep > 0) {
    key = line.slice(0, sep);
    value = line.slice(sep + 2);
  } else if (line.endsWith(":") && line.length > 1 && !line.slice(0, -1).includes(": ")) {
    // "PASSWORD:" with its trailing space trimmed by some editor: same as empty
    key = line.slice(0, -1);
    value = "";
  } else {
    throw new JournalError("MALFORMED_LINE", "not a 'KEY: VALUE' line", lineNo);
  }
  if (isMetaKey(key)) {
    const problem = keyValueProblem(key, value);
    if (problem !== undefined) throw new JournalError("BAD_VALUE", problem, lineNo);
    return { kind: "key", key, value };
  }
  if (isHostAddress(key)) {
    const parsed = parseHostStatus(value);
    if (typeof parsed === "string") throw new JournalError("BAD_VALUE", `host ${key}: ${parsed}`, lineNo);
    return parsed.resizeBytes === undefined
      ? { kind: "host", host: key, status: parsed.status }
      : { kind: "host", host: key, status: parsed.status, resizeBytes: parsed.resizeBytes };
  }
  if (UNKNOWN_KEY.test(key) && !CONTROL.test(value)) return { kind: "unknown", key, value };
  throw new JournalError("MALFORMED_LINE", "the key is neither a journal key nor an IP address", lineNo);
}

interface MutableHost {
  host: string;
  status: HostStatus;
  resizeBytes?: bigint;
  history: { status: HostStatus; resizeBytes?: bigint }[];
}

/**
 * Parse the journal of block `name`. Returns the typed BlockMeta or throws a
 * JournalError (and nothing else) when the journal cannot be trusted.
 */
export function parseJournal(name: string, text: string): BlockMeta {
  validateBlockName(name);
  const pieces = text.split("\n");
  const last = pieces.pop() ?? "";
  const tornTail = last === "" ? undefined : last;

  const entries: JournalEntry[] = [];
  const lines: string[] = [];
  const values = new Map<MetaKey, string>();
  const hosts = new Map<string, MutableHost>();
  const unknownKeys: { key: string; value: string }[] = [];
  let initialSize: bigint | undefined;

  pieces.forEach((line, i) => {
    const lineNo = i + 1;
    if (line === "") return;
    const entry = classify(line, lineNo);
    entries.push(entry);
    lines.push(line);
    if (entry.kind === "key") {
      const prev = values.get(entry.key);
      if ((entry.key === "VOLUME" || entry.key === "GBID") && prev !== undefined && prev !== entry.value) {
        throw new JournalError("CONFLICT", `${entry.key} changes from an earlier line`, lineNo);
      }
      if (entry.key === "SIZE" && initialSize === undefined) initialSize = BigInt(entry.value);
      values.set(entry.key, entry.value);
    } else if (entry.kind === "unknown") {
      unknownKeys.push({ key: entry.key, value: entry.value });
    } else {
      const step = entry.resizeBytes === undefined ? { status: entry.status } : { status: entry.status, resizeBytes: entry.resizeBytes };
      const h = hosts.get(entry.host);
      if (h === undefined) {
        hosts.set(entry.host, { host: entry.host, ...step, history: [step] });
      } else {
        h.status = entry.status;
        if (entry.resizeBytes === undefined) delete h.resizeBytes;
        else h.resizeBytes = entry.resizeBytes;
        h.history.push(step);
      }
    }
  });

  if (entries.length === 0) throw new JournalError("EMPTY", `journal of block ${name} has no complete line`);
  for (const key of ["VOLUME", "GBID", "HA"] as const) {
    if (!values.has(key)) throw new JournalError("MISSING_KEY", `journal of block ${name} has no ${key} line`);
  }
  const num = (key: MetaKey): number => Number(values.get(key) ?? "0");
  const sizeBytes = BigInt(values.get("SIZE") ?? "0");
  const meta: BlockMeta = {
    name,
    volume: values.get("VOLUME") ?? "",
    gbid: values.get("GBID") ?? "",
    ha: num("HA"),
    sizeBytes,
    initialSizeBytes: initialSize ?? sizeBytes,
    prioPath: values.get("PRIOPATH") ?? "",
    ringBufferMb: num("RINGBUFFER"),
    blockSize: num("BLKSIZE"),
    ioTimeout: num("IOTIMEOUT"),
    password: values.get("PASSWORD") ?? "",
    hosts: [...hosts.values()].map((h): HostState => ({ ...h, history: [...h.history] })),
    unknownKeys,
    entries,
    lines,
    ...(values.has("ENTRYCREATE") ? { entryCreate: values.get("ENTRYCREATE") as EntryPhase } : {}),
    ...(values.has("ENTRYDELETE") ? { entryDelete: values.get("ENTRYDELETE") as EntryPhase } : {}),
    ...(tornTail !== undefined ? { tornTail } : {}),
  };
  return meta;
}

/** Parse only the typed lines of a journal fragment (no required keys): for tests and for checking an append. */
export function parseJournalEntries(text: string): JournalEntry[] {
  const pieces = text.split("\n");
  pieces.pop();
  const out: JournalEntry[] = [];
  pieces.forEach((line, i) => {
    if (line !== "") out.push(classify(line, i + 1));
  });
  return out;
}
