// A fake gluster-blockd cluster for controller tests: one real gRPC server
// per storage node (the Blockd service through wrapService, with the shared
// key checked), all sharing one in-memory model of the hosting volumes. It
// records every call and every call whose caller cancelled it, can inject
// errors, and can stop a node.
import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { GrpcServer } from "../../src/rpc/server.js";
import { blockdProto } from "../../src/rpc/proto.js";
import { wrapService, type AsyncHandlers, type RpcContext } from "../../src/rpc/rpc.js";
import { StatusError, unauthenticated } from "../../src/rpc/errors.js";
import { nullLogger } from "../../src/util/log.js";
import { keyMatches, KEY_HEADER } from "../../src/rpc/peer-auth.js";
import { iqnFor, wwidFor } from "../../src/identity/names.js";
import type { BlockdHandlers } from "../../src/generated/glusterblock/v1/Blockd.js";
import type { BlockInfo } from "../../src/generated/glusterblock/v1/BlockInfo.js";
import type { AuditFinding } from "../../src/generated/glusterblock/v1/AuditFinding.js";

export interface FakeBlock {
  volume: string;
  block: string;
  gbid: string;
  sizeBytes: bigint;
  ha: number;
  hosts: string[];
  exportedOn: string[];
  auth: boolean;
  password: string;
  aclMode: "ACL_MODE_EXPLICIT" | "ACL_MODE_GENERATED";
  /** every initiator let in */
  initiators: string[];
  /** those of `initiators` let in read-only */
  readOnlyInitiators: string[];
  owner: string;
  prealloc: string;
  ringBufferMb: number;
  blockSize: number;
  ioTimeoutS: number;
  state: string;
  /** host -> the initiators its LIO lets in (what the HA hosts converge to; apart from the journal's `initiators`) */
  lioAcls: Map<string, string[]>;
  /** blockd's ACL proof holds: every exporting host converged to the lists since their last change (engine/acl-sync.ts) */
  aclSynced: boolean;
}

export interface FakeVolume {
  totalBytes: bigint;
  freeBytes: bigint;
  blocks: Map<string, FakeBlock>;
}

export interface RecordedCall {
  host: string;
  method: string;
  request: Record<string, unknown>;
}

interface FakeNode {
  host: string;
  endpoint: string;
  server: GrpcServer | undefined;
  activePaths: number;
  targets: number;
  ready: boolean;
}

const MiB = 1024n * 1024n;
const fail = (code: status, msg: string): StatusError => new StatusError(code, msg);

export class FakeBlockd {
  readonly volumes = new Map<string, FakeVolume>();
  readonly calls: RecordedCall[] = [];
  /** calls whose caller cancelled them (or whose deadline passed) while they ran */
  readonly cancelled: RecordedCall[] = [];
  readonly nodes: FakeNode[] = [];
  /** method -> error to answer with, once */
  readonly failNext = new Map<string, StatusError>();
  /** method -> a promise the call waits for before answering (to hold an operation in flight) */
  readonly gates = new Map<string, Promise<void>>();
  /** what Audit reports */
  auditFindings: AuditFinding[] = [];
  /** "volume/block" -> why its journal cannot be read: ListBlocks{details} reports it, GetBlock answers DATA_LOSS */
  readonly unreadable = new Map<string, string>();
  /** false: a blockd older than ListBlocks details (infos never filled) */
  fillsDetails = true;
  /** false: a blockd older than BlockInfo.acl_synced (never set) */
  reportsAclSync = true;
  /** hosts that an ACL change cannot reach, their LIO unchanged: SetInitiatorAccess is UNAVAILABLE, ReloadBlock names them in failed_on (as the engine) */
  readonly aclUnreachable = new Set<string>();
  /** "volume/block" listed but not answered: a journal whose create has not begun (GetBlock NOT_FOUND, no details) */
  readonly notBegun = new Set<string>();
  /** host -> what GetTargetStatus(es) report for it, for every block (default: present and matching) */
  readonly targetStatus = new Map<string, { host: string; present: boolean; matches: boolean; detail: string }>();
  /** "volume/block host" -> what GetTargetStatus(es) report for that block on that host (before targetStatus) */
  readonly blockTargetStatus = new Map<string, { host: string; present: boolean; matches: boolean; detail: string }>();
  private passwordSeq = 0;

  constructor(readonly key?: string) {}

  addVolume(name: string, freeBytes = 100n * 1024n * MiB): FakeVolume {
    const v: FakeVolume = { totalBytes: freeBytes + 64n * MiB, freeBytes, blocks: new Map() };
    this.volumes.set(name, v);
    return v;
  }

  /** Starts one gRPC server per host (the host names are the nodes' addresses in portals). */
  async start(hosts: string[]): Promise<this> {
    for (const host of hosts) {
      const node: FakeNode = { host, endpoint: "", server: undefined, activePaths: 0, targets: 0, ready: true };
      this.nodes.push(node);
      await this.listen(node, 0);
    }
    return this;
  }

  private async listen(node: FakeNode, port: number): Promise<void> {
    const server = new GrpcServer(nullLogger);
    const svc = blockdProto().glusterblock.v1.Blockd.service;
    server.addService(
      svc,
      wrapService(svc, this.handlers(node), {
        log: nullLogger,
        authorize: (md) =>
          this.key === undefined || keyMatches(this.key, md.get(KEY_HEADER)[0]) ? undefined : unauthenticated("a valid blockd key is required"),
      }),
    );
    const where = await server.listen({ endpoint: { kind: "tcp", host: "127.0.0.1", port } });
    node.endpoint = where.replace(/^tcp:\/\//, "");
    node.server = server;
  }

  get endpoints(): string[] {
    return this.nodes.map((n) => n.endpoint);
  }

  node(host: string): FakeNode {
    const n = this.nodes.find((x) => x.host === host);
    if (!n) throw new Error(`no fake node ${host}`);
    return n;
  }

  async stopNode(host: string): Promise<void> {
    const n = this.node(host);
    await n.server?.stop(100);
    n.server = undefined;
  }

  async restartNode(host: string): Promise<void> {
    const n = this.node(host);
    await this.listen(n, Number(n.endpoint.split(":").pop()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.server?.stop(100) ?? Promise.resolve()));
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Calls that change state. */
  mutations(): RecordedCall[] {
    return this.calls.filter((c) => ["CreateBlock", "DeleteBlock", "ResizeBlock", "SetInitiatorAccess", "ModifyAuth"].includes(c.method));
  }

  block(volume: string, block: string): FakeBlock | undefined {
    return this.volumes.get(volume)?.blocks.get(block);
  }

  private vol(name: string): FakeVolume {
    const v = this.volumes.get(name);
    if (!v) throw fail(status.NOT_FOUND, `volume ${name} doesn't exist`);
    return v;
  }

  private existing(volume: string, block: string): FakeBlock {
    const b = this.vol(volume).blocks.get(block);
    if (!b || this.notBegun.has(`${volume}/${block}`)) throw fail(status.NOT_FOUND, `block ${volume}/${block} doesn't exist`);
    const why = this.unreadable.get(`${volume}/${block}`);
    if (why !== undefined) throw fail(status.DATA_LOSS, `metadata journal cannot be trusted: ${why}`);
    return b;
  }

  /** As the engine's changes of a made block: one being created or deleted is NOT_FOUND to them. */
  private complete(volume: string, block: string): FakeBlock {
    const b = this.existing(volume, block);
    if (b.state === "creating" || b.state === "deleting") throw fail(status.NOT_FOUND, `block ${volume}/${block} doesn't exist`);
    return b;
  }

  /** As GetBlock answers; `listed`: as ListBlocks' infos, which never read the ACL proof (acl_synced false) */
  info(b: FakeBlock, listed = false): BlockInfo {
    return {
      name: b.block,
      volume: b.volume,
      gbid: b.gbid,
      size_bytes: b.sizeBytes.toString(),
      ha: b.ha,
      io_timeout_s: b.ioTimeoutS,
      password: b.password,
      exported_on: b.exportedOn,
      failed_on: [],
      resize_failed_on: [],
      iqn: iqnFor(b.gbid),
      hosts: b.hosts,
      portals: b.hosts.filter((h) => b.exportedOn.includes(h)).map((h) => `${h}:3260`),
      acl_mode: b.aclMode,
      initiators: b.initiators,
      read_only_initiators: b.readOnlyInitiators,
      prio_path: b.hosts[0] ?? "",
      owner: b.owner,
      wwid: wwidFor(b.gbid),
      auth: b.auth,
      state: b.state,
      acl_synced: !listed && this.reportsAclSync && b.aclMode === "ACL_MODE_EXPLICIT" && b.aclSynced,
    };
  }

  /**
   * As the engine's "access" convergence: every exporting host's LIO takes the
   * journal's lists; one that cannot be reached keeps its ACLs and is
   * reported failed; all of them converged is the proof.
   */
  private convergeAcls(b: FakeBlock): { successful_on: string[]; failed_on: string[] } {
    const failed = b.exportedOn.filter((h) => this.aclUnreachable.has(h));
    for (const h of b.exportedOn) if (!failed.includes(h)) b.lioAcls.set(h, [...b.initiators]);
    if (failed.length === 0) b.aclSynced = true;
    return { successful_on: b.exportedOn.filter((h) => !failed.includes(h)), failed_on: failed };
  }

  /** A block made directly in the model, as CreateBlock makes one (for tests that need many). */
  addBlock(volume: string, block: string, over: Partial<FakeBlock> = {}): FakeBlock {
    const hosts = this.nodes.slice(0, 3).map((n) => n.host);
    const b: FakeBlock = {
      volume,
      block,
      gbid: randomUUID(),
      sizeBytes: 1024n * MiB,
      ha: hosts.length,
      hosts,
      exportedOn: [...hosts],
      auth: false,
      password: "",
      aclMode: "ACL_MODE_EXPLICIT",
      initiators: [],
      readOnlyInitiators: [],
      owner: "",
      prealloc: "PREALLOC_NO",
      ringBufferMb: 0,
      blockSize: 0,
      ioTimeoutS: 0,
      state: "ready",
      lioAcls: new Map(hosts.map((h) => [h, []])),
      aclSynced: false,
      ...over,
    };
    this.vol(volume).blocks.set(block, b);
    return b;
  }

  private lioStatus(b: FakeBlock, host: string): { host: string; present: boolean; matches: boolean; detail: string } {
    return this.blockTargetStatus.get(`${b.volume}/${b.block} ${host}`) ?? this.targetStatus.get(host) ?? { host, present: true, matches: true, detail: "ok" };
  }

  private handlers(node: FakeNode): AsyncHandlers<BlockdHandlers> {
    const record = (method: string, request: unknown, ctx: RpcContext): void => {
      const recorded = { host: node.host, method, request: JSON.parse(JSON.stringify(request)) as Record<string, unknown> };
      this.calls.push(recorded);
      ctx.signal.addEventListener("abort", () => this.cancelled.push(recorded), { once: true });
      const injected = this.failNext.get(method);
      if (injected) {
        this.failNext.delete(method);
        throw injected;
      }
    };
    const gate = (method: string): Promise<void> => this.gates.get(method) ?? Promise.resolve();
    return {
      CreateBlock: async (req, ctx) => {
        record("CreateBlock", req, ctx);
        await gate("CreateBlock");
        const v = this.vol(req.volume);
        const size = BigInt(req.size_bytes);
        const ha = req.ha || 1;
        if (req.hosts.length < ha) throw fail(status.INVALID_ARGUMENT, `ha count ${ha} is greater than the number of hosts given (${req.hosts.length})`);
        const hosts = req.hosts.slice(0, ha);
        const old = v.blocks.get(req.block);
        if (old?.state === "creating") {
          // as the engine: a create cut short before its SIZE and PASSWORD lines takes them from the retry
          old.sizeBytes = size;
          old.auth = req.auth;
          old.password = req.auth ? `fake-chap-password-${++this.passwordSeq}-0123456789` : "";
        }
        if (old) {
          const diffs: string[] = [];
          if (old.sizeBytes !== size) diffs.push("size");
          if (old.ha !== ha) diffs.push("ha");
          if (old.auth !== req.auth) diffs.push("auth");
          if (old.hosts.join(" ") !== hosts.join(" ")) diffs.push("hosts");
          if (old.aclMode !== req.acl_mode) diffs.push("acl mode");
          if (diffs.length > 0)
            throw fail(status.ALREADY_EXISTS, `block ${req.volume}/${req.block} already exists: with other parameters (${diffs.join("; ")})`);
          const complete = old.state === "ready";
          if (complete && req.fail_if_exists) throw fail(status.ALREADY_EXISTS, `block ${req.volume}/${req.block} already exists`);
          old.state = "ready";
          old.exportedOn = [...hosts];
          return this.createResponse(old, complete);
        }
        if (v.freeBytes < size + 10n * MiB) throw fail(status.RESOURCE_EXHAUSTED, `not enough space on volume ${req.volume}`);
        v.freeBytes -= size;
        const b: FakeBlock = {
          volume: req.volume,
          block: req.block,
          gbid: randomUUID(), // random per create, as the engine draws it
          sizeBytes: size,
          ha,
          hosts,
          exportedOn: [...hosts],
          auth: req.auth,
          password: req.auth ? `fake-chap-password-${++this.passwordSeq}-0123456789` : "",
          aclMode: req.acl_mode === "ACL_MODE_EXPLICIT" ? "ACL_MODE_EXPLICIT" : "ACL_MODE_GENERATED",
          initiators: [],
          readOnlyInitiators: [],
          owner: req.owner,
          prealloc: String(req.prealloc),
          ringBufferMb: req.ring_buffer_mb,
          blockSize: req.block_size,
          ioTimeoutS: req.io_timeout_s,
          state: "ready",
          lioAcls: new Map(hosts.map((h) => [h, []])),
          aclSynced: false,
        };
        v.blocks.set(req.block, b);
        for (const h of hosts) {
          const n = this.nodes.find((x) => x.host === h);
          if (n) n.targets++;
        }
        return this.createResponse(b, false);
      },
      DeleteBlock: async (req, ctx) => {
        record("DeleteBlock", req, ctx);
        await gate("DeleteBlock");
        const v = this.vol(req.volume);
        const b = v.blocks.get(req.block);
        if (!b) {
          if (req.missing_ok) return { successful_on: [], failed_on: [], not_found: true };
          throw fail(status.NOT_FOUND, `block ${req.volume}/${req.block} doesn't exist`);
        }
        v.blocks.delete(req.block);
        v.freeBytes += b.sizeBytes;
        return { successful_on: b.exportedOn, failed_on: [], not_found: false };
      },
      ResizeBlock: async (req, ctx) => {
        record("ResizeBlock", req, ctx);
        await gate("ResizeBlock");
        const b = this.existing(req.volume, req.block);
        const size = BigInt(req.size_bytes);
        if (size < b.sizeBytes && !req.force) throw fail(status.INVALID_ARGUMENT, "shrinking needs force");
        const v = this.vol(req.volume);
        if (size - b.sizeBytes > v.freeBytes) throw fail(status.RESOURCE_EXHAUSTED, "not enough space to grow");
        v.freeBytes -= size - b.sizeBytes;
        b.sizeBytes = size;
        return { iqn: iqnFor(b.gbid), size_bytes: size.toString(), successful_on: b.exportedOn, failed_on: [] };
      },
      GetBlock: async (req, ctx) => {
        record("GetBlock", req, ctx);
        await gate("GetBlock");
        return this.info(this.existing(req.volume, req.block));
      },
      ListBlocks: async (req, ctx) => {
        record("ListBlocks", req, ctx);
        await gate("ListBlocks");
        const v = this.vol(req.volume);
        const blocks = [...v.blocks.values()].sort((a, b) => (a.block < b.block ? -1 : 1));
        const names = blocks.map((b) => b.block);
        if (!req.details || !this.fillsDetails) return { blocks: names, infos: [], unreadable: [] };
        const why = (b: FakeBlock): string | undefined => this.unreadable.get(`${req.volume}/${b.block}`);
        const answered = (b: FakeBlock): boolean => why(b) === undefined && !this.notBegun.has(`${req.volume}/${b.block}`);
        return {
          blocks: names,
          infos: blocks.filter(answered).map((b) => this.info(b, true)),
          unreadable: blocks.flatMap((b) => (why(b) === undefined ? [] : [{ name: b.block, error: why(b) ?? "" }])),
        };
      },
      SetInitiatorAccess: async (req, ctx) => {
        record("SetInitiatorAccess", req, ctx);
        await gate("SetInitiatorAccess");
        const b = this.complete(req.volume, req.block);
        // as the engine: generated ACLs admit anyone, nothing to change; else the initiator takes the mode asked for
        if (b.aclMode !== "ACL_MODE_EXPLICIT") return { successful_on: b.exportedOn, failed_on: [] };
        const rw = new Set(b.initiators.filter((i) => !b.readOnlyInitiators.includes(i)));
        const ro = new Set(b.readOnlyInitiators);
        rw.delete(req.initiator_iqn);
        ro.delete(req.initiator_iqn);
        if (req.allow) (req.read_only ? ro : rw).add(req.initiator_iqn);
        const same = (a: Set<string>, list: string[]): boolean => a.size === list.length && list.every((i) => a.has(i));
        if (!same(ro, b.readOnlyInitiators) || !same(new Set([...rw, ...ro]), b.initiators)) {
          // the journal first (the intent), then the hosts
          b.initiators = [...rw, ...ro];
          b.readOnlyInitiators = [...ro];
          b.aclSynced = false;
        }
        // as the engine: a host that failed is a PartialFailure, UNAVAILABLE
        const r = this.convergeAcls(b);
        if (r.failed_on.length > 0) throw fail(status.UNAVAILABLE, `initiator access change failed on ${r.failed_on.join(", ")}; retry to converge`);
        return r;
      },
      ReloadBlock: async (req, ctx) => {
        record("ReloadBlock", req, ctx);
        await gate("ReloadBlock");
        const b = this.complete(req.volume, req.block);
        if (b.aclMode !== "ACL_MODE_EXPLICIT") return { successful_on: b.exportedOn, failed_on: [] };
        // as the engine: OK, naming the hosts it could not converge
        return this.convergeAcls(b);
      },
      GetVolumeSpace: async (req, ctx) => {
        record("GetVolumeSpace", req, ctx);
        await gate("GetVolumeSpace");
        const v = this.vol(req.volume);
        const reserve = 10n * MiB;
        const avail = v.freeBytes > reserve ? v.freeBytes - reserve : 0n;
        return {
          volume: req.volume,
          total_bytes: v.totalBytes.toString(),
          free_bytes: v.freeBytes.toString(),
          reserve_bytes: reserve.toString(),
          available_bytes: avail.toString(),
        };
      },
      Audit: async (req, ctx) => {
        record("Audit", req, ctx);
        await gate("Audit");
        this.vol(req.volume);
        return { findings: this.auditFindings };
      },
      GetTargetStatus: async (req, ctx) => {
        record("GetTargetStatus", req, ctx);
        await gate("GetTargetStatus");
        const b = this.existing(req.volume, req.block);
        return { hosts: b.hosts.map((h) => this.lioStatus(b, h)) };
      },
      GetTargetStatuses: async (req, ctx) => {
        record("GetTargetStatuses", req, ctx);
        await gate("GetTargetStatuses");
        const v = this.vol(req.volume);
        return {
          blocks: req.blocks.map((block) => {
            const b = v.blocks.get(block);
            const why = this.unreadable.get(`${req.volume}/${block}`);
            if (!b || why !== undefined)
              return { block, hosts: [], error: b ? `metadata journal cannot be trusted: ${why}` : `block ${req.volume}/${block} doesn't exist` };
            return { block, hosts: b.hosts.map((h) => this.lioStatus(b, h)), error: "" };
          }),
        };
      },
      GetNodeStatus: async (req, ctx) => {
        record("GetNodeStatus", req, ctx);
        await gate("GetNodeStatus");
        return { host: node.host, version: "fake", targets: node.targets, active_paths: node.activePaths, ready: node.ready };
      },
    };
  }

  private createResponse(b: FakeBlock, alreadyExisted: boolean) {
    return {
      iqn: iqnFor(b.gbid),
      portals: b.exportedOn.map((h) => `${h}:3260`),
      username: b.auth ? b.gbid : "",
      password: b.password,
      gbid: b.gbid,
      size_bytes: b.sizeBytes.toString(),
      already_existed: alreadyExisted,
      wwid: wwidFor(b.gbid),
    };
  }
}
