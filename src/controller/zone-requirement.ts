// CreateVolume's accessibility_requirements, read as zones. The driver has
// one topology key (topology.<driver>/zone, src/csi/topology.ts); a segment
// naming any other key is refused (INVALID_ARGUMENT naming it) rather than
// read as "anywhere": a StorageClass whose allowedTopologies names the wrong
// key, or nodes reporting other keys (GBCSI_TOPOLOGY), would otherwise get
// volumes placed against what they asked. external-provisioner builds the
// requirement from the nodes' labels and the class's allowedTopologies
// (its README, "Topology support"): requisite = the zones the volume may be
// in, preferred = the same zones, the most wanted first (the selected node's
// zone for WaitForFirstConsumer).
import type { TopologyRequirement__Output } from "../generated/csi/v1/TopologyRequirement.js";
import type { Topology__Output } from "../generated/csi/v1/Topology.js";
import { invalidArgument } from "../rpc/errors.js";
import { isLabelValue } from "../csi/topology.js";

export interface ZoneRequirement {
  /** the zones the volume may be made in; undefined: anywhere (only preferences were given) */
  requisite?: readonly string[];
  /** the zones to fill first, most wanted first (within requisite) */
  preferred: readonly string[];
}

function zonesOf(list: readonly Topology__Output[], field: string, key: string): string[] {
  const out: string[] = [];
  list.forEach((t, i) => {
    const segments = t.segments ?? {};
    for (const k of Object.keys(segments).sort()) {
      if (k !== key)
        throw invalidArgument(
          `${field}[${i}]: topology key ${JSON.stringify(k)} is not this driver's; it places volumes by ${key} alone ` +
            `(a StorageClass's allowedTopologies must name that key; the node plugins must report no other: see GBCSI_TOPOLOGY / the chart's node.topology)`,
        );
    }
    const zone = segments[key];
    // an empty segment constrains nothing
    if (zone === undefined) return;
    if (zone === "" || !isLabelValue(zone)) throw invalidArgument(`${field}[${i}]: ${JSON.stringify(zone)} is not a zone (a label value)`);
    if (!out.includes(zone)) out.push(zone);
  });
  return out;
}

/** The requirement in zones; undefined when it constrains nothing (none given, or only empty segments). */
export function zoneRequirement(req: TopologyRequirement__Output | null | undefined, key: string): ZoneRequirement | undefined {
  if (!req) return undefined;
  const requisite = zonesOf(req.requisite ?? [], "accessibility_requirements.requisite", key);
  let preferred = zonesOf(req.preferred ?? [], "accessibility_requirements.preferred", key);
  // CSI: with requisite given, every preferred one is in it; one that is not cannot be honoured
  if (requisite.length > 0) preferred = preferred.filter((z) => requisite.includes(z));
  if (requisite.length === 0 && preferred.length === 0) return undefined;
  return { ...(requisite.length > 0 ? { requisite } : {}), preferred };
}

/** Whether a volume in `zones` (undefined: confined to none, reachable from everywhere) can be used from a zone the requirement allows. */
export function meetsRequirement(zones: readonly string[] | undefined, r: ZoneRequirement | undefined): boolean {
  if (!r?.requisite || zones === undefined) return true;
  return zones.some((z) => r.requisite?.includes(z));
}

export function describeRequirement(r: ZoneRequirement): string {
  return r.requisite ? `zone${r.requisite.length > 1 ? "s" : ""} ${r.requisite.join(", ")}` : `preferably zone ${r.preferred.join(", ")}`;
}
