// GetCapacity, as csi-provisioner's storage capacity tracking calls it: once
// per StorageClass of this driver and topology segment, with the class's
// parameters as they are written (its csi.storage.k8s.io/* keys included), one
// Mount capability with access mode UNKNOWN ("rather arbitrarily", its source
// says: capacity does not depend on it), and the segment's topology (empty
// when the nodes report none). The answer is what CreateVolume with those parameters could
// place: the available bytes (free less blockd's reserve, the rule a create
// is admitted by) of the hosting volume the class names. With topology off
// every segment gets that answer. With it on, a segment is a zone, and its
// answer is what a volume in that zone could get: the same bytes when the
// zone has at least haCount storage nodes whose blockd pod counts (Running,
// Ready), else 0 (a zone with too few, or no, storage nodes cannot hold the
// class's HA set; the scheduler then places WaitForFirstConsumer pods
// elsewhere). Parameters a CreateVolume would refuse are refused here too
// (INVALID_ARGUMENT): a class that cannot provision must not publish the
// capacity of another's volume. Only a request without parameters (a CO
// asking about the driver as a whole) gets the sum over the known hosting
// volumes.
import { status } from "@grpc/grpc-js";
import type { GetCapacityRequest__Output } from "../generated/csi/v1/GetCapacityRequest.js";
import type { GetCapacityResponse } from "../generated/csi/v1/GetCapacityResponse.js";
import type { RpcContext } from "../rpc/rpc.js";
import { capabilityProblem } from "./capabilities.js";
import { MAX_VOLUME_BYTES, MiB } from "./capacity.js";
import { parseParameters } from "./params.js";
import { isCode } from "./blockd-lookup.js";
import type { ControllerDeps } from "./deps.js";
import { zoneRequirement } from "./zone-requirement.js";

const NONE: GetCapacityResponse = { available_capacity: "0", maximum_volume_size: { value: "0" }, minimum_volume_size: { value: MiB.toString() } };

export async function getCapacity(deps: ControllerDeps, req: GetCapacityRequest__Output, ctx: RpcContext): Promise<GetCapacityResponse> {
  // an access mode left UNKNOWN asks about no mode in particular: only what is named can be unsupported
  for (const cap of req.volume_capabilities) if (capabilityProblem(cap, { unknownModeIsAny: true })) return NONE;
  const params = req.parameters ?? {};
  const parsed = Object.keys(params).length === 0 ? undefined : parseParameters(params, deps.defaults);
  const volumes = parsed ? [parsed.hostingVolume] : await deps.hostingVolumes.list();
  const segments = req.accessible_topology?.segments ?? {};
  if (deps.topology && Object.keys(segments).length > 0) {
    // a segment naming another key is refused as CreateVolume refuses it
    const zone = zoneRequirement({ requisite: [{ segments }], preferred: [] }, deps.topology.key)?.requisite?.[0];
    const ha = parsed?.haCount ?? deps.defaults.haCount;
    if (zone !== undefined) {
      const inZone = (await deps.blockd.discovery.pool()).filter((m) => m.endpoint !== undefined && m.zone === zone).length;
      if (inZone < ha) {
        ctx.log.debug("no capacity in a zone with fewer storage nodes than haCount", { zone, storageNodes: inZone, haCount: ha });
        return NONE;
      }
    }
  }
  let total = 0n;
  let largest = 0n;
  for (const volume of volumes) {
    try {
      const s = await deps.blockd.any("GetVolumeSpace", { volume }, ctx);
      const avail = BigInt(s.available_bytes);
      total += avail;
      if (avail > largest) largest = avail;
    } catch (err) {
      if (!isCode(err, status.NOT_FOUND) && !isCode(err, status.FAILED_PRECONDITION)) throw err;
      ctx.log.warn("hosting volume has no capacity to offer", { volume, error: err instanceof Error ? err.message : String(err) });
    }
  }
  // sizes are whole MiB: the largest volume one create can make is the largest volume's room, rounded down
  const maximum = (largest / MiB) * MiB;
  return {
    available_capacity: total.toString(),
    maximum_volume_size: { value: (maximum > MAX_VOLUME_BYTES ? MAX_VOLUME_BYTES : maximum).toString() },
    minimum_volume_size: { value: MiB.toString() },
  };
}
