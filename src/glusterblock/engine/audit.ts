// The orphan audit, both ways: LIO objects with no journal, journals whose
// targets are missing, backing files no journal names, journals whose file is
// gone, creates or deletes cut short, and journals that cannot be read. Dry
// run by default; with fix, each repair or removal is one log line.
//
// Nothing is removed on a guess. A block some operation holds (its lock) is
// left alone; a journal that cannot be read keeps the file and LIO objects
// that may be its block's (its data may be live); a missing file is checked
// on the file itself, not only in a directory listing.
//
// Cost: the journals are read a few at a time (audit-journals.ts), each host
// is asked once for all the blocks it exports (target-statuses.ts) and this
// node's LIO is walked once, so N blocks cost O(N) local work and a fixed
// number of round trips per peer; only a fix costs a call per finding.
import { mkdir, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import type { BlockEngine } from "./block-engine.js";
import type { LocalNode } from "./local-node.js";
import type { LioBlockState, LioTargets } from "../lio/types.js";
import { exportedOn, isDeleteStarted, type BlockMeta } from "../journal/index.js";
import { acquireBlockLock, processOwner } from "../volume/block-lock.js";
import { META_DIR, ORPHAN_DIR, type BlockStore } from "../volume/block-store.js";
import { IQN_PREFIX } from "../../identity/names.js";
import { haHosts, readExtensions } from "./extensions.js";
import type { Peers } from "./peers.js";
import { readJournals } from "./audit-journals.js";
import { TargetStatuses } from "./target-statuses.js";
import type { Logger } from "../../util/log.js";

/** what the audit needs of the engine: the volume's store, and a forced delete for what it removes */
export type AuditEngine = Pick<BlockEngine, "host" | "store" | "delete">;

export type FindingKind =
  | "lio-without-metadata"
  | "metadata-without-target"
  | "file-without-metadata"
  | "metadata-without-file"
  | "create-incomplete"
  | "delete-incomplete"
  | "journal-corrupt";

export interface Finding {
  kind: FindingKind;
  host: string;
  block: string;
  detail: string;
  fixed: boolean;
}

/** Where unreadable journals are moved by a fix, beside the journals (a dot name no block can have). */
export const QUARANTINE_DIR = join(META_DIR, ".quarantine");

/** No host ever had the target configured: the create stopped before the block served anywhere. */
function neverServed(m: BlockMeta): boolean {
  return !m.hosts.some((h) => h.history.some((s) => s.status === "CONFIGSUCCESS"));
}

/** One block's objects in this node's LIO (list() shows a target without its LUN apart from its backstore). */
interface LioGroup {
  name?: string;
  gbid?: string;
  iqn?: string;
  cfgstring: string;
}

function groupLio(list: LioBlockState[]): LioGroup[] {
  const groups = new Map<string, LioGroup>();
  for (const b of list) {
    const key = b.gbid || (b.name !== undefined ? `name:${b.name}` : (b.target?.iqn ?? "?"));
    const g = groups.get(key) ?? { cfgstring: "" };
    if (b.name !== undefined) g.name = b.name;
    if (b.gbid) g.gbid = b.gbid;
    if (b.target) g.iqn = b.target.iqn;
    if (b.backstore?.cfgstring) g.cfgstring = b.backstore.cfgstring;
    groups.set(key, g);
  }
  return [...groups.values()];
}

export class Auditor {
  constructor(
    private readonly engine: AuditEngine,
    readonly local: LocalNode,
    private readonly lio: LioTargets,
    private readonly peers: Peers,
    private readonly log: Logger,
  ) {}

  /** Runs fn holding the block's lock; undefined (fn not run) while an operation holds it. */
  private async ifIdle<T>(store: BlockStore, block: string, fn: () => Promise<T>): Promise<{ value: T } | undefined> {
    const held = await acquireBlockLock(block, { dir: store.lockDir, owner: `${processOwner(this.engine.host)} audit`, waitMs: 0 }).catch(() => undefined);
    if (!held) return undefined;
    try {
      return { value: await fn() };
    } finally {
      await held.release();
    }
  }

  async audit(volume: string, fix: boolean): Promise<Finding[]> {
    const store = await this.engine.store(volume);
    const findings: Finding[] = [];
    const add = (f: Omit<Finding, "fixed">, fixed = false): void => {
      findings.push({ ...f, fixed });
      this.log[fixed ? "warn" : "info"](fixed ? "audit fixed" : "audit finding", { volume, ...f });
    };
    // the files before the journals: a create journals before it makes its
    // file, so a file listed here that no journal listed after names has none
    const files = new Set(await store.listBackingFiles());
    const { metas, unreadable } = await readJournals(store);

    // unreadable journals: moved aside only when no file of theirs exists
    const keptNames = new Set<string>();
    const keptGbids = new Set<string>();
    for (const [name, u] of unreadable) {
      const data = u.gbids.filter((g) => files.has(g));
      const keep = (): void => {
        keptNames.add(name);
        for (const g of u.gbids) keptGbids.add(g);
      };
      const finding = { kind: "journal-corrupt" as const, host: "", block: name };
      if (data.length > 0) {
        keep();
        add({
          ...finding,
          detail: `${u.error}; its block's file /block-store/${data.join(", /block-store/")} and LIO objects are kept: repair the journal by hand`,
        });
        continue;
      }
      const moved = await this.ifIdle(store, name, async () => {
        if (!fix) return undefined;
        const dir = join(store.root, QUARANTINE_DIR);
        await mkdir(dir, { recursive: true });
        const to = join(dir, `${name}.${new Date().toISOString().replace(/[:.]/g, "")}`);
        await rename(store.metaPath(name), to);
        return to;
      });
      if (!moved) {
        keep(); // being written right now (a create's first append): not ours to judge
        continue;
      }
      if (moved.value === undefined) {
        keep();
        add({ ...finding, detail: `${u.error}; no backing file: fix moves the journal to ${QUARANTINE_DIR}` });
      } else add({ ...finding, detail: `${u.error}; no backing file; moved to ${moved.value}` }, true);
    }

    // backing files no journal names
    const named = new Set([...[...metas.values()].map((m) => m.gbid), ...keptGbids]);
    for (const f of files) {
      if (named.has(f)) continue;
      // set aside, never deleted: it may be data an admin kept (`delete ... unlink-storage no`)
      const finding = {
        kind: "file-without-metadata" as const,
        host: "",
        block: f,
        detail: `/block-store/${f}; fix moves it to /${ORPHAN_DIR}/ (delete it there by hand)`,
      };
      if (fix) {
        const to = await store.setAsideBackingFile(f);
        add({ ...finding, detail: `/block-store/${f} moved to ${to}` }, true);
      } else add(finding);
    }

    const unfinishedOf = (m: BlockMeta): FindingKind | undefined =>
      isDeleteStarted(m) ? "delete-incomplete" : m.entryCreate !== "SUCCESS" || neverServed(m) ? "create-incomplete" : undefined;
    const fileGone = new Set<string>();
    for (const m of metas.values()) {
      if (!unfinishedOf(m) && !files.has(m.gbid) && (await isGone(store.storePath(m.gbid)))) fileGone.add(m.name);
    }
    // the finished blocks with their file: every host asked once for all of its blocks
    const statuses = await TargetStatuses.of(
      this.peers,
      volume,
      [...metas.values()].filter((m) => !unfinishedOf(m) && !fileGone.has(m.name)),
    );

    for (const m of metas.values()) {
      const unfinished = unfinishedOf(m);
      if (unfinished) {
        // only if no operation holds the block right now
        if (!(await this.ifIdle(store, m.name, () => Promise.resolve()))) continue;
        const detail =
          unfinished === "delete-incomplete"
            ? "a delete was cut short"
            : m.entryCreate !== "SUCCESS"
              ? "journal stops at ENTRYCREATE: INPROGRESS"
              : "the create stopped before any host served the block";
        const finding = { kind: unfinished, host: "", block: m.name, detail };
        if (fix) {
          await this.engine.delete({ volume, block: m.name, unlinkStorage: true, force: true, missingOk: true });
          add(finding, true);
        } else add(finding);
        continue;
      }
      if (fileGone.has(m.name)) {
        const finding = {
          kind: "metadata-without-file" as const,
          host: "",
          block: m.name,
          detail: `/block-store/${m.gbid} is missing: the block's data is gone`,
        };
        // its targets serve a LUN that cannot be read: the block is deleted, targets and journal
        if (fix && (await this.ifIdle(store, m.name, () => Promise.resolve()))) {
          await this.engine.delete({ volume, block: m.name, unlinkStorage: true, force: true, missingOk: true });
          add(finding, true);
        } else add(finding);
        continue;
      }
      const ref = { volume, block: m.name, gbid: m.gbid };
      for (const h of exportedOn(m)) {
        const st = statuses.get(m.name, h);
        if (st.matches) continue;
        const finding = { kind: "metadata-without-target" as const, host: h, block: m.name, detail: st.detail };
        if (fix && !st.detail.startsWith("unreachable")) {
          const ok = await this.peers.apply(h, ref).then(
            () => true,
            () => false,
          );
          add(finding, ok);
        } else add(finding);
      }
    }

    // this node's LIO objects that no journal of the volume accounts for
    const byGbid = new Map([...metas.values()].map((m) => [m.gbid, m]));
    const here = this.local.host;
    for (const g of groupLio(await this.lio.list())) {
      const ours = g.iqn?.startsWith(IQN_PREFIX) || g.cfgstring.startsWith(`${volume}@`);
      // a target of another hosting volume is that volume's business
      if (!ours || (g.cfgstring && !g.cfgstring.startsWith(`${volume}@`))) continue;
      if ((g.name !== undefined && keptNames.has(g.name)) || (g.gbid && keptGbids.has(g.gbid))) continue;
      const owner = g.gbid ? byGbid.get(g.gbid) : undefined;
      // a block's objects on a node that is not one of its hosts (a replace whose clean-up failed) are orphans too
      if (owner && haHosts(owner, readExtensions(owner)).includes(here)) continue;
      const block = g.name ?? owner?.name ?? g.gbid ?? "?";
      const finding = {
        kind: "lio-without-metadata" as const,
        host: here,
        block,
        detail: owner ? `${g.iqn ?? g.cfgstring}: ${here} is not a host of block ${owner.name}` : (g.iqn ?? g.cfgstring),
      };
      const name = g.name;
      // No target links a backstore that has no IQN in its group: with no serial
      // either (a create cut short before its WWN), only the backstore goes, and
      // the IQN given is one no block can have (GBIDs are UUIDs), so no target is touched.
      const iqn = g.iqn ?? `${IQN_PREFIX}${g.gbid || "no-target"}`;
      if (!fix || name === undefined) {
        // a target with no backstore cannot be told apart from another volume's: reported only
        add(finding);
        continue;
      }
      const removed = await this.ifIdle(store, name, async () => {
        // read again under the lock: a block created since the journals were listed is not an orphan
        const now = await store.readMeta(name).catch(() => undefined);
        if (now && (now.gbid !== g.gbid || haHosts(now, readExtensions(now)).includes(here))) return false;
        await this.lio.remove({ name, iqn });
        return true;
      });
      if (removed?.value) add(finding, true);
    }
    return findings;
  }
}

/** True only when the file itself is not there (a listing can miss an entry; any other error is not an answer). */
async function isGone(path: string): Promise<boolean> {
  try {
    await stat(path);
    return false;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return true;
    throw err;
  }
}
