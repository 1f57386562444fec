// The gluster-block engine on one storage node: the operations the CLI and
// the CSI controller ask for, coordinated from here across the HA hosts.
// Every step is written to the block's journal before the next one starts,
// so a retry after a crash at any point reads where it stopped and goes on.
import { randomUUID } from "node:crypto";
import type { Logger } from "../../util/log.js";
import { withSignal, type Exec } from "../../util/exec.js";
import { addCallSecrets } from "../../util/secrets.js";
import type { GlusterCli } from "../gluster/gluster-cli.js";
import type { VolumeMounts } from "../volume/mounts.js";
import { BlockStore, DEFAULT_RESERVE_BYTES } from "../volume/block-store.js";
import { acquireBlockLock, LockBusyError, LockLostError, processOwner, type HeldLock } from "../volume/block-lock.js";
import {
  createIntentLines,
  createDoneLines,
  passwordLine,
  entryDeleteLine,
  hostLine,
  keyLine,
  exportedOn,
  deleteTargets,
  isDeleteStarted,
  hostsBehindSize,
  type BlockMeta,
  type HostStatus,
} from "../journal/index.js";
import { iqnFor, wwidFor, validateBlockName, validateVolumeName, validateHostAddress, canonicalHost } from "../../identity/names.js";
import { checkDeviceSize, formatSize } from "../../identity/size.js";
import { DEFAULT_ISCSI_PORT, portalOf } from "../../identity/portal.js";
import {
  BlockBusyError,
  BlockExistsError,
  BlockLockLostError,
  BlockNotFoundError,
  HostUnreachableError,
  InvalidRequestError,
  NoSpaceError,
  PartialFailureError,
  PreconditionError,
} from "../errors.js";
import { readExtensions, extLine, haHosts } from "./extensions.js";
import { aclProofFor, aclSynced } from "./acl-sync.js";
import { PING_TIMEOUT_MS, type Peers, type PeerRef, type TargetInspection, type TargetResult } from "./peers.js";
import type { AdoptOutcome, AdoptRequest, CreateRequest, CreateOutcome, HostsOutcome } from "./requests.js";
import { adoptPlan, checkJournalAdoptable, lateSessions } from "./adopt-plan.js";
import type { BlockSummary } from "../journal/index.js";
import { toBlockSummary } from "../journal/index.js";
import { resolvePeerNames } from "../gluster/peer-addresses.js";
import { isInitiatorName } from "../../identity/initiator-name.js";
import { BLOCK_SIZES, HA_COUNT, IO_TIMEOUT_SEC, RING_BUFFER_MB, inRange } from "../../identity/limits.js";
import { JOURNAL_READS, readJournals } from "./audit-journals.js";
import { TargetStatuses } from "./target-statuses.js";
import { mapLimit } from "../../util/map-limit.js";
import { StartedVolumes } from "./started-volumes.js";

export interface BlockEngineOptions {
  /** this node's address, as used in portals and by peers */
  host: string;
  mounts: VolumeMounts;
  gluster: GlusterCli;
  peers: Peers;
  exec: Exec;
  log: Logger;
  /** kept free on a volume beyond a new block's size */
  reserveBytes?: bigint;
  /** how long an operation waits for another one on the same block */
  lockWaitMs?: number;
  iscsiPort?: number;
  /** glusterd's recent "started" answers (started-volumes.ts), shared by this engine's per-call copies (withSignal); made here when absent */
  startedVolumes?: StartedVolumes;
  /**
   * Tests only: called after each durable step of an operation (a journal
   * append, a backing file change, one host's LIO apply or remove). A hook that
   * throws stops the operation there, as a killed process would. Never set in
   * production.
   */
  faults?: { afterStep(step: string): void | Promise<void> };
}

export type ReplaceOutcome =
  | { outcome: "skipped" | "new-node-in-use" }
  | { outcome: "done"; created: boolean; deleted: boolean; portalSuccessOn: string[]; portalFailedOn: string[]; force: boolean };

/** blocks one targetStatuses() call may ask about: one answer's size stays small, its hosts' work bounded */
export const MAX_STATUS_BLOCKS = 1000;

/** One block's answer in targetStatuses(): every HA host's status, or why the block could not be judged. */
export type BlockTargetStatuses = { block: string; hosts: TargetResult[] } | { block: string; error: string };

export interface BlockDetails {
  meta: BlockMeta;
  info: BlockSummary;
  hosts: string[];
  aclMode: "GENERATED" | "EXPLICIT";
  /** every initiator let in, read-write ones first */
  initiators: string[];
  /** those of `initiators` let in read-only */
  readOnlyInitiators: string[];
  owner: string;
  /** the block's ACL proof holds: no exporting host's LIO lets in an initiator not in `initiators` (acl-sync.ts); false from listDetails() */
  aclSynced: boolean;
}

/** Made completely: the journal's entry is done and every HA host exports it. */
const isComplete = (meta: BlockMeta): boolean => meta.entryCreate === "SUCCESS" && exportedOn(meta).length >= meta.ha;

export class BlockEngine {
  readonly host: string;
  private readonly log: Logger;
  /** the port of this cluster's iSCSI portals */
  readonly iscsiPort: number;
  private readonly started: StartedVolumes;

  constructor(private readonly opts: BlockEngineOptions) {
    this.host = canonicalHost(opts.host);
    this.log = opts.log;
    this.iscsiPort = opts.iscsiPort ?? DEFAULT_ISCSI_PORT;
    this.started = opts.startedVolumes ?? new StartedVolumes();
  }

  /**
   * This engine for one caller: the programs its operations run (gluster,
   * fallocate) end when `signal` fires, and the operation fails there, as
   * after a crash (a retry goes on from the journal). The shared volume
   * mounts and the peers' calls are not the caller's and go on.
   */
  withSignal(signal: AbortSignal): BlockEngine {
    return new BlockEngine({
      ...this.opts,
      startedVolumes: this.started,
      exec: withSignal(this.opts.exec, signal),
      gluster: this.opts.gluster.withSignal(signal),
    });
  }

  /** The volume's store, checking that the volume exists and is started, and mounting it. */
  async store(volume: string): Promise<BlockStore> {
    validateVolumeName(volume);
    await this.started.check(volume, () => this.opts.gluster.volumeInfo(volume));
    const root = await this.opts.mounts.ensure(volume);
    const store = new BlockStore(volume, root, this.opts.exec);
    await store.ensureLayout();
    return store;
  }

  private async lock(store: BlockStore, block: string): Promise<HeldLock> {
    try {
      return await acquireBlockLock(block, {
        dir: store.lockDir,
        owner: processOwner(this.host),
        waitMs: this.opts.lockWaitMs ?? 30_000,
        exec: this.opts.exec,
      });
    } catch (err) {
      if (err instanceof LockBusyError) throw new BlockBusyError(store.volume, block, err.holder);
      throw err;
    }
  }

  /**
   * Runs fn holding the block's lock, with a store that checks the lock is
   * still this operation's alone before every journal append and backing
   * file change (volume/block-lock.ts): one that lost it stops there.
   */
  private async withBlock<T>(volume: string, block: string, fn: (store: BlockStore) => Promise<T>): Promise<T> {
    validateBlockName(block);
    const store = await this.store(volume);
    const held = await this.lock(store, block);
    const stillHeld = async (): Promise<void> => {
      try {
        await held.check();
      } catch (err) {
        if (err instanceof LockLostError) throw new BlockLockLostError(store.volume, block, err.reason);
        throw err;
      }
    };
    try {
      return await fn(store.fenced(stillHeld));
    } finally {
      await held.release();
    }
  }

  private async step(name: string): Promise<void> {
    if (this.opts.faults) await this.opts.faults.afterStep(name);
  }

  /** Appends journal lines; a step only when something was written. */
  private async append(store: BlockStore, block: string, lines: string, step: string): Promise<void> {
    await store.append(block, lines);
    if (lines !== "") await this.step(step);
  }

  // --- create ---------------------------------------------------------------

  async create(req: CreateRequest): Promise<CreateOutcome> {
    const hosts = this.validateCreate(req);
    // reachability and pool membership first: nothing is written before we know the hosts can serve
    const chosen = hosts.slice(0, req.ha);
    await this.checkInPool(chosen);
    const statuses = await Promise.allSettled(chosen.map((h) => this.opts.peers.ping(h, PING_TIMEOUT_MS)));
    const down = chosen.filter((_h, i) => statuses[i]?.status === "rejected");
    if (down.length > 0) throw new HostUnreachableError(down, "gluster-blockd does not answer there");

    return this.withBlock(req.volume, req.block, async (store) => {
      let meta = await store.readMeta(req.block);
      if (meta && isDeleteStarted(meta)) {
        // a delete was cut short: finish it, then create anew
        await this.deleteLocked(store, meta, { unlinkStorage: true, force: false });
        meta = undefined;
      }
      // A rollback undoes only what this call made: the block's journal and
      // file are ours to remove only when this call wrote its create intent.
      let createdHere = false;
      if (meta) {
        this.checkSameBlock(meta, req, chosen);
        if (isComplete(meta)) {
          // made before, completely: answered as it is. Nothing is re-applied
          // (drifted LIO is the reconcile's and the audit's), so a host that
          // is down now cannot turn a retried create into a rollback.
          if (req.failIfExists) throw new BlockExistsError(meta.volume, meta.name);
          return this.createOutcome(meta, true);
        }
        if (meta.entryCreate !== "SUCCESS") meta = await this.finishBlockEntry(store, req, meta.gbid);
      } else {
        const loads = statuses.map((s, i) => ({ host: chosen[i] ?? "", paths: s.status === "fulfilled" ? s.value.activePaths : Number.MAX_SAFE_INTEGER }));
        const prioPath = loads.reduce((a, b) => (b.paths < a.paths ? b : a)).host;
        meta = await this.writeNewBlock(store, req, chosen, prioPath);
        createdHere = true;
      }
      const { failedOn, successfulOn } = await this.configureHosts(store, meta, "create");
      if (failedOn.length > 0) {
        if (!createdHere) {
          throw new PartialFailureError(
            `failed to configure block ${req.volume}/${req.block} on ${failedOn.join(", ")}; it was begun by an earlier create and is left as it is (a retry finishes it, a delete removes it)`,
            failedOn,
            successfulOn,
          );
        }
        const after = (await store.readMeta(req.block)) ?? meta;
        await this.deleteLocked(store, after, { unlinkStorage: req.storage === undefined, force: true }).catch((err: unknown) =>
          this.log.error("rollback of a failed create failed", { block: req.block, error: String(err) }),
        );
        throw new PartialFailureError(
          `failed to configure block ${req.volume}/${req.block} on ${failedOn.join(", ")}; the create was rolled back`,
          failedOn,
          [],
        );
      }
      const final = (await store.readMeta(req.block)) ?? meta;
      return this.createOutcome(final, false);
    });
  }

  private validateCreate(req: CreateRequest): string[] {
    validateVolumeName(req.volume);
    validateBlockName(req.block);
    const hosts = req.hosts.map((h) => {
      validateHostAddress(h);
      return canonicalHost(h);
    });
    if (hosts.length === 0) throw new InvalidRequestError("at least one host is required");
    if (new Set(hosts).size !== hosts.length) throw new InvalidRequestError(`duplicate host in ${req.hosts.join(",")}`);
    if (!inRange(req.ha, HA_COUNT)) throw new InvalidRequestError(`ha must be ${HA_COUNT.min}..${HA_COUNT.max}, got ${req.ha}`);
    if (req.ha > hosts.length) throw new InvalidRequestError(`ha count ${req.ha} is greater than the number of hosts given (${hosts.length})`);
    if (req.storage === undefined) {
      if (req.sizeBytes === undefined) throw new InvalidRequestError("a size is required");
      checkDeviceSize(req.sizeBytes, req.blockSize || 512);
    }
    if (req.ringBufferMb !== undefined && !inRange(req.ringBufferMb, RING_BUFFER_MB))
      throw new InvalidRequestError(`ring-buffer must be ${RING_BUFFER_MB.min}..${RING_BUFFER_MB.max} MB, got ${req.ringBufferMb}`);
    if (req.blockSize !== undefined && !BLOCK_SIZES.includes(req.blockSize))
      throw new InvalidRequestError(`block-size must be one of ${BLOCK_SIZES.join(", ")}, got ${req.blockSize}`);
    if (req.ioTimeout !== undefined && !inRange(req.ioTimeout, IO_TIMEOUT_SEC))
      throw new InvalidRequestError(`io-timeout must be ${IO_TIMEOUT_SEC.min}..${IO_TIMEOUT_SEC.max} s, got ${req.ioTimeout}`);
    return hosts;
  }

  private async checkInPool(hosts: string[]): Promise<void> {
    const pool = await this.opts.gluster.poolList();
    const known = new Set<string>([this.host]);
    const names = pool.flatMap((p) => p.hostnames).filter((n) => n !== "localhost");
    for (const n of names) known.add(canonicalHost(n));
    let missing = hosts.filter((h) => !known.has(h));
    if (missing.length > 0) {
      // a peer known here by its hostname (the node that probed the pool is): compare its addresses
      for (const a of await resolvePeerNames(names)) known.add(canonicalHost(a));
      missing = hosts.filter((h) => !known.has(h));
    }
    if (missing.length > 0)
      throw new PreconditionError(`host${missing.length > 1 ? "s" : ""} ${missing.join(", ")} not in the trusted storage pool of this node`);
  }

  /** A retried create must ask for the same block; anything else is a name conflict. */
  private checkSameBlock(meta: BlockMeta, req: CreateRequest, chosen: string[]): void {
    const ext = readExtensions(meta);
    const diffs: string[] = [];
    if (req.sizeBytes !== undefined && meta.sizeBytes !== 0n && meta.sizeBytes !== req.sizeBytes)
      diffs.push(`size ${formatSize(meta.sizeBytes)} != ${formatSize(req.sizeBytes)}`);
    if (meta.ha !== req.ha) diffs.push(`ha ${meta.ha} != ${req.ha}`);
    // the password is written with ENTRYCREATE: SUCCESS; a create cut short before has none yet
    if (meta.entryCreate === "SUCCESS" && (meta.password !== "") !== req.auth) diffs.push(`auth ${meta.password !== "" ? "enabled" : "disabled"}`);
    const hosts = haHosts(meta, ext);
    if (ext.hosts && hosts.join(" ") !== chosen.join(" ")) diffs.push(`hosts ${hosts.join(",")}`);
    if (ext.aclMode !== req.aclMode) diffs.push(`acl mode ${ext.aclMode}`);
    if (diffs.length > 0) throw new BlockExistsError(meta.volume, meta.name, `with other parameters (${diffs.join("; ")})`);
  }

  private async writeNewBlock(store: BlockStore, req: CreateRequest, hosts: string[], prioPath: string): Promise<BlockMeta> {
    // A fresh random GBID per create (as the original's uuid_generate): a block
    // deleted and created again under the same name gets a new IQN and WWID, so
    // an initiator still holding the old session never sees the new disk as the
    // old one. A retry of this create finds it in the journal's GBID line, which
    // is written before the backing file is made.
    const gbid = randomUUID();
    const prealloc = req.storage === undefined && req.prealloc;
    if (req.storage === undefined) {
      const need = (req.sizeBytes ?? 0n) + (this.opts.reserveBytes ?? DEFAULT_RESERVE_BYTES);
      const space = await store.space();
      if (space.freeBytes < need) {
        throw new NoSpaceError(`not enough space on volume ${req.volume}: ${formatSize(space.freeBytes)} free, ${formatSize(need)} needed`);
      }
    }
    await this.append(
      store,
      req.block,
      createIntentLines({ volume: req.volume, gbid, ha: req.ha, prioPath }) +
        extLine("HOSTS", hosts.join(" ")) +
        extLine("ACLMODE", req.aclMode) +
        extLine("PREALLOC", prealloc ? "FULL" : "NO") +
        (req.owner ? extLine("OWNER", req.owner) : ""),
      "journal:create-intent",
    );
    return this.finishBlockEntry(store, req, gbid);
  }

  /**
   * The backing file and the journal's second append. Idempotent, so a create
   * cut short anywhere before ENTRYCREATE: SUCCESS is finished by its retry.
   */
  private async finishBlockEntry(store: BlockStore, req: CreateRequest, gbid: string): Promise<BlockMeta> {
    let size = req.sizeBytes ?? 0n;
    if (req.storage !== undefined) size = await store.adoptBackingFile(gbid, req.storage);
    else await store.createBackingFile(gbid, size, req.prealloc);
    await this.step("file:created");
    const password = req.auth ? randomUUID() : "";
    addCallSecrets(password);
    await this.append(
      store,
      req.block,
      createDoneLines({ sizeBytes: size, ringBufferMb: req.ringBufferMb ?? 0, blockSize: req.blockSize ?? 0, ioTimeout: req.ioTimeout ?? 0 }) +
        (req.auth ? passwordLine(password) : ""),
      "journal:create-done",
    );
    const meta = await store.readMeta(req.block);
    if (!meta) throw new Error(`journal of ${req.volume}/${req.block} vanished during create`);
    return meta;
  }

  private createOutcome(meta: BlockMeta, alreadyExisted: boolean): CreateOutcome {
    const hosts = exportedOn(meta);
    const ext = readExtensions(meta);
    const ordered = haHosts(meta, ext).filter((h) => hosts.includes(h));
    if (meta.password) addCallSecrets(meta.password);
    return {
      iqn: iqnFor(meta.gbid),
      gbid: meta.gbid,
      wwid: wwidFor(meta.gbid),
      portals: ordered.map((h) => portalOf(h, this.iscsiPort)),
      ...(meta.password ? { username: meta.gbid, password: meta.password } : {}),
      sizeBytes: meta.sizeBytes,
      alreadyExisted,
    };
  }

  /**
   * Makes every HA host's target match the journal, journaling each host's
   * progress with the status pair the operation uses. Hosts already done for
   * this operation are converged again (cheap, and it heals drift).
   */
  private async configureHosts(
    store: BlockStore,
    meta: BlockMeta,
    op: "create" | "auth-on" | "auth-off" | "resize" | "access",
    onlyHosts?: string[],
  ): Promise<HostsOutcome> {
    const ext = readExtensions(meta);
    const hosts = onlyHosts ?? (op === "create" ? haHosts(meta, ext) : exportedOn(meta));
    const ref: PeerRef = { volume: meta.volume, block: meta.name, gbid: meta.gbid };
    const [start, ok, fail]: [HostStatus | undefined, HostStatus[], HostStatus | undefined] =
      op === "create"
        ? ["CONFIGINPROGRESS", meta.password ? ["CONFIGSUCCESS", "AUTHENFORCED"] : ["CONFIGSUCCESS"], "CONFIGFAIL"]
        : op === "auth-on"
          ? ["AUTHENFORCEING", ["AUTHENFORCED"], "AUTHENFORCEFAIL"]
          : op === "auth-off"
            ? ["AUTHCLEARENFORCEING", ["AUTHCLEARENFORCED"], "AUTHCLEARENFORCEFAIL"]
            : op === "resize"
              ? ["RSINPROGRESS", ["RSSUCCESS"], "RSFAIL"]
              : [undefined, [], undefined];
    const size = op === "resize" ? meta.sizeBytes : undefined;
    const current = new Map(meta.hosts.map((h) => [h.host, h.status]));
    // create: hosts already CONFIGSUCCESS are only re-applied, not journaled again
    const fresh =
      op === "create"
        ? hosts.filter((h) => current.get(h) !== "CONFIGSUCCESS" && !current.get(h)?.startsWith("AUTH") && !current.get(h)?.startsWith("RS"))
        : hosts;
    if (start) await this.append(store, meta.name, fresh.map((h) => hostLine(h, start, size)).join(""), `journal:${op}-begin`);
    const results = await Promise.all(
      hosts.map(async (h): Promise<[string, TargetResult | Error]> => {
        let r: TargetResult | Error;
        try {
          r = await this.opts.peers.apply(h, ref);
        } catch (err) {
          r = err instanceof Error ? err : new Error(String(err));
        }
        await this.step(`lio-apply:${h}`);
        return [h, r];
      }),
    );
    const successfulOn: string[] = [];
    const failedOn: string[] = [];
    let lines = "";
    for (const [h, r] of results) {
      const good = !(r instanceof Error) && r.present && r.matches;
      if (good) successfulOn.push(h);
      else {
        failedOn.push(h);
        this.log.warn("target configuration failed", { host: h, block: meta.name, op, error: r instanceof Error ? r.message : r.detail });
      }
      if (!fresh.includes(h) && good) continue;
      if (good) lines += ok.map((s) => hostLine(h, s, size)).join("");
      else if (fail) lines += hostLine(h, fail, size);
    }
    await this.append(store, meta.name, lines, `journal:${op}-result`);
    return { successfulOn, failedOn };
  }

  // --- delete ---------------------------------------------------------------

  async delete(req: {
    volume: string;
    block: string;
    unlinkStorage: boolean;
    force: boolean;
    missingOk: boolean;
  }): Promise<HostsOutcome & { notFound: boolean }> {
    return this.withBlock(req.volume, req.block, async (store) => {
      const meta = await store.readMeta(req.block);
      if (!meta) {
        // a journal removed by another hand (the original's delete) leaves our ACL proof: it proves nothing, but goes too
        await store.removeAclProof(req.block);
        if (req.missingOk) return { successfulOn: [], failedOn: [], notFound: true };
        throw new BlockNotFoundError(req.volume, req.block);
      }
      return { ...(await this.deleteLocked(store, meta, req)), notFound: false };
    });
  }

  private async deleteLocked(store: BlockStore, meta: BlockMeta, req: { unlinkStorage: boolean; force: boolean }): Promise<HostsOutcome> {
    const ext = readExtensions(meta);
    // every host that may hold LIO objects: those the journal says, and the HA list (a create cut short)
    const targets = [...new Set([...deleteTargets(meta), ...haHosts(meta, ext).filter((h) => meta.hosts.some((s) => s.host === h))])];
    const ref: PeerRef = { volume: meta.volume, block: meta.name, gbid: meta.gbid };
    await this.append(store, meta.name, targets.map((h) => hostLine(h, "CLEANUPINPROGRESS")).join(""), "journal:cleanup-begin");
    const results = await Promise.all(
      targets.map(async (h) => {
        let ok = true;
        try {
          await this.opts.peers.remove(h, ref);
        } catch (err) {
          this.log.warn("target removal failed", { host: h, block: meta.name, error: err instanceof Error ? err.message : String(err) });
          ok = false;
        }
        await this.step(`lio-remove:${h}`);
        return [h, ok] as const;
      }),
    );
    const successfulOn = results.filter(([, ok]) => ok).map(([h]) => h);
    const failedOn = results.filter(([, ok]) => !ok).map(([h]) => h);
    await this.append(store, meta.name, results.map(([h, ok]) => hostLine(h, ok ? "CLEANUPSUCCESS" : "CLEANUPFAIL")).join(""), "journal:cleanup-result");
    if (failedOn.length > 0 && !req.force) {
      throw new PartialFailureError(
        `failed to delete block ${meta.volume}/${meta.name} on ${failedOn.join(", ")}; retry, or delete with force`,
        failedOn,
        successfulOn,
      );
    }
    await this.append(store, meta.name, entryDeleteLine("INPROGRESS"), "journal:delete-begin");
    if (req.unlinkStorage) {
      await store.unlinkBackingFile(meta.gbid);
      await this.step("file:unlinked");
    }
    await this.append(store, meta.name, entryDeleteLine("SUCCESS"), "journal:delete-done");
    await store.removeMeta(meta.name);
    await this.step("journal:removed");
    return { successfulOn, failedOn };
  }

  // --- modify ---------------------------------------------------------------

  async modifyAuth(req: { volume: string; block: string; enable: boolean }): Promise<HostsOutcome & { iqn: string; username?: string; password?: string }> {
    return this.withBlock(req.volume, req.block, async (store) => {
      const meta = await this.existing(store, req.block);
      const password = req.enable ? randomUUID() : "";
      addCallSecrets(password);
      await this.append(store, req.block, passwordLine(password), "journal:password");
      const after = await this.existing(store, req.block);
      const r = await this.configureHosts(store, after, req.enable ? "auth-on" : "auth-off");
      if (r.failedOn.length > 0)
        throw new PartialFailureError(
          `auth ${req.enable ? "enable" : "disable"} failed on ${r.failedOn.join(", ")}; retry to converge`,
          r.failedOn,
          r.successfulOn,
        );
      return { ...r, iqn: iqnFor(meta.gbid), ...(req.enable ? { username: meta.gbid, password } : {}) };
    });
  }

  async resize(req: { volume: string; block: string; sizeBytes: bigint; force: boolean }): Promise<HostsOutcome & { iqn: string; sizeBytes: bigint }> {
    return this.withBlock(req.volume, req.block, async (store) => {
      const meta = await this.existing(store, req.block);
      const bs = meta.blockSize || 512;
      const size = req.sizeBytes;
      checkDeviceSize(size, bs);
      if (size < meta.sizeBytes && !req.force) {
        throw new InvalidRequestError(
          `shrinking block ${req.volume}/${req.block} from ${formatSize(meta.sizeBytes)} to ${formatSize(size)} can lose data; use force`,
        );
      }
      // a resize cut short after its SIZE line: the hosts still have the old size
      const pending = meta.hosts.some((h) => h.status === "RSINPROGRESS" || h.status === "RSFAIL") || hostsBehindSize(meta).length > 0;
      if (size === meta.sizeBytes && !pending) return { successfulOn: exportedOn(meta), failedOn: [], iqn: iqnFor(meta.gbid), sizeBytes: size };
      if (size > meta.sizeBytes) {
        const space = await store.space();
        const need = size - meta.sizeBytes + (this.opts.reserveBytes ?? DEFAULT_RESERVE_BYTES);
        if (space.freeBytes < need) throw new NoSpaceError(`not enough space on volume ${req.volume} to grow ${req.block} to ${formatSize(size)}`);
      }
      const ext = readExtensions(meta);
      await store.resizeBackingFile(meta.gbid, size, ext.prealloc ?? false);
      await this.step("file:resized");
      if (size !== meta.sizeBytes) await this.append(store, req.block, keyLine("SIZE", size), "journal:size");
      const after = await this.existing(store, req.block);
      const r = await this.configureHosts(store, after, "resize");
      if (r.failedOn.length > 0) throw new PartialFailureError(`resize failed on ${r.failedOn.join(", ")}; retry to converge`, r.failedOn, r.successfulOn);
      return { ...r, iqn: iqnFor(meta.gbid), sizeBytes: size };
    });
  }

  /**
   * ControllerPublish/Unpublish: allow or revoke one initiator on every HA
   * target; `readOnly` (with allow) maps its LUN write protected. An initiator
   * already allowed takes the mode asked for: whether a change of mode is
   * acceptable is the caller's rule (CSI's, in the controller).
   */
  async setInitiatorAccess(req: { volume: string; block: string; initiator: string; allow: boolean; readOnly?: boolean }): Promise<HostsOutcome> {
    if (!isInitiatorName(req.initiator)) {
      throw new InvalidRequestError(`${JSON.stringify(req.initiator)} is not an iSCSI initiator name (iqn., eui. or naa.)`);
    }
    return this.withBlock(req.volume, req.block, async (store) => {
      const meta = await this.existing(store, req.block);
      const ext = readExtensions(meta);
      if (ext.aclMode !== "EXPLICIT") {
        // generated ACLs admit any initiator that knows the CHAP secret: there is nothing to add or revoke
        return { successfulOn: exportedOn(meta), failedOn: [] };
      }
      const rw = new Set(ext.initiators);
      const ro = new Set(ext.readOnlyInitiators);
      rw.delete(req.initiator);
      ro.delete(req.initiator);
      if (req.allow) (req.readOnly ? ro : rw).add(req.initiator);
      const same = (a: Set<string>, b: readonly string[]): boolean => a.size === b.length && b.every((i) => a.has(i));
      const rwChanged = !same(rw, ext.initiators);
      const roChanged = !same(ro, ext.readOnlyInitiators);
      // one append: both lists change together (a move between them must never leave the initiator in neither, nor in both)
      if (rwChanged || roChanged)
        await this.append(
          store,
          req.block,
          (rwChanged ? extLine("INITIATORS", [...rw].join(" ")) : "") + (roChanged ? extLine("ROINITIATORS", [...ro].join(" ")) : ""),
          "journal:initiators",
        );
      const after = await this.existing(store, req.block);
      const r = await this.configureHosts(store, after, "access");
      if (r.failedOn.length > 0)
        throw new PartialFailureError(`initiator access change failed on ${r.failedOn.join(", ")}; retry to converge`, r.failedOn, r.successfulOn);
      await this.recordAclSync(store, after, r);
      return r;
    });
  }

  /**
   * After an "access" configureHosts from `meta` (which appends nothing):
   * when every exporting host converged, the ACL proof (acl-sync.ts) names
   * that journal, unless the proof already does (a repeated call writes
   * nothing). A host that failed leaves the proof as it was: it names an
   * older journal than the intent this call appended, so the next unpublish
   * takes the full path.
   */
  private async recordAclSync(store: BlockStore, meta: BlockMeta, r: HostsOutcome): Promise<void> {
    if (r.failedOn.length > 0 || readExtensions(meta).aclMode !== "EXPLICIT") return;
    await this.step("access:converged");
    if (await this.aclProven(store, meta)) return;
    await store.writeAclProof(meta.name, aclProofFor(meta, r.successfulOn));
    await this.step("acl-proof:written");
  }

  /** The ACL proof of `meta`'s block holds (acl-sync.ts); a proof that cannot be read proves nothing. */
  private async aclProven(store: BlockStore, meta: BlockMeta): Promise<boolean> {
    if (readExtensions(meta).aclMode !== "EXPLICIT") return false;
    try {
      return aclSynced(meta, await store.readAclProof(meta.name));
    } catch (err) {
      this.log.warn("the ACL proof cannot be read; it proves nothing", { block: meta.name, error: err instanceof Error ? err.message : String(err) });
      return false;
    }
  }

  /**
   * The original's `replace`: the block's target moves from oldNode to
   * newNode. The journal's HA list changes first; then the new node converges
   * (CONFIG*), the old node's objects are removed (CLEANUP*), and the other HA
   * nodes converge their portal lists (RP*). A retry finishes what is left.
   */
  async replace(req: { volume: string; block: string; oldNode: string; newNode: string; force: boolean }): Promise<ReplaceOutcome> {
    validateHostAddress(req.oldNode);
    validateHostAddress(req.newNode);
    const oldNode = canonicalHost(req.oldNode);
    const newNode = canonicalHost(req.newNode);
    if (oldNode === newNode) throw new InvalidRequestError("the old and the new node are the same");
    return this.withBlock(req.volume, req.block, async (store) => {
      const meta = await this.existing(store, req.block);
      const hosts = haHosts(meta, readExtensions(meta));
      const ref: PeerRef = { volume: meta.volume, block: meta.name, gbid: meta.gbid };
      if (!hosts.includes(oldNode)) {
        if (hosts.includes(newNode)) return { outcome: "skipped" };
        throw new InvalidRequestError(`${oldNode} is not an HA host of block ${req.volume}/${req.block} (hosts: ${hosts.join(", ")})`);
      }
      if (hosts.includes(newNode)) return { outcome: "new-node-in-use" };
      await this.checkInPool([newNode]);
      await this.opts.peers.ping(newNode, PING_TIMEOUT_MS).catch((err: unknown) => {
        throw new HostUnreachableError([newNode], err instanceof Error ? err.message : String(err));
      });
      const newHosts = hosts.map((h) => (h === oldNode ? newNode : h));
      const others = newHosts.filter((h) => h !== newNode && exportedOn(meta).includes(h));
      await store.append(
        req.block,
        extLine("HOSTS", newHosts.join(" ")) +
          (meta.prioPath === oldNode ? keyLine("PRIOPATH", newNode) : "") +
          hostLine(newNode, "CONFIGINPROGRESS") +
          others.map((h) => hostLine(h, "RPINPROGRESS")).join(""),
      );
      const attempt = async (fn: () => Promise<unknown>): Promise<boolean> =>
        fn().then(
          () => true,
          (err: unknown) => {
            this.log.warn("replace step failed", { block: req.block, error: err instanceof Error ? err.message : String(err) });
            return false;
          },
        );
      const created = await attempt(() => this.opts.peers.apply(newNode, ref));
      if (!created) {
        // back to the old HA list: the new node never served
        await store.append(
          req.block,
          hostLine(newNode, "CONFIGFAIL") + extLine("HOSTS", hosts.join(" ")) + (meta.prioPath === oldNode ? keyLine("PRIOPATH", oldNode) : ""),
        );
        await attempt(() => this.opts.peers.remove(newNode, ref));
        return { outcome: "done", created: false, deleted: false, portalSuccessOn: [], portalFailedOn: [], force: req.force };
      }
      await store.append(
        req.block,
        hostLine(newNode, "CONFIGSUCCESS") + (meta.password ? hostLine(newNode, "AUTHENFORCED") : "") + hostLine(oldNode, "CLEANUPINPROGRESS"),
      );
      const deleted = await attempt(() => this.opts.peers.remove(oldNode, ref));
      await store.append(req.block, hostLine(oldNode, deleted ? "CLEANUPSUCCESS" : "CLEANUPFAIL"));
      const portal = await Promise.all(others.map(async (h) => [h, await attempt(() => this.opts.peers.apply(h, ref))] as const));
      await store.append(req.block, portal.map(([h, ok]) => hostLine(h, ok ? "RPSUCCESS" : "RPFAIL")).join(""));
      return {
        outcome: "done",
        created,
        deleted,
        portalSuccessOn: portal.filter(([, ok]) => ok).map(([h]) => h),
        portalFailedOn: portal.filter(([, ok]) => !ok).map(([h]) => h),
        force: req.force,
      };
    });
  }

  /**
   * Adoption of a block made by the original (generated ACLs) as
   * per-initiator ACL fencing, keeping its identity and credentials; the
   * rules and refusals are adopt-plan.ts's. The steps, each durable before
   * the next, so a retry from any point converges: (1) the survey: every HA
   * host answers, and its LIO says the TPG order and who is logged in; (2)
   * one journal append: HOSTS, INITIATORS, ACLMODE EXPLICIT (the intent);
   * (3) every host converges to it; (4) a second survey: a login between the
   * first and the switch is still live and is let in too (one round is
   * enough: once switched, no host admits a new initiator); (5) the ACL
   * proof. A retry finds an EXPLICIT block without a proof and does 1 and 3-5
   * again; with the proof it answers "already-adopted" and changes nothing.
   */
  async adopt(req: AdoptRequest): Promise<AdoptOutcome> {
    const bad = req.initiators.filter((i) => !isInitiatorName(i));
    if (bad.length > 0) throw new InvalidRequestError(`${bad.map((i) => JSON.stringify(i)).join(", ")}: not an iSCSI initiator name (iqn., eui. or naa.)`);
    return this.withBlock(req.volume, req.block, async (store) => {
      const meta = await store.readMeta(req.block);
      if (!meta || meta.entryCreate === undefined) throw new BlockNotFoundError(req.volume, req.block);
      checkJournalAdoptable(meta);
      const ext = readExtensions(meta);
      const ref: PeerRef = { volume: meta.volume, block: meta.name, gbid: meta.gbid };
      type Extra = Pick<AdoptOutcome, "sessions" | "changes"> & HostsOutcome & { hosts?: string[]; initiators?: string[] };
      const answer = (outcome: AdoptOutcome["outcome"], m: BlockMeta, extra: Extra): AdoptOutcome => {
        const e = readExtensions(m);
        const hosts = extra.hosts ?? haHosts(m, e);
        return {
          outcome,
          gbid: m.gbid,
          iqn: iqnFor(m.gbid),
          wwid: wwidFor(m.gbid),
          sizeBytes: m.sizeBytes,
          portals: hosts.map((h) => portalOf(h, this.iscsiPort)),
          auth: m.password !== "",
          ...extra,
          hosts,
          initiators: extra.initiators ?? e.initiators,
        };
      };
      if (ext.aclMode === "EXPLICIT" && (await this.aclProven(store, meta))) {
        const outside = req.initiators.filter((i) => !ext.initiators.includes(i) && !ext.readOnlyInitiators.includes(i));
        if (outside.length > 0)
          throw new PreconditionError(
            `block ${req.volume}/${req.block} is adopted already, and ${outside.join(", ")} is not let in: that is ControllerPublish's to decide; nothing was changed`,
          );
        return answer("already-adopted", meta, { sessions: [], changes: [], successfulOn: exportedOn(meta), failedOn: [] });
      }
      const hosts = haHosts(meta, ext);
      const survey = (): Promise<TargetInspection[]> => this.survey(hosts, ref);
      const plan = adoptPlan(meta, await survey(), req.initiators, this.iscsiPort);
      if (req.dryRun)
        return answer("dry-run", meta, {
          sessions: plan.sessions,
          changes: plan.changes,
          successfulOn: [],
          failedOn: [],
          hosts: plan.hosts,
          initiators: plan.initiators,
        });
      await this.append(store, req.block, plan.lines, "journal:adopt-intent");
      let current = await this.existing(store, req.block);
      let r = await this.convergeAdopted(store, current);
      const late = lateSessions(current, await survey());
      const changes = [...plan.changes];
      if (late.length > 0) {
        const e = readExtensions(current);
        await this.append(store, req.block, extLine("INITIATORS", [...e.initiators, ...late].join(" ")), "journal:adopt-late");
        for (const i of late) changes.push(`journal: INITIATORS + ${i} (logged in during the adoption)`);
        current = await this.existing(store, req.block);
        r = await this.convergeAdopted(store, current);
      }
      await this.recordAclSync(store, current, r);
      return answer("adopted", current, { sessions: plan.sessions, changes, ...r });
    });
  }

  /** Every host answers (else nothing is changed), and its LIO says what it holds of the block. */
  private async survey(hosts: readonly string[], ref: PeerRef): Promise<TargetInspection[]> {
    const pings = await Promise.allSettled(hosts.map((h) => this.opts.peers.ping(h, PING_TIMEOUT_MS)));
    const down = hosts.filter((_h, i) => pings[i]?.status === "rejected");
    if (down.length > 0) throw new HostUnreachableError(down, "gluster-blockd does not answer there; nothing was changed");
    const read = await Promise.allSettled(hosts.map((h) => this.opts.peers.inspect(h, ref)));
    const failed = hosts.flatMap((h, i) => {
      const x = read[i];
      return x?.status === "rejected" ? [`${h}: ${x.reason instanceof Error ? x.reason.message : String(x.reason)}`] : [];
    });
    if (failed.length > 0)
      throw new HostUnreachableError(
        hosts.filter((_h, i) => read[i]?.status === "rejected"),
        `its LIO could not be read (${failed.join("; ")})`,
      );
    return read.flatMap((x) => (x.status === "fulfilled" ? [x.value] : []));
  }

  private async convergeAdopted(store: BlockStore, meta: BlockMeta): Promise<HostsOutcome> {
    const r = await this.configureHosts(store, meta, "access");
    if (r.failedOn.length > 0)
      throw new PartialFailureError(
        `adoption of ${meta.volume}/${meta.name} did not converge on ${r.failedOn.join(", ")}; the journal holds it, so adopt again (or reload) to finish`,
        r.failedOn,
        r.successfulOn,
      );
    return r;
  }

  /** The original's `reload`: converge every HA host's target to the journal. */
  async reload(req: { volume: string; block: string }): Promise<HostsOutcome> {
    return this.withBlock(req.volume, req.block, async (store) => {
      const meta = await this.existing(store, req.block);
      const r = await this.configureHosts(store, meta, "access");
      await this.recordAclSync(store, meta, r);
      return r;
    });
  }

  private async existing(store: BlockStore, block: string): Promise<BlockMeta> {
    const meta = await store.readMeta(block);
    if (!meta || isDeleteStarted(meta) || meta.entryCreate !== "SUCCESS") throw new BlockNotFoundError(store.volume, block);
    return meta;
  }

  // --- queries --------------------------------------------------------------

  async list(volume: string): Promise<string[]> {
    return (await this.store(volume)).listNames();
  }

  async details(volume: string, block: string): Promise<BlockDetails> {
    validateBlockName(block);
    const store = await this.store(volume);
    const meta = await store.readMeta(block);
    if (!meta || meta.entryCreate === undefined) throw new BlockNotFoundError(volume, block);
    return this.detailsOf(meta, await this.aclProven(store, meta));
  }

  /** `aclProven`: whether the block's ACL proof holds (details() reads it; listDetails() does not, and says false). */
  private detailsOf(meta: BlockMeta, aclProven: boolean): BlockDetails {
    const ext = readExtensions(meta);
    if (meta.password) addCallSecrets(meta.password);
    return {
      meta,
      info: toBlockSummary(meta),
      hosts: haHosts(meta, ext),
      aclMode: ext.aclMode,
      initiators: [...ext.initiators, ...ext.readOnlyInitiators],
      readOnlyInitiators: ext.readOnlyInitiators,
      owner: ext.owner,
      aclSynced: aclProven,
    };
  }

  /**
   * details() of every block of the volume from one listing, the journals
   * read a few at a time (audit-journals.ts). A journal that cannot be read or
   * trusted is reported in `unreadable` and the others still answer; a block
   * details() would not answer (create not begun, gone since the listing) is
   * in `names` only.
   */
  async listDetails(volume: string): Promise<{ names: string[]; details: BlockDetails[]; unreadable: { name: string; error: string }[] }> {
    const journals = await readJournals(await this.store(volume));
    const details: BlockDetails[] = [];
    const unreadable: { name: string; error: string }[] = [];
    for (const name of journals.names) {
      const bad = journals.unreadable.get(name);
      const meta = journals.metas.get(name);
      if (bad) unreadable.push({ name, error: bad.error });
      else if (meta && meta.entryCreate !== undefined) details.push(this.detailsOf(meta, false));
    }
    return { names: journals.names, details, unreadable };
  }

  async space(volume: string): Promise<{ totalBytes: bigint; freeBytes: bigint; reserveBytes: bigint }> {
    const s = await (await this.store(volume)).space();
    return { ...s, reserveBytes: this.opts.reserveBytes ?? DEFAULT_RESERVE_BYTES };
  }

  /**
   * targetStatus() of many blocks of one volume: the journals read a few at
   * a time, each HA host asked once for all of its blocks (every host at
   * once). A block that cannot be judged (none of that name, its journal
   * unreadable) answers why; the others still answer.
   */
  async targetStatuses(volume: string, blocks: readonly string[]): Promise<BlockTargetStatuses[]> {
    if (blocks.length > MAX_STATUS_BLOCKS) throw new InvalidRequestError(`at most ${MAX_STATUS_BLOCKS} blocks a call, not ${blocks.length}`);
    const store = await this.store(volume);
    const read = await mapLimit(blocks, JOURNAL_READS, async (block): Promise<{ block: string; meta?: BlockMeta; error?: string }> => {
      try {
        validateBlockName(block);
        const meta = await store.readMeta(block);
        if (!meta || meta.entryCreate === undefined) return { block, error: `block ${volume}/${block} doesn't exist` };
        return { block, meta };
      } catch (err) {
        return { block, error: err instanceof Error ? err.message : String(err) };
      }
    });
    const metas = read.flatMap((r) => (r.meta ? [r.meta] : []));
    const hostsOf = (m: BlockMeta): string[] => haHosts(m, readExtensions(m));
    const statuses = await TargetStatuses.of(this.opts.peers, volume, metas, hostsOf);
    return read.map((r) =>
      r.meta ? { block: r.block, hosts: hostsOf(r.meta).map((h) => statuses.get(r.block, h)) } : { block: r.block, error: r.error ?? "" },
    );
  }

  /** What each HA host's LIO holds for the block right now. */
  async targetStatus(volume: string, block: string): Promise<TargetResult[]> {
    const d = await this.details(volume, block);
    const ref: PeerRef = { volume, block, gbid: d.meta.gbid };
    return Promise.all(
      d.hosts.map((h) =>
        this.opts.peers
          .status(h, ref)
          .catch((err: unknown) => ({ host: h, present: false, matches: false, detail: `unreachable: ${err instanceof Error ? err.message : String(err)}` })),
      ),
    );
  }
}
