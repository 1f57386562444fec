// The HA hosts of a new volume under a zone requirement: the preferred zones
// first, in their order, each filled with its least-loaded nodes (so with
// enough nodes the whole HA set, and the first host, which coordinates the
// create and carries the ALUA active path, are in the most wanted zone: the
// pod's, for WaitForFirstConsumer); then the other requisite zones' nodes,
// least loaded first. A storage node in no zone is never placed into a
// zone it may not be in: it is taken only when the requirement gives no
// requisite zones at all.
import type { NodeLoad } from "./blockd-client.js";
import type { ZoneRequirement } from "./zone-requirement.js";

/**
 * `ranked`: the live, ready nodes, least loaded first (placement.ts), loads
 * counting the creates in flight. Undefined when the allowed nodes are fewer
 * than `ha`.
 */
export function chooseInZones(
  ranked: readonly NodeLoad[],
  ha: number,
  zoneOf: (n: NodeLoad) => string | undefined,
  r: ZoneRequirement,
): NodeLoad[] | undefined {
  const chosen: NodeLoad[] = [];
  const take = (allowed: (n: NodeLoad) => boolean): void => {
    for (const n of ranked) {
      if (chosen.length >= ha) return;
      if (!chosen.includes(n) && allowed(n)) chosen.push(n);
    }
  };
  for (const zone of r.preferred) take((n) => zoneOf(n) === zone);
  const requisite = r.requisite;
  if (requisite) {
    take((n) => {
      const z = zoneOf(n);
      return z !== undefined && requisite.includes(z);
    });
  } else take(() => true);
  return chosen.length < ha ? undefined : chosen;
}
