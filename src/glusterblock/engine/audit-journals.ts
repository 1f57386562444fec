// Every journal of a volume, read for the audit and the start-up reconcile a few at a time (each read is
// FUSE round trips to the bricks; one after another they were most of an
// audit's time). Kept in directory order, as the audit reports them.
import type { BlockMeta } from "../journal/index.js";
import type { BlockStore } from "../volume/block-store.js";
import { mapLimit } from "../../util/map-limit.js";

/** journals read at once (FUSE reads; each is a round trip to the bricks) */
export const JOURNAL_READS = 8;

export interface UnreadableJournal {
  /** the GBIDs its block may have: its own GBID lines' */
  gbids: string[];
  error: string;
}

export interface VolumeJournals {
  /** every journal listed, in directory order */
  names: string[];
  metas: Map<string, BlockMeta>;
  unreadable: Map<string, UnreadableJournal>;
}

type Read = { name: string; meta?: BlockMeta } | { name: string; unreadable: UnreadableJournal };

export async function readJournals(store: BlockStore): Promise<VolumeJournals> {
  const names = await store.listNames();
  const reads = await mapLimit(names, JOURNAL_READS, (name) => readOne(store, name));
  const out: VolumeJournals = { names, metas: new Map(), unreadable: new Map() };
  for (const r of reads) {
    if ("unreadable" in r) out.unreadable.set(r.name, r.unreadable);
    else if (r.meta) out.metas.set(r.name, r.meta); // gone since the listing: no block
  }
  return out;
}

async function readOne(store: BlockStore, name: string): Promise<Read> {
  try {
    return { name, ...(await store.readMeta(name).then((meta) => (meta ? { meta } : {}))) };
  } catch (err) {
    const raw = (await store.readRaw(name).catch(() => undefined)) ?? "";
    const gbids = new Set([...raw.matchAll(/^GBID: ([0-9a-f-]{36})$/gm)].map((x) => x[1] ?? ""));
    return { name, unreadable: { gbids: [...gbids], error: err instanceof Error ? err.message : String(err) } };
  }
}
