// The blockd gRPC services over the engine: requests validated and mapped to
// engine calls, results to protobuf. Errors are mapped by error-map.ts. Each
// call's engine is bound to the caller's cancellation, so the programs it runs
// end when the caller gives up.
import type { BlockdHandlers } from "../../generated/glusterblock/v1/Blockd.js";
import type { BlockdPeerHandlers } from "../../generated/glusterblock/v1/BlockdPeer.js";
import type { AsyncHandlers, RpcContext } from "../../rpc/rpc.js";
import { invalidArgument } from "../../rpc/errors.js";
import type { BlockEngine } from "../engine/block-engine.js";
import type { LocalNode } from "../engine/local-node.js";
import { toBlockInfo } from "./block-info.js";
import type { Auditor } from "../engine/audit.js";

const u64 = (v: string | number | { toString(): string } | undefined): bigint => {
  try {
    return BigInt(String(v ?? 0));
  } catch {
    throw invalidArgument(`not an unsigned integer: ${String(v)}`);
  }
};

export function blockdService(engine: BlockEngine, auditor: Auditor): AsyncHandlers<BlockdHandlers> {
  /** the engine for one call: the programs it runs end when the caller cancels */
  const forCall = (ctx: RpcContext): BlockEngine => engine.withSignal(ctx.signal);
  return {
    async CreateBlock(req, ctx) {
      const r = await forCall(ctx).create({
        volume: req.volume,
        block: req.block,
        ha: req.ha === 0 ? 1 : req.ha,
        hosts: req.hosts,
        auth: req.auth,
        prealloc: req.prealloc !== "PREALLOC_NO",
        ...(req.storage ? { storage: req.storage } : { sizeBytes: u64(req.size_bytes) }),
        ...(req.ring_buffer_mb ? { ringBufferMb: req.ring_buffer_mb } : {}),
        ...(req.block_size ? { blockSize: req.block_size } : {}),
        ...(req.io_timeout_s ? { ioTimeout: req.io_timeout_s } : {}),
        aclMode: req.acl_mode === "ACL_MODE_EXPLICIT" ? "EXPLICIT" : "GENERATED",
        owner: req.owner,
        failIfExists: req.fail_if_exists,
      });
      return {
        iqn: r.iqn,
        portals: r.portals,
        username: r.username ?? "",
        password: r.password ?? "",
        gbid: r.gbid,
        size_bytes: r.sizeBytes.toString(),
        already_existed: r.alreadyExisted,
        wwid: r.wwid,
      };
    },
    async DeleteBlock(req, ctx) {
      const r = await forCall(ctx).delete({
        volume: req.volume,
        block: req.block,
        unlinkStorage: req.unlink_storage,
        force: req.force,
        missingOk: req.missing_ok,
      });
      return { successful_on: r.successfulOn, failed_on: r.failedOn, not_found: r.notFound };
    },
    async ModifyAuth(req, ctx) {
      const r = await forCall(ctx).modifyAuth({ volume: req.volume, block: req.block, enable: req.enable });
      return { iqn: r.iqn, username: r.username ?? "", password: r.password ?? "", successful_on: r.successfulOn, failed_on: r.failedOn };
    },
    async ResizeBlock(req, ctx) {
      const r = await forCall(ctx).resize({ volume: req.volume, block: req.block, sizeBytes: u64(req.size_bytes), force: req.force });
      return { iqn: r.iqn, size_bytes: r.sizeBytes.toString(), successful_on: r.successfulOn, failed_on: r.failedOn };
    },
    async ReplaceNode(req, ctx) {
      const r = await forCall(ctx).replace({ volume: req.volume, block: req.block, oldNode: req.old_node, newNode: req.new_node, force: req.force });
      return r.outcome === "done"
        ? {
            name: req.block,
            outcome: r.outcome,
            created: r.created,
            deleted: r.deleted,
            portal_success_on: r.portalSuccessOn,
            portal_failed_on: r.portalFailedOn,
          }
        : { name: req.block, outcome: r.outcome, created: false, deleted: false, portal_success_on: [], portal_failed_on: [] };
    },
    async GetBlock(req, ctx) {
      return toBlockInfo(await forCall(ctx).details(req.volume, req.block), engine.iscsiPort);
    },
    async ListBlocks(req, ctx) {
      if (!req.details) return { blocks: await forCall(ctx).list(req.volume), infos: [], unreadable: [] };
      const l = await forCall(ctx).listDetails(req.volume);
      return { blocks: l.names, infos: l.details.map((d) => toBlockInfo(d, engine.iscsiPort)), unreadable: l.unreadable };
    },
    async SetInitiatorAccess(req, ctx) {
      const r = await forCall(ctx).setInitiatorAccess({
        volume: req.volume,
        block: req.block,
        initiator: req.initiator_iqn,
        allow: req.allow,
        readOnly: req.read_only,
      });
      return { successful_on: r.successfulOn, failed_on: r.failedOn };
    },
    async GetVolumeSpace(req, ctx) {
      const s = await forCall(ctx).space(req.volume);
      const avail = s.freeBytes > s.reserveBytes ? s.freeBytes - s.reserveBytes : 0n;
      return {
        volume: req.volume,
        total_bytes: s.totalBytes.toString(),
        free_bytes: s.freeBytes.toString(),
        reserve_bytes: s.reserveBytes.toString(),
        available_bytes: avail.toString(),
      };
    },
    async Audit(req) {
      const findings = await auditor.audit(req.volume, req.fix);
      return { findings: findings.map((f) => ({ kind: f.kind, host: f.host, block: f.block, detail: f.detail, fixed: f.fixed })) };
    },
    async ReloadBlock(req, ctx) {
      const r = await forCall(ctx).reload({ volume: req.volume, block: req.block });
      return { successful_on: r.successfulOn, failed_on: r.failedOn };
    },
    async GetTargetStatus(req, ctx) {
      return { hosts: await forCall(ctx).targetStatus(req.volume, req.block) };
    },
    async GetTargetStatuses(req, ctx) {
      const r = await forCall(ctx).targetStatuses(req.volume, req.blocks);
      return { blocks: r.map((b) => ("error" in b ? { block: b.block, hosts: [], error: b.error } : { block: b.block, hosts: b.hosts, error: "" })) };
    },
    async AdoptBlock(req, ctx) {
      const r = await forCall(ctx).adopt({ volume: req.volume, block: req.block, initiators: req.initiators, dryRun: req.dry_run });
      return {
        outcome: r.outcome,
        gbid: r.gbid,
        iqn: r.iqn,
        wwid: r.wwid,
        size_bytes: r.sizeBytes.toString(),
        hosts: r.hosts,
        portals: r.portals,
        initiators: r.initiators,
        sessions: r.sessions,
        changes: r.changes,
        successful_on: r.successfulOn,
        failed_on: r.failedOn,
        auth: r.auth,
      };
    },
    async GetNodeStatus() {
      const s = await auditor.local.nodeStatus();
      return { host: s.host, version: s.version, targets: s.targets, active_paths: s.activePaths, ready: s.ready };
    },
  };
}

export function peerService(local: LocalNode): AsyncHandlers<BlockdPeerHandlers> {
  const result = (r: { host: string; present: boolean; matches: boolean; detail: string }) => r;
  return {
    async ApplyTarget(ref) {
      return result(await local.apply(ref));
    },
    async RemoveTarget(ref) {
      return result(await local.remove(ref));
    },
    async TargetStatus(ref) {
      return result(await local.status(ref));
    },
    async TargetStatuses(req) {
      const answers = await local.statusMany(req.refs);
      return { results: answers.map((a) => ("error" in a ? { host: a.host, present: false, matches: false, detail: "", error: a.error } : result(a))) };
    },
    async Ping() {
      const s = await local.nodeStatus();
      return { host: s.host, version: s.version, targets: s.targets, active_paths: s.activePaths, ready: s.ready };
    },
    async InspectTarget(ref) {
      const r = await local.inspect(ref);
      return {
        host: r.host,
        present: r.present,
        tpgs: r.tpgs.map((t) => ({
          tag: t.tag,
          enabled: t.enabled,
          portals: t.portals,
          generate_node_acls: t.generateNodeAcls,
          dynamic_sessions: t.dynamicSessions,
          acl_sessions: t.aclSessions,
        })),
      };
    },
  };
}
