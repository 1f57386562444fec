// ACLSYNCED: the journal's proof that the initiator ACLs it names are what
// every exporting host's LIO holds. INITIATORS and ROINITIATORS are written
// before any host converges (the intent, so a crash leaves a retry something
// to finish), so they alone prove nothing about LIO: a host that was
// unreachable, or a coordinator that died between the two steps, leaves an
// ACL the journal no longer names. A SetInitiatorAccess or ReloadBlock that
// converged every exporting host appends `ACLSYNCED: <those hosts>` after
// the fact, and the proof holds while
//  - no INITIATORS, ROINITIATORS or ACLMODE line came after it (by position,
//    not value: a writer that does not know this key, an older blockd, may
//    change the lists and change them back), and
//  - every host exporting the block now is one it names (a host that began
//    exporting since converged from the journal too, but is not counted on).
// Every later apply converges to the same lists, so it can only remove an
// ACL the proof already excludes. What it proves is what a full
// SetInitiatorAccess would make sure of (it converges exporting hosts only);
// drift made outside blockd (targetcli by hand) it cannot see, as it cannot
// see it in the journal.
import { exportedOn, type BlockMeta } from "../journal/index.js";
import { extLine } from "./extensions.js";

const ACL_KEYS: ReadonlySet<string> = new Set(["INITIATORS", "ROINITIATORS", "ACLMODE"]);

/** Whether the journal proves every exporting host's LIO holds exactly its initiator lists. */
export function aclSynced(meta: BlockMeta): boolean {
  let synced: string[] | undefined;
  for (const u of meta.unknownKeys) {
    if (u.key === "ACLSYNCED") synced = u.value.split(" ").filter((w) => w !== "");
    else if (ACL_KEYS.has(u.key)) synced = undefined;
  }
  if (synced === undefined) return false;
  const proven = new Set(synced);
  return exportedOn(meta).every((h) => proven.has(h));
}

/** The line that records that `hosts` (every exporting host) converged to the journal's initiator lists. */
export function aclSyncedLine(hosts: readonly string[]): string {
  return extLine("ACLSYNCED", [...hosts].sort().join(" "));
}
