// ControllerPublishVolume: the node's initiator let in on every HA target,
// read-write, or read-only (its LUN write protected on its ACL, so no write
// can come through that node) for a reader access mode or `readonly`. One
// writer, or any number of readers, never both (CSI's rules, from the
// block's journal as blockd reads it, under the volume's lock):
//  - the node already published in the other mode: ALREADY_EXISTS ("volume
//    published but is incompatible");
//  - published to another node, and this publish is not
//    MULTI_NODE_READER_ONLY, or that node writes: FAILED_PRECONDITION
//    ("volume published to another node"), naming it.
// Blocks with generated ACLs (made by the CLI) admit any initiator that has
// the CHAP secret: publishing changes nothing there, and the read-only mapping
// several readers need cannot be made.
import type { ControllerPublishVolumeRequest__Output } from "../generated/csi/v1/ControllerPublishVolumeRequest.js";
import type { ControllerPublishVolumeResponse } from "../generated/csi/v1/ControllerPublishVolumeResponse.js";
import type { RpcContext } from "../rpc/rpc.js";
import { alreadyExists, failedPrecondition, invalidArgument } from "../rpc/errors.js";
import { publishContext } from "../csi/publish-context.js";
import { checkCapability, MULTI_NODE_ACCESS_MODES, READ_ONLY_ACCESS_MODES } from "./capabilities.js";
import { existingNode, existingRef, requireBlock } from "./blockd-lookup.js";
import type { ControllerDeps } from "./deps.js";

const mode = (readOnly: boolean): string => (readOnly ? "read-only" : "read-write");

export async function controllerPublish(
  deps: ControllerDeps,
  req: ControllerPublishVolumeRequest__Output,
  ctx: RpcContext,
): Promise<ControllerPublishVolumeResponse> {
  // required fields first (INVALID_ARGUMENT whatever the IDs name), then IDs
  // not of our form, which name a volume or node that does not exist (NOT_FOUND)
  if (req.volume_id === "") throw invalidArgument("volume_id is required");
  if (req.node_id === "") throw invalidArgument("node_id is required");
  checkCapability(req.volume_capability);
  const ref = existingRef(req.volume_id);
  const node = existingNode(req.node_id);
  const accessMode = String(req.volume_capability?.access_mode?.mode ?? "");
  const readOnly = req.readonly || READ_ONLY_ACCESS_MODES.includes(accessMode);
  const multiNode = MULTI_NODE_ACCESS_MODES.includes(accessMode);
  return deps.locks.with([req.volume_id], async () => {
    const info = await requireBlock(deps.blockd, req.volume_id, ref, ctx);
    if (info.acl_mode === "ACL_MODE_EXPLICIT") {
      const readers = new Set(info.read_only_initiators);
      const self = node.initiatorIqn;
      if (info.initiators.includes(self) && readers.has(self) !== readOnly) {
        throw alreadyExists(
          `volume ${req.volume_id} is published to node ${req.node_id} ${mode(readers.has(self))}; a ${mode(readOnly)} publish there is incompatible: unpublish it first`,
        );
      }
      const others = info.initiators.filter((i) => i !== self);
      const writers = others.filter((i) => !readers.has(i));
      if (others.length > 0 && !multiNode) {
        throw failedPrecondition(
          `volume ${req.volume_id} is published to initiator ${others.join(", ")}; access mode ${accessMode} is single-node: unpublish it there first`,
        );
      }
      if (writers.length > 0) {
        throw failedPrecondition(
          `volume ${req.volume_id} is published read-write to initiator ${writers.join(", ")}; readers on other nodes cannot share it with a writer: unpublish it there first`,
        );
      }
    } else if (multiNode) {
      throw failedPrecondition(
        `volume ${req.volume_id} admits every initiator with its CHAP secret (generated ACLs: a block made by the gluster-block CLI), so it cannot be mapped read-only per node for ${accessMode}`,
      );
    }
    await deps.blockd.any(
      "SetInitiatorAccess",
      { volume: ref.hostingVolume, block: ref.block, initiator_iqn: node.initiatorIqn, allow: true, read_only: readOnly },
      ctx,
    );
    deps.nodeIds.remember(req.node_id);
    // ListVolumes reports where a volume is published: its hosting volume must be one it looks at
    deps.hostingVolumes.note(ref.hostingVolume);
    if (readOnly) ctx.log.info("published read-only", { volumeId: req.volume_id, nodeId: req.node_id, accessMode });
    return { publish_context: publishContext(readOnly) };
  });
}
