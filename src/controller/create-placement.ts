// Where CreateVolume's block goes, and where it can be used from. The hosts
// are, in order: the existing block's own (a retry converges it, whatever
// the loads or zones say now), the StorageClass's `hosts`, or a choice among
// the live, ready nodes: least loaded first, and with topology on and an
// accessibility requirement, within the zones it allows (zone-placement.ts).
// With topology on, the answer's accessible_topology is the zones of those
// hosts (volume-zones.ts), checked against the requirement: an existing
// block elsewhere is ALREADY_EXISTS (CSI: a volume of that name that is not
// accessible from the requirement), the class's own hosts elsewhere are
// RESOURCE_EXHAUSTED (unable to provision there).
import type { BlockInfo__Output } from "../generated/glusterblock/v1/BlockInfo.js";
import type { Topology } from "../generated/csi/v1/Topology.js";
import { alreadyExists, resourceExhausted } from "../rpc/errors.js";
import { zoneSegments } from "../csi/topology.js";
import type { NodeLoad } from "./blockd-client.js";
import type { ControllerDeps } from "./deps.js";
import type { VolumeParameters } from "./params.js";
import { rankNodes } from "./placement.js";
import { StorageZones } from "./storage-zones.js";
import { tooFewNodes } from "./too-few-nodes.js";
import { volumeZones } from "./volume-zones.js";
import { chooseInZones } from "./zone-placement.js";
import { describeRequirement, meetsRequirement, type ZoneRequirement } from "./zone-requirement.js";

export interface PlacementRequest {
  name: string;
  volumeId: string;
  params: VolumeParameters;
  /** the accessibility requirement in zones (only with topology on) */
  zones?: ZoneRequirement;
}

export interface Placement {
  hosts: string[];
  /** CreateVolume's accessible_topology ([] with topology off, or a volume confined to no zone) */
  topology: Topology[];
  /**
   * Ends the hosts' reservation: the create is counted in their loads from
   * the choice (made in the same synchronous step, so no other create can
   * choose between them) until blockd answers, when the nodes' own counts
   * have it. Once is enough; more are no-ops.
   */
  release: () => void;
}

const where = (zones: readonly string[]): string => `zone${zones.length > 1 ? "s" : ""} ${zones.join(", ")}`;

export async function placeVolume(
  deps: ControllerDeps,
  p: PlacementRequest,
  existing: BlockInfo__Output | undefined,
  nodes: readonly NodeLoad[],
): Promise<Placement> {
  const { params } = p;
  const fixed = existing && existing.hosts.length > 0 ? existing.hosts : params.hosts?.slice(0, params.haCount);
  const topology = deps.topology;
  if (!topology) {
    const hosts = fixed ?? chooseHosts(deps, params.haCount, nodes) ?? (await tooFewNodes(deps.blockd.discovery, params.hostingVolume, params.haCount, nodes));
    return { hosts, topology: [], release: deps.placements.reserve(hosts) };
  }
  const zones = new StorageZones(await deps.blockd.discovery.pool(), nodes);
  let hosts: string[];
  if (fixed) {
    hosts = fixed;
    const vz = volumeZones(zones, hosts);
    if (vz && !meetsRequirement(vz, p.zones) && p.zones) {
      const allowed = describeRequirement(p.zones);
      if (existing && existing.hosts.length > 0)
        throw alreadyExists(`volume ${p.name} exists (${p.volumeId}) in ${where(vz)}, which the request does not allow (${allowed})`);
      throw resourceExhausted(
        `the StorageClass's hosts ${hosts.join(",")} are in ${where(vz)}, and the request allows ${allowed}; change the class's hosts or its allowedTopologies`,
      );
    }
    return { hosts, topology: vz ? zoneSegments(topology.key, vz) : [], release: deps.placements.reserve(hosts) };
  }
  const requirement = p.zones;
  if (requirement) {
    const ranked = rankNodes(deps.placements.apply(nodes));
    const chosen = chooseInZones(ranked, params.haCount, (n) => zones.ofLoad(n), requirement);
    hosts =
      chosen?.map((n) => n.host) ??
      (await tooFewNodes(deps.blockd.discovery, params.hostingVolume, params.haCount, nodes, { zones, requirement, zoneLabel: topology.zoneLabel }));
  } else hosts = chooseHosts(deps, params.haCount, nodes) ?? (await tooFewNodes(deps.blockd.discovery, params.hostingVolume, params.haCount, nodes));
  const release = deps.placements.reserve(hosts);
  try {
    const vz = volumeZones(zones, hosts);
    return { hosts, topology: vz ? zoneSegments(topology.key, vz) : [], release };
  } catch (err) {
    release();
    throw err;
  }
}

/** The `ha` least-loaded live nodes, counting this controller's creates in flight (synchronous: nothing runs between the choice and its reservation). */
function chooseHosts(deps: ControllerDeps, ha: number, nodes: readonly NodeLoad[]): string[] | undefined {
  const ranked = rankNodes(deps.placements.apply(nodes));
  return ranked.length < ha ? undefined : ranked.slice(0, ha).map((n) => n.host);
}
