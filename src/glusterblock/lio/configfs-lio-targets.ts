// LioTargets written straight into the kernel's configfs, as rtslib-fb does,
// so the cost of a create or delete does not grow with the number of objects
// LIO holds (every targetcli run loads the whole tree).
import type { ConfigFs } from "./configfs.js";
import { nodeConfigFs } from "./configfs.js";
import { CfsSession, WouldWrite } from "./cfs-session.js";
import { MutationGate } from "./mutation-gate.js";
import { LioPaths } from "./paths.js";
import type { ApplyReport, BackstoreState, BlockTargetSpec, LioBlockState, LioTargets, TargetState, TpgSessions } from "./types.js";
import { IQN_PREFIX } from "../../identity/names.js";
import {
  backstoreAtLink,
  backstoreIndex,
  createBackstore,
  findBackstore,
  judgeBackstore,
  listUserBackstores,
  readBackstore,
  removeBackstoreAt,
  sweepEmptyUserHbas,
  tuneBackstore,
} from "./backstore.js";
import type { BackstoreLocation, LocateBackstore } from "./backstore.js";
import { ensureAluaGroups, removeAluaGroups } from "./alua.js";
import { convergeTarget, linkedStorageObject, ownPathActive, readSessions, readTarget, removeTarget } from "./iscsi-target.js";
import { validateSpec } from "./validate-spec.js";
import type { Logger } from "../../util/log.js";
import { nullLogger } from "../../util/log.js";

export interface ConfigfsLioOptions {
  /** default /sys/kernel/config/target */
  root?: string;
  fs?: ConfigFs;
  logger?: Logger;
  /** run before the first operation (module loading); default none */
  prepare?: () => Promise<void>;
}

export class ConfigfsLioTargets implements LioTargets {
  private readonly paths: LioPaths;
  private readonly fs: ConfigFs;
  private readonly log: Logger;
  private readonly prepare: () => Promise<void>;
  /** mutations of different blocks at once, of one block one at a time, the HBA sweep alone (mutation-gate.ts) */
  private readonly gate = new MutationGate();
  /** empty user HBAs were swept since the last remove that did not finish */
  private swept = false;

  constructor(opts: ConfigfsLioOptions = {}) {
    this.paths = new LioPaths(opts.root ?? "/sys/kernel/config/target");
    this.fs = opts.fs ?? nodeConfigFs;
    this.log = opts.logger ?? nullLogger;
    this.prepare = opts.prepare ?? (() => Promise.resolve());
  }

  async apply(spec: BlockTargetSpec): Promise<ApplyReport> {
    validateSpec(spec);
    return this.gate.shared([`backstore ${spec.name}`, `target ${spec.iqn}`], () => this.applyNow(spec));
  }

  /**
   * The IQNs of the specs apply() would change, from one read-only pass:
   * apply's own converge run in a session that stops at its first mutation,
   * so "nothing to do" means exactly what apply would find. A spec that
   * cannot be judged (or that apply would refuse) counts as pending: its
   * apply reports why.
   */
  async pendingMany(specs: readonly BlockTargetSpec[]): Promise<Set<string>> {
    await this.prepare();
    const s = new CfsSession(this.fs, this.log, [], true);
    const locate = await backstoreIndex(s, this.paths);
    const out = new Set<string>();
    for (const spec of specs) {
      try {
        validateSpec(spec);
        await this.converge(s, spec, locate);
      } catch (e) {
        if (!(e instanceof WouldWrite)) this.log.debug("lio judge failed", { name: spec.name, error: e instanceof Error ? e.message : String(e) });
        out.add(spec.iqn);
      }
    }
    return out;
  }

  /**
   * Target, then backstore and its HBA. The backstore is found where the
   * target's LUN points (a search of every HBA only when the target is
   * already gone: a remove cut short). Empty user HBAs, the debris of a
   * remove or create cut between the object and its HBA, are swept alone
   * (an apply's new HBA is empty until its object is made) by the first
   * remove of the process and after any remove that found no backstore or
   * failed; the others cost the same at 500 blocks as at 1.
   */
  async remove(ref: { name: string; iqn: string }): Promise<void> {
    let found: boolean;
    try {
      found = await this.gate.shared([`backstore ${ref.name}`, `target ${ref.iqn}`], () => this.removeNow(ref));
    } catch (e) {
      this.swept = false;
      throw e;
    }
    if (found && this.swept) return;
    await this.gate.exclusive(async () => {
      await sweepEmptyUserHbas(new CfsSession(this.fs, this.log), this.paths);
      this.swept = true;
    });
  }

  /** whether the backstore was there to remove */
  private async removeNow(ref: { name: string; iqn: string }): Promise<boolean> {
    await this.prepare();
    const s = new CfsSession(this.fs, this.log);
    const started = performance.now();
    const loc = await this.locate(s, ref);
    await removeTarget(s, this.paths, ref.iqn);
    if (loc) await removeBackstoreAt(s, this.paths, loc);
    this.log.info("lio remove", { name: ref.name, iqn: ref.iqn, writes: s.writes, ms: Math.round(performance.now() - started) });
    return loc !== undefined;
  }

  /** the block's backstore: where its target's LUN points, else searched for */
  private async locate(s: CfsSession, ref: { name: string; iqn: string }): Promise<BackstoreLocation | undefined> {
    return (
      (await backstoreAtLink(s, this.paths, ref.name, await linkedStorageObject(s, this.paths, ref.iqn))) ?? (await findBackstore(s, this.paths, ref.name))
    );
  }

  async list(): Promise<LioBlockState[]> {
    await this.prepare();
    const s = new CfsSession(this.fs, this.log);
    const byPath = new Map<string, LioBlockState>();
    const out: LioBlockState[] = [];
    for (const loc of await listUserBackstores(s, this.paths)) {
      const bs = await readBackstore(s, loc);
      if (bs.handler !== "glfs") continue;
      const st: LioBlockState = { name: bs.name, gbid: bs.wwn, backstore: bs };
      byPath.set(loc.path, st);
      out.push(st);
    }
    for (const iqn of await s.readdir(this.paths.iscsi)) {
      if (!iqn.startsWith(IQN_PREFIX)) continue;
      const target = await readTarget(s, this.paths, iqn);
      if (!target) continue;
      const gbid = iqn.slice(IQN_PREFIX.length);
      const linked = this.linkedPath(target);
      const st = linked === undefined ? undefined : byPath.get(linked);
      if (st && st.target === undefined) {
        st.target = target;
        st.gbid = gbid;
      } else {
        out.push({ gbid, target });
      }
    }
    return out;
  }

  async activePaths(): Promise<Map<string, boolean>> {
    await this.prepare();
    const s = new CfsSession(this.fs, this.log);
    const out = new Map<string, boolean>();
    for (const iqn of await s.readdir(this.paths.iscsi)) {
      if (iqn.startsWith(IQN_PREFIX)) out.set(iqn, await ownPathActive(s, this.paths, iqn));
    }
    return out;
  }

  async sessions(iqn: string): Promise<TpgSessions[] | undefined> {
    await this.prepare();
    return readSessions(new CfsSession(this.fs, this.log), this.paths, iqn);
  }

  async get(iqn: string): Promise<LioBlockState | undefined> {
    return (await this.getMany([iqn])).get(iqn);
  }

  /**
   * get() of many targets in one pass (the audit's status of every block):
   * each target read once, the backstores searched by WWN at most once
   * however many targets have no linked backstore.
   */
  async getMany(iqns: readonly string[]): Promise<Map<string, LioBlockState | undefined>> {
    await this.prepare();
    const s = new CfsSession(this.fs, this.log);
    let byWwn: Map<string, BackstoreState> | undefined;
    const backstoreWithWwn = async (wwn: string): Promise<BackstoreState | undefined> => {
      if (!byWwn) {
        byWwn = new Map();
        for (const l of await listUserBackstores(s, this.paths)) {
          const bs = await readBackstore(s, l);
          if (!byWwn.has(bs.wwn)) byWwn.set(bs.wwn, bs);
        }
      }
      return byWwn.get(wwn);
    };
    const out = new Map<string, LioBlockState | undefined>();
    for (const iqn of iqns) {
      if (out.has(iqn)) continue;
      const target = await readTarget(s, this.paths, iqn);
      const gbid = iqn.startsWith(IQN_PREFIX) ? iqn.slice(IQN_PREFIX.length) : undefined;
      let backstore: BackstoreState | undefined;
      const linked = target ? this.linkedPath(target) : undefined;
      if (linked !== undefined && (await s.kind(linked)) === "dir") {
        const parts = linked.split("/");
        backstore = await readBackstore(s, { hba: parts[parts.length - 2] ?? "", path: linked });
      } else if (gbid !== undefined) {
        // no target (or no LUN): the backstore with the block's WWN
        backstore = await backstoreWithWwn(gbid);
      }
      out.set(
        iqn,
        !target && !backstore
          ? undefined
          : {
              ...(backstore ? { name: backstore.name, backstore } : {}),
              ...(gbid !== undefined ? { gbid } : {}),
              ...(target ? { target } : {}),
            },
      );
    }
    return out;
  }

  private linkedPath(target: TargetState): string | undefined {
    for (const tpg of target.tpgs) {
      for (const lun of tpg.luns) {
        if (lun.backstore !== undefined && lun.backstoreHba !== undefined) return this.paths.storageObject(lun.backstoreHba, lun.backstore);
      }
    }
    return undefined;
  }

  private async applyNow(spec: BlockTargetSpec): Promise<ApplyReport> {
    await this.prepare();
    const started = performance.now();
    const s = new CfsSession(this.fs, this.log, spec.auth ? [spec.auth.password] : []);
    const { created, resized } = await this.converge(s, spec);
    const durationMs = Math.round(performance.now() - started);
    if (s.writes > 0) {
      this.log.info("lio apply", { name: spec.name, iqn: spec.iqn, created, resized: resized && !created, writes: s.writes, ms: durationMs });
    }
    return { created, resized: resized && !created, writes: s.writes, changes: s.changes, durationMs };
  }

  /** LIO brought in line with the spec, writing only what differs */
  private async converge(s: CfsSession, spec: BlockTargetSpec, locate?: LocateBackstore): Promise<{ created: boolean; resized: boolean }> {
    let created = false;
    let verdict = await judgeBackstore(s, this.paths, spec, locate ?? ((name) => this.locate(s, { name, iqn: spec.iqn })));
    if (verdict.kind === "rebuild") {
      this.log.warn("lio backstore rebuilt", { name: spec.name, reason: verdict.reason });
      await removeTarget(s, this.paths, spec.iqn);
      await removeBackstoreAt(s, this.paths, verdict.loc);
      verdict = { kind: "absent" };
    }
    let loc: BackstoreLocation;
    if (verdict.kind === "ok") {
      loc = verdict.loc;
    } else {
      loc = await createBackstore(s, this.paths, spec, verdict.kind === "incomplete" ? verdict.loc : undefined);
      created = true;
    }
    const { resized } = await tuneBackstore(s, loc, spec);
    if (spec.aoHost !== undefined) await ensureAluaGroups(s, loc.path);
    await convergeTarget(s, this.paths, spec, loc.path);
    if (spec.aoHost === undefined) await removeAluaGroups(s, loc.path);
    return { created, resized };
  }
}
