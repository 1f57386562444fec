// Builders of journal lines to append. Each returns complete lines ending in
// "\n"; each refuses a value that would inject a line (newline, control
// characters) or a second separator (": "), and every value the parser would
// refuse. Batches mirror the original's appends, so a journal we write reads
// the same to the original and to us.
import { validateHostAddress } from "../../identity/names.js";
import { MAX_SIZE_BYTES } from "../../identity/size.js";
import { type EntryPhase, type HostStatus, type JournalEntry, type MetaKey, isMetaKey, isResizeStatus } from "./model.js";
import { keyValueProblem } from "./parse.js";

/** A value that must not be appended. */
export class JournalValueError extends Error {
  override readonly name = "JournalValueError";
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** `KEY: VALUE\n` for a journal key. */
export function keyLine(key: MetaKey, value: string | number | bigint): string {
  if (!isMetaKey(key)) throw new JournalValueError(`unknown journal key ${JSON.stringify(key)}`);
  const text = typeof value === "string" ? value : value.toString();
  const problem = keyValueProblem(key, text);
  if (problem !== undefined) throw new JournalValueError(problem);
  return `${key}: ${text}\n`;
}

/** `<host>: <STATUS>\n`; the RS statuses need the size: `<host>: RSSUCCESS-<bytes>\n`. */
export function hostLine(host: string, status: HostStatus, resizeBytes?: bigint): string {
  try {
    validateHostAddress(host);
  } catch (e) {
    throw new JournalValueError((e as Error).message);
  }
  if (isResizeStatus(status)) {
    if (resizeBytes === undefined || resizeBytes < 0n || resizeBytes > MAX_SIZE_BYTES) {
      throw new JournalValueError(`${status} needs a size in bytes between 0 and ${MAX_SIZE_BYTES}`);
    }
    return `${host}: ${status}-${resizeBytes}\n`;
  }
  if (resizeBytes !== undefined) throw new JournalValueError(`${status} takes no size`);
  return `${host}: ${status}\n`;
}

/** One typed entry as its line; unknown keys are written back as they were read. */
export function formatEntry(entry: JournalEntry): string {
  switch (entry.kind) {
    case "key":
      return keyLine(entry.key, entry.value);
    case "host":
      return hostLine(entry.host, entry.status, entry.resizeBytes);
    case "unknown":
      if (!/^[A-Z][A-Z0-9_]*$/.test(entry.key) || isMetaKey(entry.key)) {
        throw new JournalValueError(`${JSON.stringify(entry.key)} is not an unknown upper-case key`);
      }
      if (CONTROL.test(entry.value) || entry.value.includes(": ")) {
        throw new JournalValueError(`${entry.key} value contains a control character or ': '`);
      }
      return `${entry.key}: ${entry.value}\n`;
  }
}

/**
 * First append of a create, written before the backing file exists (as the
 * original): VOLUME, GBID, HA, ENTRYCREATE: INPROGRESS, and PRIOPATH when the
 * active path was chosen.
 */
export function createIntentLines(p: { volume: string; gbid: string; ha: number; prioPath?: string }): string {
  return (
    keyLine("VOLUME", p.volume) +
    keyLine("GBID", p.gbid) +
    keyLine("HA", p.ha) +
    keyLine("ENTRYCREATE", "INPROGRESS") +
    (p.prioPath ? keyLine("PRIOPATH", p.prioPath) : "")
  );
}

/** Second append of a create, once the backing file is made (0 = default for the tunables). */
export function createDoneLines(p: { sizeBytes: bigint; ringBufferMb?: number; blockSize?: number; ioTimeout?: number }): string {
  return (
    keyLine("SIZE", p.sizeBytes) +
    keyLine("RINGBUFFER", p.ringBufferMb ?? 0) +
    keyLine("BLKSIZE", p.blockSize ?? 0) +
    keyLine("IOTIMEOUT", p.ioTimeout ?? 0) +
    keyLine("ENTRYCREATE", "SUCCESS")
  );
}

/** `PASSWORD: <pwd>\n`, or `PASSWORD: \n` to turn auth off. */
export function passwordLine(password: string): string {
  return keyLine("PASSWORD", password);
}

export function entryDeleteLine(phase: EntryPhase): string {
  return keyLine("ENTRYDELETE", phase);
}
