// The CSI Node service: validation first (INVALID_ARGUMENT naming the field,
// nothing run; then NOT_FOUND for a volume ID not of our form, or a
// volume_path no volume can be at; a teardown of such an ID is OK, nothing
// done), then the per-volume lock (a waiter over 60 s gets ABORTED),
// then the work, which lives in stager/publisher/volume-health.
import type { NodeHandlers } from "../generated/csi/v1/Node.js";
import type { NodeServiceCapability } from "../generated/csi/v1/NodeServiceCapability.js";
import type { AsyncHandlers } from "../rpc/rpc.js";
import { formatNodeId } from "../csi/node-id.js";
import { failedPrecondition, internal, invalidArgument } from "../rpc/errors.js";
import type { NodeDeps } from "./node-deps.js";
import { Stager } from "./stager.js";
import { Publisher } from "./publisher.js";
import { VolumeHealth } from "./volume-health.js";
import { readInitiatorName } from "./node-info.js";
import { initiatorNameFile } from "./host-paths.js";
import type { TopologySource } from "./node-topology.js";
import {
  asPublished,
  knownVolume,
  knownVolumePath,
  requireCapability,
  requireChap,
  requireContext,
  requireField,
  requirePath,
  requireVolumeId,
  teardownVolume,
} from "./validate.js";

export interface NodeServerOptions {
  nodeName: string;
  maxVolumesPerNode: number;
  /** the node's accessible topology, asked at each NodeGetInfo (node-topology.ts) */
  topology: TopologySource;
}

export const NODE_CAPABILITIES: NodeServiceCapability[] = (["STAGE_UNSTAGE_VOLUME", "EXPAND_VOLUME", "GET_VOLUME_STATS", "VOLUME_CONDITION"] as const).map(
  (type) => ({ rpc: { type } }),
);

export function nodeServer(deps: NodeDeps, options: NodeServerOptions): AsyncHandlers<NodeHandlers> {
  const stager = new Stager(deps);
  const publisher = new Publisher(deps);
  const health = new VolumeHealth(deps);
  const locked = <T>(volumeId: string, fn: () => Promise<T>): Promise<T> => deps.locks.with(volumeId, fn);

  return {
    async NodeGetInfo() {
      let iqn: string;
      try {
        iqn = await readInitiatorName(initiatorNameFile(deps.paths));
      } catch (err) {
        throw internal(err instanceof Error ? err.message : String(err), err);
      }
      const segments = await options.topology();
      return {
        node_id: formatNodeId({ nodeName: options.nodeName, initiatorIqn: iqn }),
        max_volumes_per_node: options.maxVolumesPerNode,
        accessible_topology: Object.keys(segments).length > 0 ? { segments } : null,
      };
    },

    NodeGetCapabilities: () => Promise.resolve({ capabilities: NODE_CAPABILITIES }),

    async NodeStageVolume(req, ctx) {
      requireVolumeId(req.volume_id);
      const stagingPath = requirePath("staging_target_path", req.staging_target_path);
      const vctx = requireContext(req.volume_context);
      const cap = asPublished(requireCapability(req.volume_capability, vctx.fsType), req.publish_context);
      const chap = requireChap(vctx, req.secrets);
      knownVolume(req.volume_id);
      await locked(req.volume_id, () =>
        stager.stage(
          { volumeId: req.volume_id, stagingPath, cap, chap, target: { iqn: vctx.iqn, portals: vctx.portals, lun: vctx.lun, wwid: vctx.wwid } },
          ctx.log,
          ctx.signal,
        ),
      );
      return {};
    },

    async NodeUnstageVolume(req, ctx) {
      requireVolumeId(req.volume_id);
      const stagingPath = requirePath("staging_target_path", req.staging_target_path);
      const ref = teardownVolume(req.volume_id);
      if (!ref) {
        ctx.log.info("volume_id is not of this driver's form: no such volume, nothing staged to undo", { volumeId: req.volume_id });
        return {};
      }
      await locked(req.volume_id, () => stager.unstage(ref, req.volume_id, stagingPath, ctx.log, ctx.signal));
      return {};
    },

    async NodePublishVolume(req, ctx) {
      requireVolumeId(req.volume_id);
      const stagingPath = requirePath("staging_target_path", req.staging_target_path);
      const targetPath = requirePath("target_path", req.target_path);
      const cap = asPublished(requireCapability(req.volume_capability, req.volume_context?.fsType ?? ""), req.publish_context);
      knownVolume(req.volume_id);
      await locked(req.volume_id, () => publisher.publish({ volumeId: req.volume_id, stagingPath, targetPath, cap, readOnly: req.readonly }, ctx.log));
      return {};
    },

    async NodeUnpublishVolume(req, ctx) {
      requireVolumeId(req.volume_id);
      const targetPath = requirePath("target_path", req.target_path);
      if (!teardownVolume(req.volume_id)) {
        // NodePublishVolume never bound such an ID anywhere: what may be at the path is not ours to unmount
        ctx.log.info("volume_id is not of this driver's form: no such volume, nothing published to undo", { volumeId: req.volume_id });
        return {};
      }
      await locked(req.volume_id, () => publisher.unpublish(req.volume_id, targetPath, ctx.log));
      return {};
    },

    async NodeGetVolumeStats(req) {
      requireVolumeId(req.volume_id);
      const volumePath = requireField("volume_path", req.volume_path);
      if (req.staging_target_path) requirePath("staging_target_path", req.staging_target_path);
      knownVolume(req.volume_id);
      knownVolumePath("volume_path", volumePath);
      return health.stats(req.volume_id, volumePath);
    },

    async NodeExpandVolume(req) {
      requireVolumeId(req.volume_id);
      const volumePath = requireField("volume_path", req.volume_path);
      if (req.staging_target_path) requirePath("staging_target_path", req.staging_target_path);
      if (req.volume_capability) requireCapability(req.volume_capability);
      const required = Number(req.capacity_range?.required_bytes ?? 0);
      if (!Number.isFinite(required) || required < 0) throw invalidArgument("capacity_range.required_bytes is negative");
      knownVolume(req.volume_id);
      knownVolumePath("volume_path", volumePath);
      const size = await locked(req.volume_id, () => health.expand(req.volume_id, volumePath));
      if (required > 0 && size < required)
        throw failedPrecondition(
          `volume ${req.volume_id} is ${size} bytes after the rescan, less than the ${required} asked for; has the controller grown it?`,
        );
      return { capacity_bytes: size };
    },
  };
}
