// What this node does when a coordinator (itself or a peer) asks: converge,
// remove or inspect its own LIO objects for one block, reading the block's
// journal from the volume (the single source of truth).
import type { VolumeMounts } from "../volume/mounts.js";
import { BlockStore } from "../volume/block-store.js";
import type { ApplyReport, BlockTargetSpec, LioBlockState, LioTargets } from "../lio/types.js";
import { isDeleteStarted, type BlockMeta } from "../journal/index.js";
import { iqnFor } from "../../identity/names.js";
import { BlockNotFoundError, PreconditionError } from "../errors.js";
import { targetSpecFor } from "./target-spec.js";
import { targetDifferences } from "./target-match.js";
import { haHosts, readExtensions } from "./extensions.js";
import { TargetCounts } from "./target-counts.js";
import type { PeerRef, TargetResult, TargetStatusAnswer, NodeStatusInfo, TargetInspection } from "./peers.js";
import type { Exec } from "../../util/exec.js";
import type { Logger } from "../../util/log.js";
import { VERSION } from "../../util/version.js";
import { mapLimit } from "../../util/map-limit.js";
import { reconcilePlan } from "./reconcile-plan.js";
import { JOURNAL_READS } from "./audit-journals.js";

/**
 * applies at once in a reconcile: different blocks' configfs writes are
 * independent (lio/mutation-gate.ts), and while one apply's backstore enable
 * waits for tcmu-runner to open its file on the volume, others write
 */
const RECONCILE_APPLIES = 4;

export interface LocalNodeOptions {
  host: string;
  mounts: VolumeMounts;
  lio: LioTargets;
  exec: Exec;
  volfileServer: string;
  log: Logger;
}

export class LocalNode {
  private readonly counts: TargetCounts;

  constructor(private readonly opts: LocalNodeOptions) {
    this.counts = new TargetCounts({
      walk: () => opts.lio.activePaths(),
      onRefreshError: (err) => opts.log.warn("recounting LIO targets failed", { error: err instanceof Error ? err.message : String(err) }),
    });
  }

  get host(): string {
    return this.opts.host;
  }

  private async store(volume: string): Promise<BlockStore> {
    return new BlockStore(volume, await this.opts.mounts.ensure(volume), this.opts.exec);
  }

  private async meta(ref: PeerRef, store?: Promise<BlockStore>): Promise<BlockMeta> {
    const meta = await (await (store ?? this.store(ref.volume))).readMeta(ref.block);
    if (!meta) throw new BlockNotFoundError(ref.volume, ref.block);
    if (meta.gbid !== ref.gbid) throw new PreconditionError(`block ${ref.volume}/${ref.block} has GBID ${meta.gbid}, not ${ref.gbid}`);
    return meta;
  }

  async apply(ref: PeerRef): Promise<TargetResult> {
    const spec = this.specToApply(ref.volume, await this.meta(ref));
    const report = await this.opts.lio.apply(spec);
    this.converged(ref.volume, spec, report);
    return { host: this.host, present: true, matches: true, detail: report.writes === 0 ? "unchanged" : `${report.writes} changes` };
  }

  /** what this node's LIO must hold for the block; throws when this node must not export it */
  private specToApply(volume: string, meta: BlockMeta): BlockTargetSpec {
    if (isDeleteStarted(meta)) throw new PreconditionError(`block ${volume}/${meta.name} is being deleted`);
    const hosts = haHosts(meta, readExtensions(meta));
    if (!hosts.includes(this.host)) throw new PreconditionError(`this node (${this.host}) is not an HA host of ${volume}/${meta.name}`);
    return targetSpecFor(meta, this.host, this.opts.volfileServer);
  }

  private converged(volume: string, spec: BlockTargetSpec, report: Pick<ApplyReport, "writes" | "created" | "resized" | "durationMs">): void {
    this.counts.applied(spec.iqn, spec.aoHost === this.host);
    this.opts.log.info("target converged", {
      volume,
      block: spec.name,
      writes: report.writes,
      created: report.created,
      resized: report.resized,
      ms: report.durationMs,
    });
  }

  async remove(ref: PeerRef): Promise<TargetResult> {
    const iqn = iqnFor(ref.gbid);
    await this.opts.lio.remove({ name: ref.block, iqn });
    this.counts.removed(iqn);
    return { host: this.host, present: false, matches: true, detail: "removed" };
  }

  async status(ref: PeerRef): Promise<TargetResult> {
    const meta = await this.meta(ref);
    const spec = targetSpecFor(meta, this.host, this.opts.volfileServer);
    return this.judge(spec, await this.opts.lio.get(spec.iqn));
  }

  /**
   * status() of many blocks: the journals read a few at a time, LIO read in
   * one pass, compared in memory. A block whose journal cannot be read
   * answers the error status() would have thrown; the others still answer.
   */
  async statusMany(refs: readonly PeerRef[]): Promise<TargetStatusAnswer[]> {
    const stores = new Map<string, Promise<BlockStore>>();
    const storeOf = (volume: string): Promise<BlockStore> => {
      let st = stores.get(volume);
      if (!st) {
        st = this.store(volume);
        st.catch(() => undefined); // its error is each ref's answer
        stores.set(volume, st);
      }
      return st;
    };
    const specs = await mapLimit(refs, JOURNAL_READS, (ref) =>
      this.meta(ref, storeOf(ref.volume)).then(
        (meta) => targetSpecFor(meta, this.host, this.opts.volfileServer),
        (err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }),
      ),
    );
    const wanted = specs.flatMap((s) => ("error" in s ? [] : [s.iqn]));
    const states = await this.opts.lio.getMany(wanted);
    return specs.map((s) => ("error" in s ? { host: this.host, error: s.error } : this.judge(s, states.get(s.iqn))));
  }

  /** The block's target as this node's LIO holds it, with its live sessions (an adoption's survey); nothing written. */
  async inspect(ref: PeerRef): Promise<TargetInspection> {
    const meta = await this.meta(ref);
    const tpgs = await this.opts.lio.sessions(iqnFor(meta.gbid));
    if (tpgs === undefined) return { host: this.host, present: false, tpgs: [] };
    return {
      host: this.host,
      present: true,
      tpgs: tpgs.map((t) => ({
        tag: t.tag,
        enabled: t.enabled,
        portals: t.portals,
        generateNodeAcls: t.generateNodeAcls,
        dynamicSessions: t.dynamic,
        aclSessions: t.explicit,
      })),
    };
  }

  private judge(spec: BlockTargetSpec, state: LioBlockState | undefined): TargetResult {
    const diffs = targetDifferences(spec, state);
    return {
      host: this.host,
      present: state?.backstore !== undefined || state?.target !== undefined,
      matches: diffs.length === 0,
      detail: diffs.join("; ") || "ok",
    };
  }

  /** Liveness plus the target counts placement balances on; never walks configfs once they are loaded. */
  async nodeStatus(): Promise<NodeStatusInfo> {
    const { targets, activePaths } = await this.counts.snapshot();
    return { host: this.host, version: VERSION, targets, activePaths, ready: true };
  }

  /**
   * Exports again what the journals of `volume` say this node exports: after
   * a reboot or a wiped LIO config, with no manual reload. Each journal read
   * once (8 at a time), LIO judged in one read-only pass, and only the blocks
   * whose LIO differs applied, 4 at a time; a block that fails does not stop
   * the others. Returns the blocks converged and those that failed, in
   * directory order.
   */
  async reconcileVolume(volume: string): Promise<{ converged: string[]; failed: string[] }> {
    const plan = await reconcilePlan(await this.store(volume), this.host, (meta) => this.specToApply(volume, meta));
    for (const u of plan.unreadable) this.opts.log.warn("journal unreadable, skipped", { volume, block: u.name, error: u.error });
    for (const r of plan.refused) this.opts.log.error("reconcile failed", { volume, block: r.name, error: r.error });
    const pending = await this.opts.lio.pendingMany(plan.specs).catch((err: unknown) => {
      this.opts.log.warn("judging LIO failed; applying every block", { volume, error: err instanceof Error ? err.message : String(err) });
      return new Set(plan.specs.map((s) => s.iqn));
    });
    const failed = new Set([...plan.unreadable, ...plan.refused].map((x) => x.name));
    await mapLimit(
      plan.specs.filter((s) => pending.has(s.iqn)),
      RECONCILE_APPLIES,
      async (spec) => {
        try {
          this.converged(volume, spec, await this.opts.lio.apply(spec));
        } catch (err) {
          this.opts.log.error("reconcile failed", { volume, block: spec.name, error: err instanceof Error ? err.message : String(err) });
          failed.add(spec.name);
        }
      },
    );
    for (const spec of plan.specs) if (!pending.has(spec.iqn)) this.converged(volume, spec, { writes: 0, created: false, resized: false, durationMs: 0 });
    return { converged: plan.specs.map((s) => s.name).filter((n) => !failed.has(n)), failed: plan.order.filter((n) => failed.has(n)) };
  }
}
