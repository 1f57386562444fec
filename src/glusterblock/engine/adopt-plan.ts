// Adoption of a block made by the original gluster-block 0.5.x: what it
// takes from the journal and from every HA host's LIO, and what it refuses.
// Pure: the engine (block-engine.ts adopt) reads, this judges, the engine
// writes. Nothing here touches the volume or LIO.
//
// What adoption does: a block with generated ACLs (`generate_node_acls=1`,
// any initiator holding the CHAP secret gets in, no ACLMODE line) becomes a
// block with per-initiator ACLs (ACLMODE EXPLICIT), as CSI makes them, so
// that ControllerPublish fences it. Its GBID, IQN, WWID, size, HA hosts, TPG
// order and CHAP credentials stay what the initiators already know.
//
// The rule that makes it safe: no live session may be refused. Every
// initiator logged in to any HA host's target now, and every one the caller
// names, goes into INITIATORS in the same journal append as ACLMODE EXPLICIT
// (INITIATORS first, so a torn append never leaves EXPLICIT without them),
// and that append comes before any host's LIO changes. A session is not cut
// by the switch itself (the kernel turns a generated ACL an explicit one is
// made for into that one, and generate_node_acls=0 refuses only the next
// login); it would be refused at its next login, after a path failure.
//
// Refused, with nothing changed:
//  - a journal with keys neither the original nor this code writes (written
//    by something else: what it means cannot be known, so nothing is assumed);
//  - a journal with a torn last line, or a block not in a clean state: its
//    create or a delete not finished, a host whose last operation failed or
//    is in progress (config, auth, resize, replace, clean-up), a host behind
//    the journal's size, fewer exporting hosts than its HA count;
//  - a host whose LIO has no target for it, or whose TPGs do not say one
//    order of the HA hosts (a TPG per host, tags 1..N, one portal each, the
//    own one enabled): the TPG order is kept as LIO holds it, since a TPG
//    that moved would drop its sessions;
//  - an adopted (EXPLICIT) block and an initiator the caller names that is
//    not let in already: adoption is not a way around ControllerPublish,
//    which decides who may write. On an EXPLICIT block only the sessions
//    through a generated ACL are let in (a retry of an adoption cut short:
//    they were admitted before the switch); a session through an explicit
//    ACL the journal no longer names is an unpublish not yet converged on
//    that host, and is never let back in.
import type { BlockMeta, HostStatus } from "../journal/index.js";
import { exportedOn, hostsBehindSize, isDeleteStarted, resizeFailedOn } from "../journal/index.js";
import { portalOf } from "../../identity/portal.js";
import { isInitiatorName } from "../../identity/initiator-name.js";
import { PreconditionError } from "../errors.js";
import { EXT_KEYS, extLine, haHosts, readExtensions } from "./extensions.js";
import type { TargetInspection } from "./peers.js";

/** A host's last status that says its target is configured and nothing is under way. */
const SETTLED: ReadonlySet<HostStatus> = new Set<HostStatus>(["CONFIGSUCCESS", "AUTHENFORCED", "AUTHCLEARENFORCED", "RSSUCCESS", "RPSUCCESS"]);

const refuse = (meta: BlockMeta, why: string): PreconditionError =>
  new PreconditionError(`block ${meta.volume}/${meta.name} cannot be adopted: ${why}; nothing was changed`);

/** Refusals the journal alone decides (before any host is asked). */
export function checkJournalAdoptable(meta: BlockMeta): void {
  const foreign = [...new Set(meta.unknownKeys.map((u) => u.key).filter((k) => !(EXT_KEYS as readonly string[]).includes(k)))];
  if (foreign.length > 0)
    throw refuse(meta, `its journal has keys neither gluster-block 0.5.x nor this driver writes (${foreign.join(", ")}), so what it means cannot be known`);
  if (meta.tornTail !== undefined) throw refuse(meta, "its journal ends in a torn line (a write cut short); run the operation that was cut short again first");
  if (meta.entryCreate !== "SUCCESS") throw refuse(meta, "its create has not finished");
  if (isDeleteStarted(meta)) throw refuse(meta, "it is being deleted");
  const ext = readExtensions(meta);
  const hosts = haHosts(meta, ext);
  const byHost = new Map(meta.hosts.map((h) => [h.host, h.status]));
  const unsettled = hosts.filter((h) => !SETTLED.has(byHost.get(h) ?? "CONFIGINPROGRESS"));
  if (unsettled.length > 0)
    throw refuse(
      meta,
      `an operation failed or is in progress on ${unsettled.map((h) => `${h} (${byHost.get(h) ?? "no status"})`).join(", ")}; finish or repair it first`,
    );
  const exported = exportedOn(meta);
  if (hosts.length !== meta.ha || hosts.some((h) => !exported.includes(h)))
    throw refuse(meta, `it is exported on ${exported.length} of its HA count ${meta.ha} (${hosts.join(", ") || "no host"})`);
  if (resizeFailedOn(meta).length > 0 || hostsBehindSize(meta).length > 0) throw refuse(meta, "a resize has not finished on every host");
}

export interface AdoptPlan {
  /** HA hosts in TPG order, as LIO holds them */
  hosts: string[];
  /** INITIATORS once adopted */
  initiators: string[];
  /** those of `initiators` this adoption lets in, and why */
  added: { initiator: string; why: string }[];
  /** who is logged in to each host's target now */
  sessions: { host: string; initiators: string[] }[];
  /** what to append to the journal, in one append; "" when nothing */
  lines: string;
  /** one line per change, for a dry run and the report */
  changes: string[];
}

/** The HA hosts in the order of their TPG tags, as every host's LIO holds them; throws when LIO says no one order. */
function tpgOrder(meta: BlockMeta, hosts: readonly string[], inspections: readonly TargetInspection[], port: number): string[] {
  const byTag = new Map<number, string>();
  for (const host of hosts) {
    const ins = inspections.find((i) => i.host === host);
    if (!ins?.present) throw refuse(meta, `${host}'s LIO has no target for it; run \`gluster-block reload ${meta.volume}/${meta.name}\` first`);
    const own = ins.tpgs.filter((t) => t.enabled);
    const portal = portalOf(host, port);
    if (own.length !== 1 || own[0]?.portals.join(",") !== portal)
      throw refuse(meta, `${host}'s LIO does not have exactly one enabled TPG, with the portal ${portal}, for it`);
    const tag = own[0].tag;
    if (byTag.has(tag)) throw refuse(meta, `${byTag.get(tag) ?? ""} and ${host} both serve TPG ${tag}`);
    byTag.set(tag, host);
  }
  const order = [...byTag.keys()].sort((a, b) => a - b);
  if (order.some((tag, i) => tag !== i + 1)) throw refuse(meta, `its TPG tags are ${order.join(", ")}, not 1..${hosts.length}`);
  const ordered = order.map((tag) => byTag.get(tag) ?? "");
  // every host's other TPGs name the same portals in the same places
  for (const ins of inspections) {
    for (const tpg of ins.tpgs) {
      const want = ordered[tpg.tag - 1];
      if (want === undefined || tpg.portals.join(",") !== portalOf(want, port))
        throw refuse(
          meta,
          `${ins.host}'s TPG ${tpg.tag} has the portal ${tpg.portals.join(",") || "(none)"}, not ${want === undefined ? "(no such TPG)" : portalOf(want, port)}`,
        );
    }
  }
  return ordered;
}

/**
 * What adopting `meta`'s block takes, from every HA host's LIO as
 * `inspections` read it and the initiators the caller names. Throws
 * PreconditionError for what cannot be adopted safely.
 */
export function adoptPlan(meta: BlockMeta, inspections: readonly TargetInspection[], named: readonly string[], port: number): AdoptPlan {
  checkJournalAdoptable(meta);
  const ext = readExtensions(meta);
  const hosts = haHosts(meta, ext);
  const ordered = tpgOrder(meta, hosts, inspections, port);
  if (ext.hosts && ext.hosts.join(" ") !== ordered.join(" "))
    throw refuse(meta, `its journal's HOSTS (${ext.hosts.join(" ")}) is not the TPG order its LIO holds (${ordered.join(" ")})`);
  const explicit = ext.aclMode === "EXPLICIT";
  const letIn = new Set([...ext.initiators, ...ext.readOnlyInitiators]);
  const added: { initiator: string; why: string }[] = [];
  const add = (initiator: string, why: string): void => {
    if (letIn.has(initiator) || added.some((a) => a.initiator === initiator)) return;
    if (!isInitiatorName(initiator)) throw refuse(meta, `${JSON.stringify(initiator)}, logged in to it, is not an initiator name an ACL can hold`);
    added.push({ initiator, why });
  };
  const sessions = ordered.map((host) => {
    const ins = inspections.find((i) => i.host === host);
    const tpgs = ins?.tpgs ?? [];
    const dynamic = [...new Set(tpgs.flatMap((t) => t.dynamicSessions))];
    // on an adopted block a session through an ACL the journal does not name is a revocation not yet converged there: never let back in
    const viaAcl = explicit ? [] : [...new Set(tpgs.flatMap((t) => t.aclSessions))];
    for (const i of [...dynamic, ...viaAcl]) add(i, `logged in to ${host}`);
    return { host, initiators: [...new Set([...dynamic, ...tpgs.flatMap((t) => t.aclSessions)])].sort() };
  });
  const outsiders = named.filter((i) => !letIn.has(i));
  if (explicit && outsiders.length > 0)
    throw refuse(meta, `it has per-initiator ACLs already, and ${outsiders.join(", ")} is not let in: that is ControllerPublish's to decide`);
  for (const i of named) add(i, "named by the caller");

  const initiators = [...ext.initiators, ...added.map((a) => a.initiator)];
  const changes: string[] = [];
  let lines = "";
  if (!ext.hosts) {
    lines += extLine("HOSTS", ordered.join(" "));
    changes.push(`journal: HOSTS ${ordered.join(" ")} (the TPG order LIO holds)`);
  }
  if (added.length > 0) {
    lines += extLine("INITIATORS", initiators.join(" "));
    for (const a of added) changes.push(`journal: INITIATORS + ${a.initiator} (${a.why})`);
  }
  if (!explicit) {
    // last: EXPLICIT is never read without the initiators it lets in
    lines += extLine("ACLMODE", "EXPLICIT");
    changes.push("journal: ACLMODE EXPLICIT (per-initiator ACLs; was generated ACLs)");
  }
  const acls = [...initiators, ...ext.readOnlyInitiators];
  for (const ins of inspections) {
    const generated = ins.tpgs.some((t) => t.generateNodeAcls);
    if (generated || lines !== "")
      changes.push(
        `LIO on ${ins.host}: ${generated ? "generate_node_acls 1 -> 0 (each TPG made again: LIO keeps a hidden ACL for every initiator generated ACLs let in), " : ""}ACLs ${acls.length > 0 ? acls.join(", ") : "(none: no initiator until ControllerPublish)"}`,
      );
  }
  return { hosts: ordered, initiators, added, sessions, lines, changes };
}

/**
 * Initiators still logged in through a generated ACL once every host
 * converged to `meta` (EXPLICIT). None, where the switch made each TPG again
 * (lio/iscsi-target.ts cachesDynamicAcls: it closes their sessions, and a
 * login between the survey and the switch is cut); a TPG switched in place
 * would leave such a session live, and it is let in.
 */
export function lateSessions(meta: BlockMeta, inspections: readonly TargetInspection[]): string[] {
  const ext = readExtensions(meta);
  const letIn = new Set([...ext.initiators, ...ext.readOnlyInitiators]);
  return [...new Set(inspections.flatMap((i) => i.tpgs.flatMap((t) => t.dynamicSessions)))].filter((i) => !letIn.has(i) && isInitiatorName(i)).sort();
}
