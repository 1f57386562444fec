// Journal keys of our own, beside the original's. Our parser keeps unknown
// upper-case keys, last value wins as for every key. The original 0.5.1 reads
// a key it does not know as a host with that status (blockStuffMetaInfo's
// default branch): its info and list show none of these while no value is a
// host status word, but its delete counts each as a host to clean up (and
// fails there without `force`). Add none without need: what can live outside
// the journal does (engine/acl-sync.ts).
//   HOSTS       HA hosts in TPG order ("10.0.0.1 10.0.0.2 10.0.0.3"): the
//               journal's host lines are in thread order, not TPG order
//   ACLMODE     EXPLICIT for CSI blocks (per-initiator ACLs), else generated
//   INITIATORS  initiator IQNs allowed in read-write, for ACLMODE EXPLICIT
//   ROINITIATORS  initiator IQNs allowed in read-only (their mapped LUN write
//               protected), for ACLMODE EXPLICIT; never also in INITIATORS.
//               Apart from INITIATORS so that a node that does not know this
//               key leaves those initiators out rather than let them write
//   PREALLOC    FULL or NO, so a resize allocates as the create did
//   OWNER       free text for humans and audits (the PV name)
import { formatEntry } from "../journal/index.js";
import type { BlockMeta } from "../journal/index.js";

export const EXT_KEYS = ["HOSTS", "ACLMODE", "INITIATORS", "ROINITIATORS", "PREALLOC", "OWNER"] as const;
export type ExtKey = (typeof EXT_KEYS)[number];

export interface BlockExtensions {
  /** undefined for blocks made by the original */
  hosts?: string[];
  aclMode: "GENERATED" | "EXPLICIT";
  /** allowed in read-write */
  initiators: string[];
  /** allowed in read-only; none of them is in `initiators` */
  readOnlyInitiators: string[];
  /** undefined for blocks made by the original (it preallocated by default) */
  prealloc?: boolean;
  owner: string;
}

function lastValue(meta: BlockMeta, key: ExtKey): string | undefined {
  let v: string | undefined;
  for (const u of meta.unknownKeys) if (u.key === key) v = u.value;
  return v;
}

const words = (v: string | undefined): string[] => (v ?? "").split(" ").filter((w) => w !== "");

export function readExtensions(meta: BlockMeta): BlockExtensions {
  const hosts = lastValue(meta, "HOSTS");
  const prealloc = lastValue(meta, "PREALLOC");
  const ro = [...new Set(words(lastValue(meta, "ROINITIATORS")))];
  const rw = [...new Set(words(lastValue(meta, "INITIATORS")))].filter((i) => !ro.includes(i));
  return {
    ...(hosts !== undefined ? { hosts: words(hosts) } : {}),
    aclMode: lastValue(meta, "ACLMODE") === "EXPLICIT" ? "EXPLICIT" : "GENERATED",
    initiators: rw,
    // an initiator in both lists (a journal written by hand) is read-only: the safe reading
    readOnlyInitiators: ro,
    ...(prealloc !== undefined ? { prealloc: prealloc === "FULL" } : {}),
    owner: lastValue(meta, "OWNER") ?? "",
  };
}

export function extLine(key: ExtKey, value: string): string {
  return formatEntry({ kind: "unknown", key, value });
}

/** HA hosts in TPG order: our HOSTS line, else (original blocks) the journal's first-seen order of configured hosts. */
export function haHosts(meta: BlockMeta, ext: BlockExtensions): string[] {
  if (ext.hosts && ext.hosts.length > 0) return ext.hosts;
  return meta.hosts.filter((h) => !h.status.startsWith("CLEANUP")).map((h) => h.host);
}
