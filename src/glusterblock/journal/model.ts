// The vocabulary of the metadata journal `/block-meta/<blockname>`, shared by
// the parser, the line builders and the derived views. Spellings are the
// original's, including AUTHENFORCEING / AUTHCLEARENFORCEING.

export const META_KEYS = ["VOLUME", "GBID", "HA", "ENTRYCREATE", "ENTRYDELETE", "PRIOPATH", "SIZE", "RINGBUFFER", "BLKSIZE", "IOTIMEOUT", "PASSWORD"] as const;
export type MetaKey = (typeof META_KEYS)[number];

export function isMetaKey(key: string): key is MetaKey {
  return (META_KEYS as readonly string[]).includes(key);
}

/** Values of ENTRYCREATE / ENTRYDELETE. */
export const ENTRY_PHASES = ["INPROGRESS", "SUCCESS", "FAIL"] as const;
export type EntryPhase = (typeof ENTRY_PHASES)[number];

/** Per-host statuses, `<ip>: <STATUS>`; the RS ones carry `-<bytes>` on the line. */
export const HOST_STATUSES = [
  "CONFIGINPROGRESS",
  "CONFIGSUCCESS",
  "CONFIGFAIL",
  "AUTHENFORCEING",
  "AUTHENFORCED",
  "AUTHENFORCEFAIL",
  "AUTHCLEARENFORCEING",
  "AUTHCLEARENFORCED",
  "AUTHCLEARENFORCEFAIL",
  "CLEANUPINPROGRESS",
  "CLEANUPSUCCESS",
  "CLEANUPFAIL",
  "RPINPROGRESS",
  "RPSUCCESS",
  "RPFAIL",
  "RSINPROGRESS",
  "RSSUCCESS",
  "RSFAIL",
] as const;
export type HostStatus = (typeof HOST_STATUSES)[number];
export type ResizeStatus = "RSINPROGRESS" | "RSSUCCESS" | "RSFAIL";

export function isHostStatus(s: string): s is HostStatus {
  return (HOST_STATUSES as readonly string[]).includes(s);
}

export function isResizeStatus(s: HostStatus): s is ResizeStatus {
  return s === "RSINPROGRESS" || s === "RSSUCCESS" || s === "RSFAIL";
}

/** One complete journal line, typed. */
export type JournalEntry =
  | { readonly kind: "key"; readonly key: MetaKey; readonly value: string }
  /** An upper-case key this code does not know (a newer writer's); kept, never fatal. */
  | { readonly kind: "unknown"; readonly key: string; readonly value: string }
  | { readonly kind: "host"; readonly host: string; readonly status: HostStatus; readonly resizeBytes?: bigint };

/** A host's status history, in journal order; `status` is the latest. */
export interface HostState {
  readonly host: string;
  readonly status: HostStatus;
  /** For RS* statuses: the size the resize was to. */
  readonly resizeBytes?: bigint;
  readonly history: readonly { readonly status: HostStatus; readonly resizeBytes?: bigint }[];
}

/** A block's metadata journal, parsed: last value of each key wins. */
export interface BlockMeta {
  /** The block name (the journal's file name, not stored inside it). */
  readonly name: string;
  readonly volume: string;
  readonly gbid: string;
  readonly ha: number;
  /** Latest SIZE; 0n if the journal stops before SIZE was written (a create cut short). */
  readonly sizeBytes: bigint;
  /** First SIZE ever written: the size a host has if it never finished a resize. */
  readonly initialSizeBytes: bigint;
  readonly entryCreate?: EntryPhase;
  readonly entryDelete?: EntryPhase;
  /** The active-path (ALUA AO) host; "" if none. */
  readonly prioPath: string;
  /** 0 = the kernel's default. */
  readonly ringBufferMb: number;
  /** 0 = the default (512). */
  readonly blockSize: number;
  /** 0 = not set (tcmu-runner gets 43 s). */
  readonly ioTimeout: number;
  /** CHAP password; "" = auth off. A secret: never log a BlockMeta as is. */
  readonly password: string;
  /** Hosts in first-seen order, each with its latest status. */
  readonly hosts: readonly HostState[];
  readonly unknownKeys: readonly { readonly key: string; readonly value: string }[];
  /** Every complete line, typed, in order. */
  readonly entries: readonly JournalEntry[];
  /** Every complete line, raw, without its newline. */
  readonly lines: readonly string[];
  /** A final line without a newline (a crash mid-append), ignored; undefined if none. */
  readonly tornTail?: string;
}

export type JournalErrorCode =
  /** No complete line at all. */
  | "EMPTY"
  /** A line that is not `KEY: VALUE` with a known key, an IP, or an upper-case key. */
  | "MALFORMED_LINE"
  /** A known key or host status with a value that cannot be right. */
  | "BAD_VALUE"
  /** VOLUME, GBID or HA missing: the original writes all three in its first append. */
  | "MISSING_KEY"
  /** VOLUME or GBID changes mid-journal: two blocks' lines in one file. */
  | "CONFLICT";

/** The journal cannot be trusted. `line` is 1-based where one line is to blame. */
export class JournalError extends Error {
  override readonly name = "JournalError";
  constructor(
    readonly code: JournalErrorCode,
    message: string,
    readonly line?: number,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
  }
}
