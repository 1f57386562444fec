// The CSI Controller service over gluster-blockd. Each handler validates its
// request before any call, takes the volume's lock (ABORTED when another
// operation holds it), and lets errors.ts map whatever blockd or Kubernetes
// answered.
import { status } from "@grpc/grpc-js";
import type { ControllerHandlers } from "../generated/csi/v1/Controller.js";
import type { ControllerServiceCapability } from "../generated/csi/v1/ControllerServiceCapability.js";
import type { AsyncHandlers } from "../rpc/rpc.js";
import { invalidArgument } from "../rpc/errors.js";
import { isOtherFormatVersion, parseVolumeId, type VolumeRef } from "../csi/volume-id.js";
import { CONTEXT_KEY } from "../csi/volume-context.js";
import { capabilityProblem, checkCapabilities, checkCapability } from "./capabilities.js";
import { expandSize } from "./capacity.js";
import { parseParameters } from "./params.js";
import { conditionOf, type LioCheck } from "./volume-condition.js";
import { createVolume } from "./create-volume.js";
import { existingRef, isCode, requireBlock } from "./blockd-lookup.js";
import type { ControllerDeps } from "./deps.js";
import { listVolumes } from "./list-volumes.js";
import { getCapacity } from "./get-capacity.js";
import { controllerPublish } from "./publish.js";
import { controllerUnpublish } from "./unpublish.js";
import { contextOf } from "./block-context.js";

/** What the controller always serves; LIST_VOLUMES_PUBLISHED_NODES only where every node can be named (controllerCapabilities). */
export const CONTROLLER_CAPABILITIES: ControllerServiceCapability[] = (
  [
    "CREATE_DELETE_VOLUME",
    "PUBLISH_UNPUBLISH_VOLUME",
    // ControllerPublishVolume.readonly maps the LUN read-only for that node
    "PUBLISH_READONLY",
    "LIST_VOLUMES",
    "GET_CAPACITY",
    "EXPAND_VOLUME",
    "GET_VOLUME",
    "VOLUME_CONDITION",
  ] as const
).map((type) => ({ rpc: { type } }));

/**
 * The capabilities, with LIST_VOLUMES_PUBLISHED_NODES when CSINodes name every
 * node (a Kubernetes API): the external-attacher then compares ListVolumes'
 * published nodes with its VolumeAttachments and attaches again what it finds
 * missing, so a node the controller cannot name must not be reported absent.
 */
export function controllerCapabilities(publishedNodes: boolean): ControllerServiceCapability[] {
  return publishedNodes ? [...CONTROLLER_CAPABILITIES, { rpc: { type: "LIST_VOLUMES_PUBLISHED_NODES" } }] : CONTROLLER_CAPABILITIES;
}

/** DeleteVolume's reading of an ID: undefined for one that cannot name a volume of ours (so it does not exist). */
function deleteRef(volumeId: string): VolumeRef | undefined {
  if (volumeId === "") throw invalidArgument("volume_id is required");
  // an ID of another format version may name a live volume: never answer "gone" for it
  if (isOtherFormatVersion(volumeId))
    throw invalidArgument(`volume_id ${JSON.stringify(volumeId.slice(0, 140))} has a format version this controller does not know`);
  try {
    return parseVolumeId(volumeId);
  } catch {
    return undefined;
  }
}

export function controllerService(deps: ControllerDeps): AsyncHandlers<ControllerHandlers> {
  return {
    CreateVolume: (req, ctx) => createVolume(deps, req, ctx),

    async DeleteVolume(req, ctx) {
      const ref = deleteRef(req.volume_id);
      if (!ref) {
        ctx.log.info("volume_id is not of this driver's form; no such volume, nothing to delete", { volumeId: req.volume_id });
        return {};
      }
      return deps.locks.with([req.volume_id], async () => {
        try {
          const r = await deps.blockd.any(
            "DeleteBlock",
            { volume: ref.hostingVolume, block: ref.block, unlink_storage: true, force: false, missing_ok: true },
            ctx,
          );
          ctx.log.info(r.not_found ? "volume was already gone" : "volume deleted", { volumeId: req.volume_id, on: r.successful_on });
        } catch (err) {
          // the hosting volume itself is gone: so is the block
          if (!isCode(err, status.NOT_FOUND)) throw err;
          ctx.log.info("hosting volume not found; the volume is gone", { volumeId: req.volume_id });
        }
        // found by the volume ID it was made for (GBIDs are random per create, so
        // the block's name does not name it), also on a retry after the block is gone
        const deleted = await deps.secrets.deleteForVolume(req.volume_id);
        deps.health.forget(req.volume_id);
        if (deleted.length > 0) ctx.log.info("CHAP secrets deleted", { secrets: deleted });
        return {};
      });
    },

    ControllerPublishVolume: (req, ctx) => controllerPublish(deps, req, ctx),

    ControllerUnpublishVolume: (req, ctx) => controllerUnpublish(deps, req, ctx),

    async ValidateVolumeCapabilities(req, ctx) {
      if (req.volume_id === "") throw invalidArgument("volume_id is required");
      if (req.volume_capabilities.length === 0) throw invalidArgument("volume_capabilities is required");
      const ref = existingRef(req.volume_id);
      await requireBlock(deps.blockd, req.volume_id, ref, ctx);
      const unconfirmed = (message: string) => ({ confirmed: null, message });
      for (const cap of req.volume_capabilities) {
        const p = capabilityProblem(cap);
        if (p) return unconfirmed(p);
      }
      let fs = "";
      try {
        fs = checkCapabilities(req.volume_capabilities).fsType;
      } catch (err) {
        return unconfirmed(err instanceof Error ? err.message : String(err));
      }
      const made = req.volume_context?.[CONTEXT_KEY.fsType] ?? "";
      if (fs && made && fs !== made) return unconfirmed(`the volume was made for ${made}, not ${fs}`);
      if (Object.keys(req.parameters ?? {}).length > 0) {
        try {
          parseParameters(req.parameters, deps.defaults);
        } catch (err) {
          return unconfirmed(err instanceof Error ? err.message : String(err));
        }
      }
      return {
        confirmed: {
          volume_context: req.volume_context,
          volume_capabilities: req.volume_capabilities,
          parameters: req.parameters,
          mutable_parameters: req.mutable_parameters,
        },
        message: "",
      };
    },

    ListVolumes: (req, ctx) => listVolumes(deps, req, ctx),

    GetCapacity: (req, ctx) => getCapacity(deps, req, ctx),

    ControllerGetCapabilities: () => Promise.resolve({ capabilities: controllerCapabilities(deps.nodeIds.fromCluster) }),

    async ControllerExpandVolume(req, ctx) {
      if (req.volume_id === "") throw invalidArgument("volume_id is required");
      const size = expandSize(req.capacity_range);
      if (req.volume_capability) checkCapability(req.volume_capability);
      const ref = existingRef(req.volume_id);
      // Block too: the node's paths and multipath map keep the old size until
      // NodeExpandVolume rescans them; a Filesystem is grown there as well
      const nodeExpansion = true;
      return deps.locks.with([req.volume_id], async () => {
        const info = await requireBlock(deps.blockd, req.volume_id, ref, ctx);
        const current = BigInt(info.size_bytes);
        if (size < current) return { capacity_bytes: current.toString(), node_expansion_required: nodeExpansion };
        // the same size too: a resize cut short after its SIZE line left hosts
        // at the old size that only blockd sees (it answers at once when none is)
        const r = await deps.blockd.any("ResizeBlock", { volume: ref.hostingVolume, block: ref.block, size_bytes: size.toString(), force: false }, ctx);
        ctx.log.info(size === current ? "volume size confirmed on every host" : "volume expanded", {
          volumeId: req.volume_id,
          from: current.toString(),
          to: r.size_bytes,
        });
        return { capacity_bytes: r.size_bytes, node_expansion_required: nodeExpansion };
      });
    },

    async ControllerGetVolume(req, ctx) {
      const ref = existingRef(req.volume_id);
      deps.hostingVolumes.note(ref.hostingVolume);
      const info = await requireBlock(deps.blockd, req.volume_id, ref, ctx);
      // LIO's own view on every HA host, against the journal (read only, this block only)
      let check: LioCheck;
      try {
        check = { hosts: (await deps.blockd.any("GetTargetStatus", { volume: ref.hostingVolume, block: ref.block }, ctx)).hosts };
      } catch (err) {
        check = { error: err instanceof Error ? err.message : String(err) };
        ctx.log.warn("LIO check for the volume condition failed", { volumeId: req.volume_id, error: check.error });
      }
      const condition = conditionOf(info, check);
      await deps.health.note(req.volume_id, info, condition);
      return {
        volume: { volume_id: req.volume_id, capacity_bytes: info.size_bytes, volume_context: contextOf(info, ref) },
        status: { published_node_ids: await deps.nodeIds.resolve(info.initiators), volume_condition: condition },
      };
    },
  };
}
