// Views of a parsed journal that the original derives for info, delete,
// modify and create. Each follows the original's status tables
// (blockhostIsValid, glusterBlockDeleteFillArgs, blockInfoGetCurrentSizeOfNode).
import type { BlockMeta, HostState, HostStatus } from "./model.js";

/** Statuses of a host that holds a working target (the original's blockhostIsValid). */
const EXPORTED: ReadonlySet<HostStatus> = new Set<HostStatus>([
  "CONFIGSUCCESS",
  "CLEANUPINPROGRESS",
  "AUTHENFORCEING",
  "AUTHENFORCED",
  "AUTHENFORCEFAIL",
  "AUTHCLEARENFORCEING",
  "AUTHCLEARENFORCED",
  "AUTHCLEARENFORCEFAIL",
  "RPINPROGRESS",
  "RPSUCCESS",
  "RPFAIL",
  "RSINPROGRESS",
  "RSSUCCESS",
  "RSFAIL",
]);

/** EXPORTED ON: hosts whose latest status means the target is configured, in first-seen order. */
export function exportedOn(meta: BlockMeta): string[] {
  return meta.hosts.filter((h) => EXPORTED.has(h.status)).map((h) => h.host);
}

/** ENCOUNTERED FAILURES ON: hosts whose configuration or clean-up failed last. */
export function failedOn(meta: BlockMeta): string[] {
  return meta.hosts.filter((h) => h.status === "CONFIGFAIL" || h.status === "CLEANUPFAIL").map((h) => h.host);
}

/**
 * The size a host's target has: the size of its latest RSSUCCESS, or the
 * block's first SIZE if it never finished a resize.
 */
export function currentSizeOn(meta: BlockMeta, host: HostState): bigint {
  for (let i = host.history.length - 1; i >= 0; i--) {
    const step = host.history[i];
    if (step?.status === "RSSUCCESS" && step.resizeBytes !== undefined) return step.resizeBytes;
  }
  return meta.initialSizeBytes;
}

/**
 * Exported hosts that have not confirmed the journal's latest SIZE: the size
 * a host was last configured (CONFIGSUCCESS) or resized (RSSUCCESS) to is
 * another. A resize cut short after its SIZE line leaves every host here.
 */
export function hostsBehindSize(meta: BlockMeta): string[] {
  let size = 0n;
  const confirmed = new Map<string, bigint>();
  for (const e of meta.entries) {
    if (e.kind === "key" && e.key === "SIZE") size = BigInt(e.value);
    else if (e.kind === "host" && e.status === "CONFIGSUCCESS") confirmed.set(e.host, size);
    else if (e.kind === "host" && e.status === "RSSUCCESS") confirmed.set(e.host, e.resizeBytes ?? size);
  }
  return exportedOn(meta).filter((h) => confirmed.get(h) !== meta.sizeBytes);
}

/** RESIZE FAILED ON: hosts whose latest resize failed or never finished, with the size they still have. */
export function resizeFailedOn(meta: BlockMeta): { host: string; currentSizeBytes: bigint }[] {
  return meta.hosts
    .filter((h) => h.status === "RSFAIL" || h.status === "RSINPROGRESS")
    .map((h) => ({ host: h.host, currentSizeBytes: currentSizeOn(meta, h) }));
}

/**
 * Hosts a delete must clean: all but those never configured (CONFIGINPROGRESS,
 * where the original's create did not get to run) and those already cleaned.
 */
export function deleteTargets(meta: BlockMeta): string[] {
  return meta.hosts.filter((h) => h.status !== "CONFIGINPROGRESS" && h.status !== "CLEANUPSUCCESS").map((h) => h.host);
}

export function isDeleteStarted(meta: BlockMeta): boolean {
  if (meta.entryDelete !== undefined) return true;
  // a delete cleans every host; a replace cleans only the old one while the others keep serving
  const cleaning = meta.hosts.some((h) => h.status.startsWith("CLEANUP"));
  const serving = meta.hosts.some((h) => EXPORTED.has(h.status) && !h.status.startsWith("CLEANUP"));
  return cleaning && !serving;
}

/** A block as its journal alone describes it: what `info` shows and GetBlock answers. */
export interface BlockSummary {
  readonly name: string;
  readonly volume: string;
  readonly gbid: string;
  readonly sizeBytes: bigint;
  readonly ha: number;
  /** Seconds; 0 = not set. */
  readonly ioTimeout: number;
  /** "" = auth off. */
  readonly password: string;
  readonly exportedOn: readonly string[];
  readonly failedOn: readonly string[];
  readonly resizeFailedOn: readonly { readonly host: string; readonly currentSizeBytes: bigint }[];
}

export function toBlockSummary(meta: BlockMeta): BlockSummary {
  return {
    name: meta.name,
    volume: meta.volume,
    gbid: meta.gbid,
    sizeBytes: meta.sizeBytes,
    ha: meta.ha,
    ioTimeout: meta.ioTimeout,
    password: meta.password,
    exportedOn: exportedOn(meta),
    failedOn: failedOn(meta),
    resizeFailedOn: resizeFailedOn(meta),
  };
}
