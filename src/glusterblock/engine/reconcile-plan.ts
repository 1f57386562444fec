// What a reconcile of one volume must export on this node, from each journal
// read once (readJournals, a few at a time). Reading them one after another,
// and each twice (once to choose the block, once more in apply), was most of
// the FUSE time of a start-up reconcile.
import { exportedOn, isDeleteStarted, type BlockMeta } from "../journal/index.js";
import type { BlockTargetSpec } from "../lio/types.js";
import type { BlockStore } from "../volume/block-store.js";
import { readJournals } from "./audit-journals.js";

export interface SkippedBlock {
  name: string;
  error: string;
}

export interface ReconcilePlan {
  /** every journal of the volume, in directory order */
  order: string[];
  /** the blocks this node exports, in directory order */
  specs: BlockTargetSpec[];
  /** journals that cannot be read or trusted */
  unreadable: SkippedBlock[];
  /** exported here by their journal, but refused by `specOf` (e.g. this node is not among the HA hosts) */
  refused: SkippedBlock[];
}

/** `specOf` turns the journal of a block this node exports into its target, or throws why it must not be applied */
export async function reconcilePlan(store: BlockStore, host: string, specOf: (meta: BlockMeta) => BlockTargetSpec): Promise<ReconcilePlan> {
  const journals = await readJournals(store);
  const plan: ReconcilePlan = { order: journals.names, specs: [], unreadable: [], refused: [] };
  for (const [name, u] of journals.unreadable) plan.unreadable.push({ name, error: u.error });
  for (const meta of journals.metas.values()) {
    // half-made, being deleted, or not ours: nothing to export here
    if (isDeleteStarted(meta) || meta.entryCreate !== "SUCCESS" || !exportedOn(meta).includes(host)) continue;
    try {
      plan.specs.push(specOf(meta));
    } catch (err) {
      plan.refused.push({ name: meta.name, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return plan;
}
