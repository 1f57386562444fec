// ControllerUnpublishVolume: the node's initiator revoked on every HA target
// (an empty node ID: every initiator). A volume that is gone is unpublished.
//
// The external-attacher sends it again after a detach (and on every resync of
// a VolumeAttachment being deleted). When GetBlock alone proves nothing is
// left to revoke, the answer is OK at once, with no SetInitiatorAccess (which
// takes the block's lock and asks every HA host's blockd):
//  - generated ACLs (a CLI block): blockd has no per-initiator ACL to revoke;
//  - the initiator is not in the journal's lists AND `acl_synced`: the
//    journal proves every exporting host converged to those lists after their
//    last change (blockd's engine/acl-sync.ts).
// The lists alone are not enough: they are written before the hosts converge,
// so after an unpublish a host could not take, or a blockd that died
// mid-change, they no longer name an initiator a host's LIO still lets in.
// Without the proof (that, a blockd older than acl_synced, or a block being
// created or deleted) SetInitiatorAccess runs as before and converges them;
// for every node when the lists name none, ReloadBlock does (CSI: no node ID
// is every node the volume is published to, and a host may still let one in).
import { status } from "@grpc/grpc-js";
import type { ControllerUnpublishVolumeRequest__Output } from "../generated/csi/v1/ControllerUnpublishVolumeRequest.js";
import type { ControllerUnpublishVolumeResponse } from "../generated/csi/v1/ControllerUnpublishVolumeResponse.js";
import type { BlockInfo__Output } from "../generated/glusterblock/v1/BlockInfo.js";
import type { RpcContext } from "../rpc/rpc.js";
import { invalidArgument, unavailable } from "../rpc/errors.js";
import { parseVolumeId, type VolumeRef } from "../csi/volume-id.js";
import { parseNodeId, type NodeIdentity } from "../csi/node-id.js";
import { findBlock, isCode } from "./blockd-lookup.js";
import type { ControllerDeps } from "./deps.js";

/** Whether GetBlock's answer proves that no exporting host lets any of `iqns` in. */
function nothingToRevoke(info: BlockInfo__Output, iqns: readonly string[]): boolean {
  if (info.acl_mode === "ACL_MODE_GENERATED") return true;
  return info.acl_mode === "ACL_MODE_EXPLICIT" && info.acl_synced && iqns.every((i) => !info.initiators.includes(i));
}

export async function controllerUnpublish(
  deps: ControllerDeps,
  req: ControllerUnpublishVolumeRequest__Output,
  ctx: RpcContext,
): Promise<ControllerUnpublishVolumeResponse> {
  if (req.volume_id === "") throw invalidArgument("volume_id is required");
  let ref: VolumeRef;
  let node: NodeIdentity | undefined;
  try {
    ref = parseVolumeId(req.volume_id);
    node = req.node_id === "" ? undefined : parseNodeId(req.node_id);
  } catch {
    // an ID not of our form names no volume, or no node Publish ever let in:
    // CSI, "can be safely regarded as ControllerUnpublished", so OK
    return {};
  }
  return deps.locks.with([req.volume_id], async () => {
    const info = await findBlock(deps.blockd, ref, ctx);
    if (!info) return {}; // CSI: a volume that is gone is unpublished
    // no node ID: unpublish from every node
    const iqns = node ? [node.initiatorIqn] : info.initiators;
    if (nothingToRevoke(info, iqns)) {
      ctx.log.debug("nothing to revoke: the journal proves no exporting host lets the initiator in", { volumeId: req.volume_id, nodeId: req.node_id });
      return {};
    }
    try {
      for (const iqn of iqns) {
        await deps.blockd.any("SetInitiatorAccess", { volume: ref.hostingVolume, block: ref.block, initiator_iqn: iqn, allow: false }, ctx);
      }
      // every node, and the journal names none but proves nothing: converge the hosts to that all the same (a host
      // may still let one in). ReloadBlock answers OK with the hosts it could not converge; those are not unpublished.
      if (iqns.length === 0) {
        const r = await deps.blockd.any("ReloadBlock", { volume: ref.hostingVolume, block: ref.block }, ctx);
        if (r.failed_on.length > 0) throw unavailable(`revoking every initiator failed on ${r.failed_on.join(", ")}; retry to converge`);
      }
    } catch (err) {
      // gone since, or being created or deleted (blockd changes no ACL then)
      if (!isCode(err, status.NOT_FOUND)) throw err;
    }
    return {};
  });
}
