// The ACL proof: that every host exporting a block holds no initiator ACL its
// journal's lists do not name. INITIATORS and ROINITIATORS are written before
// any host converges (the intent, so that a crash leaves a retry something to
// finish), so they alone prove nothing about LIO: a host that was
// unreachable, or a coordinator that died between the two steps, leaves an
// ACL the journal no longer names.
//
// Kept beside the journal, never in it (/block-meta/.acl-synced/<name>,
// block-store.ts): the original 0.5.1 reads every line whose key it does not
// know as a host and its status (blockStuffMetaInfo's default branch), and
// its delete sends a delete to each such "host" not CONFIGINPROGRESS or
// CLEANUPSUCCESS (glusterBlockDeleteFillArgs). A line written at every
// converged unpublish would be one more of those. The original skips every
// /block-meta entry with a dot in its name (list, genconfig), so it never
// sees this file.
//
// The proof names the exact journal it was made from: the block's GBID and a
// digest of the journal's complete lines, as a SetInitiatorAccess or
// ReloadBlock read them before converging every exporting host. It holds only
// while the journal is that journal, line for line, so nothing can leave it
// stale:
//  - every change of the lists (ours, an older blockd's, anything appended by
//    anyone, even lists changed and changed back) appends to the journal
//    first, before any host is touched: the append itself voids the proof,
//    and a crash after it leaves the proof void;
//  - a crash before the proof is written leaves the older proof, which names
//    an older journal; a torn write leaves a file that does not parse;
//  - a coordinator that wrote late (its lock lost) names the journal it
//    converged to, not the one that follows;
//  - a block deleted and made again has another GBID and another journal.
// While the journal is unchanged every writer of LIO (a repeated
// SetInitiatorAccess, ReloadBlock, the start-up reconcile, a replace's new
// host) converges to these same lists, so no host can come to let in an
// initiator they leave out. What it proves is what a full SetInitiatorAccess
// makes sure of (exporting hosts only); drift made outside blockd (targetcli
// by hand, the original's reload, which sets generate_node_acls) it cannot
// see, as it cannot see it in the journal.
import { createHash } from "node:crypto";
import { exportedOn, type BlockMeta } from "../journal/index.js";
import { readExtensions } from "./extensions.js";

interface AclProof {
  gbid: string;
  /** "sha256:<hex>" of the journal's complete lines, joined by newlines */
  journal: string;
  /** how many lines the journal had: for a human reading the file */
  lines: number;
  /** the exporting hosts that converged */
  hosts: string[];
}

function journalDigest(meta: BlockMeta): string {
  return `sha256:${createHash("sha256").update(meta.lines.join("\n")).digest("hex")}`;
}

function parseProof(text: string): AclProof | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const p = v as Record<string, unknown>;
  const hosts = p.hosts;
  if (typeof p.gbid !== "string" || typeof p.journal !== "string" || typeof p.lines !== "number") return undefined;
  if (!Array.isArray(hosts) || !hosts.every((h): h is string => typeof h === "string")) return undefined;
  return { gbid: p.gbid, journal: p.journal, lines: p.lines, hosts };
}

/**
 * Whether `proof` (the file's text, undefined when there is none) proves that
 * every host exporting the block as `meta` says holds exactly its initiator
 * lists. Anything else (no proof, a torn or foreign file, another journal,
 * generated ACLs, a journal with a torn tail) proves nothing.
 */
export function aclSynced(meta: BlockMeta, proof: string | undefined): boolean {
  if (proof === undefined || meta.tornTail !== undefined || readExtensions(meta).aclMode !== "EXPLICIT") return false;
  const p = parseProof(proof);
  if (!p || p.gbid !== meta.gbid || p.lines !== meta.lines.length || p.journal !== journalDigest(meta)) return false;
  const converged = new Set(p.hosts);
  return exportedOn(meta).every((h) => converged.has(h));
}

/** The proof that `hosts`, every host exporting the block, converged to the lists of the journal `meta` was read from. */
export function aclProofFor(meta: BlockMeta, hosts: readonly string[]): string {
  const proof: AclProof = { gbid: meta.gbid, journal: journalDigest(meta), lines: meta.lines.length, hosts: [...hosts].sort() };
  return JSON.stringify(proof) + "\n";
}
