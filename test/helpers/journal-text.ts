// A journal's text from its typed entries, line by line with the product's
// own formatEntry: the round-trip tests check that the parser keeps every
// byte of what the original wrote. The engine never rewrites a journal (it
// only appends), so this lives with the tests.
import { formatEntry, type JournalEntry } from "../../src/glusterblock/journal/index.js";

export function formatEntries(entries: readonly JournalEntry[]): string {
  return entries.map(formatEntry).join("");
}
