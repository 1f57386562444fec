// The driver's one topology key, shared by the node plugin (NodeGetInfo
// reports it) and the controller (CreateVolume places by it, GetCapacity
// answers per value of it). A key of the driver's own, as ceph-csi
// (topology.rbd.csi.ceph.com/zone) and the cloud drivers
// (topology.ebs.csi.aws.com/zone) do, never the standard
// topology.kubernetes.io/zone itself: the kubelet writes every key a
// plugin reports onto its Node as a label, and refuses to register a
// plugin whose value differs from a label already there, so a shared key
// would collide with whoever else sets it.
import type { Topology } from "../generated/csi/v1/Topology.js";

/** The standard Node label a node's zone is read from, unless configured otherwise. */
export const ZONE_NODE_LABEL = "topology.kubernetes.io/zone";

/** The topology key of a driver: `topology.<driver name>/zone` (the default driver's: topology.block.csi.gluster.org/zone). */
export function zoneKey(driverName: string): string {
  return `topology.${driverName}/zone`;
}

/** One segment per zone, in the order given, each zone once. */
export function zoneSegments(key: string, zones: readonly string[]): Topology[] {
  return [...new Set(zones)].map((zone) => ({ segments: { [key]: zone } }));
}

/**
 * Whether a text is a Kubernetes label value (what a zone must be, since the
 * kubelet writes it onto the Node): at most 63 characters, alphanumerics,
 * '-', '_' and '.', starting and ending with an alphanumeric; empty is one too.
 */
export function isLabelValue(v: string): boolean {
  return v.length <= 63 && /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v);
}

/** Whether a text is a Kubernetes label key: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters. */
export function isLabelKey(k: string): boolean {
  const slash = k.lastIndexOf("/");
  const prefix = slash >= 0 ? k.slice(0, slash) : undefined;
  const name = slash >= 0 ? k.slice(slash + 1) : k;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(prefix)))
    return false;
  return name.length > 0 && name.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name);
}
