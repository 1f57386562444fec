// Why no HA set could be chosen for a new volume, as the code that tells the
// external-provisioner what to do next (pkg/controller/controller.go,
// checkError, v4.0.1 to v5.3.0 alike):
//   - fewer storage nodes configured than haCount (the static list, or every
//     blockd pod, ready or not) can never succeed: INVALID_ARGUMENT, final.
//     Not OUT_OF_RANGE, which the CSI spec keeps for capacity.
//   - enough nodes, but fewer than haCount in the zones the request allows:
//     RESOURCE_EXHAUSTED, the CSI spec's code for "unable to provision in
//     accessible_topology". Final for an Immediate claim; for a
//     WaitForFirstConsumer claim the provisioner gives the node back to the
//     scheduler (ProvisioningReschedule), which may pick one in a zone that
//     can hold the volume.
//   - enough configured, fewer ready: UNAVAILABLE (retried), naming which
//     are not ready.
import { invalidArgument, resourceExhausted, unavailable } from "../rpc/errors.js";
import type { NodeLoad } from "./blockd-client.js";
import type { BlockdDiscovery, PoolMember } from "./discovery.js";
import { rankNodes } from "./placement.js";
import type { StorageZones } from "./storage-zones.js";
import { describeRequirement, type ZoneRequirement } from "./zone-requirement.js";

/** A zone requirement the choice was made under, with the storage nodes' zones. */
export interface ZoneScope {
  zones: StorageZones;
  requirement: ZoneRequirement;
  /** the Node label the zones come from, for the message ("" when they come from a flag) */
  zoneLabel: string;
}

const label = (m: PoolMember): string => (m.endpoint && m.endpoint !== m.name ? `${m.name} (${m.endpoint})` : m.name);

function perZone(members: readonly PoolMember[], zones: readonly string[]): string {
  return zones
    .map((z) => {
      const inZone = members.filter((m) => m.zone === z);
      return `${z}: ${inZone.length}${inZone.length > 0 ? ` (${inZone.map((m) => m.name).join(", ")})` : ""}`;
    })
    .join("; ");
}

function zoneExhausted(ha: number, hostingVolume: string, scope: ZoneScope, requisite: readonly string[], discovery: BlockdDiscovery): never {
  const inZones = scope.zones.membersIn(requisite);
  const zoneless = scope.zones.zoneless();
  const unlabelled =
    zoneless.length > 0
      ? `; in no zone: ${zoneless.map((m) => m.name).join(", ")}${scope.zoneLabel ? ` (label their Nodes ${scope.zoneLabel}=<zone>)` : ""}`
      : "";
  throw resourceExhausted(
    `haCount ${ha} needs ${ha} storage nodes in ${describeRequirement(scope.requirement)}, which ${requisite.length > 1 ? "have" : "has"} ${inZones.length} ` +
      `(${perZone(inZones, requisite)}${unlabelled}; ${discovery.describeZones()}) for hosting volume ${hostingVolume}'s blocks; ` +
      `lower haCount in the StorageClass, allow more zones (its allowedTopologies, or volumeBindingMode), or add storage nodes to the zone`,
  );
}

export async function tooFewNodes(
  discovery: BlockdDiscovery,
  hostingVolume: string,
  ha: number,
  nodes: readonly NodeLoad[],
  scope?: ZoneScope,
): Promise<never> {
  const pool = await discovery.pool();
  if (pool.length < ha) {
    throw invalidArgument(
      `haCount ${ha} is more than the ${pool.length} storage nodes that can export hosting volume ${hostingVolume}'s blocks (${discovery.describe()}); lower haCount in the StorageClass or add nodes`,
    );
  }
  const requisite = scope?.requirement.requisite;
  if (scope && requisite && scope.zones.membersIn(requisite).length < ha) zoneExhausted(ha, hostingVolume, scope, requisite, discovery);
  // the nodes that could serve: every one, or those in the allowed zones
  const eligible = scope && requisite ? scope.zones.membersIn(requisite) : pool;
  const eligibleEndpoints = new Set(eligible.map((m) => m.endpoint).filter((e) => e !== undefined));
  const live = rankNodes(nodes).filter((n) => eligibleEndpoints.has(n.endpoint));
  const liveEndpoints = new Set(live.map((n) => n.endpoint));
  const answered = new Set(nodes.map((n) => n.endpoint));
  const notReady = eligible.map((m) => {
    if (m.notCounted) return `${m.name}: ${m.notCounted}`;
    if (!m.endpoint) return undefined;
    if (!answered.has(m.endpoint)) return `${label(m)}: gluster-blockd does not answer`;
    if (!liveEndpoints.has(m.endpoint)) return `${label(m)}: gluster-blockd reports not ready`;
    return undefined;
  });
  const where = scope && requisite ? ` in ${describeRequirement(scope.requirement)}` : "";
  throw unavailable(
    `haCount ${ha} needs ${ha} live gluster-blockd nodes${where}; ${live.length} of ${eligible.length} answer and are ready (${discovery.describe()}); not ready: ${
      notReady.filter((x) => x !== undefined).join("; ") || "none named"
    }`,
  );
}
