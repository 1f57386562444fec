// Where a volume can be used from: the zones of its HA hosts. A volume whose
// hosts are all in zones is confined to those zones (CreateVolume's
// accessible_topology, one segment per zone, which the provisioner turns
// into the PV's node affinity: a pod may run where any of its targets' zones
// is). A volume with a host in no zone is confined to none: its
// accessible_topology is empty and the PV has no node affinity, as without
// topology. The answer comes from the hosts alone, so a retried CreateVolume
// of an existing block answers what the first one did.
import { unavailable } from "../rpc/errors.js";
import type { StorageZones } from "./storage-zones.js";

/** The zones of a volume on `hosts`, in host order, each once; undefined when one host is in no zone. UNAVAILABLE when a host's node cannot be found. */
export function volumeZones(zones: StorageZones, hosts: readonly string[]): string[] | undefined {
  const out: string[] = [];
  let confined = true;
  for (const h of hosts) {
    const z = zones.ofHost(h);
    if (!z)
      throw unavailable(
        `cannot tell the zone of HA host ${h}: no gluster-blockd pod or endpoint is known at that address now; the volume's accessible topology needs it (retry when its blockd runs)`,
      );
    if (z.zone === undefined) confined = false;
    else if (!out.includes(z.zone)) out.push(z.zone);
  }
  return confined ? out : undefined;
}
