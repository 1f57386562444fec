// The orphan audit, both ways: LIO objects with no journal, journals whose
// targets are missing, backing files no journal names, journals whose file is
// gone, and creates or deletes cut short. Dry run by default; with fix, each
// repair or removal is one log line.
import type { BlockEngine } from "./block-engine.js";
import type { LocalNode } from "./local-node.js";
import type { LioTargets } from "../lio/types.js";
import { GLUSTER_BLOCK_IQN_PREFIX } from "../lio/types.js";
import { exportedOn, isDeleteStarted, type BlockMeta } from "../journal/index.js";
import { acquireLease } from "../volume/lease-lock.js";
import type { Peers } from "./peers.js";
import type { Logger } from "../../util/log.js";

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

export class Auditor {
  constructor(
    private readonly engine: BlockEngine,
    readonly local: LocalNode,
    private readonly lio: LioTargets,
    private readonly peers: Peers,
    private readonly log: Logger,
  ) {}

  async audit(volume: string, fix: boolean): Promise<Finding[]> {
    const store = await this.engine.store(volume);
    const findings: Finding[] = [];
    const add = (f: Omit<Finding, "fixed">, fixed = false): void => {
      findings.push({ ...f, fixed });
      this.log[fixed ? "warn" : "info"](fixed ? "audit fixed" : "audit finding", { volume, ...f });
    };
    const metas = new Map<string, BlockMeta>();
    for (const name of await store.listNames()) {
      try {
        const m = await store.readMeta(name);
        if (m) metas.set(name, m);
      } catch (err) {
        add({ kind: "journal-corrupt", host: "", block: name, detail: err instanceof Error ? err.message : String(err) });
      }
    }
    const files = new Set(await store.listBackingFiles());
    const gbids = new Set([...metas.values()].map((m) => m.gbid));

    // backing files no journal names
    for (const f of files) {
      if (gbids.has(f)) continue;
      const finding = { kind: "file-without-metadata" as const, host: "", block: f, detail: `/block-store/${f}` };
      if (fix) {
        await store.unlinkBackingFile(f);
        add(finding, true);
      } else add(finding);
    }

    for (const m of metas.values()) {
      const unfinished = isDeleteStarted(m) ? "delete-incomplete" : m.entryCreate !== "SUCCESS" ? "create-incomplete" : undefined;
      if (unfinished) {
        // only if no operation holds the block right now
        const held = await acquireLease(m.name, { dir: store.lockDir, owner: `audit ${this.engine.host}`, waitMs: 0 }).catch(() => undefined);
        if (!held) continue;
        await held.release();
        const finding = { kind: unfinished, host: "", block: m.name, detail: `journal stops at ${unfinished === "create-incomplete" ? "ENTRYCREATE: INPROGRESS" : "a delete"}` } as const;
        if (fix) {
          await this.engine.delete({ volume, block: m.name, unlinkStorage: true, force: true, missingOk: true });
          add(finding, true);
        } else add(finding);
        continue;
      }
      if (!files.has(m.gbid)) add({ kind: "metadata-without-file", host: "", block: m.name, detail: `/block-store/${m.gbid} is missing: the block's data is gone; delete it` });
      const ref = { volume, block: m.name, gbid: m.gbid };
      for (const h of exportedOn(m)) {
        const st = await this.peers.status(h, ref).catch((err: unknown) => ({ host: h, present: false, matches: false, detail: `unreachable: ${err instanceof Error ? err.message : String(err)}` }));
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
    const known = new Set([...metas.values()].map((m) => m.gbid));
    for (const b of await this.lio.list()) {
      const cfg = b.backstore?.cfgstring ?? "";
      const ours = b.target?.iqn.startsWith(GLUSTER_BLOCK_IQN_PREFIX) || cfg.startsWith(`${volume}@`);
      if (!ours || (b.gbid && known.has(b.gbid))) continue;
      // a target of another hosting volume is that volume's business
      if (cfg && !cfg.startsWith(`${volume}@`)) continue;
      const finding = { kind: "lio-without-metadata" as const, host: this.engine.host, block: b.name ?? b.gbid ?? "?", detail: b.target?.iqn ?? cfg };
      if (fix && b.name && b.gbid) {
        await this.lio.remove({ name: b.name, iqn: `${GLUSTER_BLOCK_IQN_PREFIX}${b.gbid}` });
        add(finding, true);
      } else add(finding);
    }
    return findings;
  }
}
