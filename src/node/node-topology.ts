// What NodeGetInfo reports as this node's accessible topology. In order:
//   1. GBCSI_TOPOLOGY, when set: those segments, as written (an override;
//      the controller places volumes by the zone key alone, see
//      src/controller/README.md "Topology").
//   2. GBCSI_ZONE_LABEL, when set: the value of that label on this node's
//      own Node object (read through the API at each registration), under
//      the driver's key topology.<driver>/zone. A node without the label
//      reports no segment: it is in no zone (volumes confined to a zone
//      cannot be used there; see the README for what else follows).
//   3. Neither: no topology, as before topology existed.
// The kubelet calls NodeGetInfo when the plugin registers, so a node's zone
// is read once per plugin start; a read that fails fails NodeGetInfo
// (UNAVAILABLE) and the registration is tried again, rather than register a
// node without its zone.
import { unavailable } from "../rpc/errors.js";
import { isLabelValue } from "../csi/topology.js";
import type { Logger } from "../util/log.js";
import { NodeLabelsError, type NodeLabels } from "./node-labels.js";

export interface TopologySettings {
  /** GBCSI_TOPOLOGY's segments ({} when unset) */
  override: Record<string, string>;
  /** the Node label holding the node's zone (GBCSI_ZONE_LABEL); undefined: none is read */
  zoneLabel?: string;
  /** the driver's topology key */
  zoneKey: string;
  /** this node's name (its Node object) */
  nodeName: string;
}

export type TopologySource = () => Promise<Record<string, string>>;

export function topologySource(s: TopologySettings, log: Logger, readLabels?: NodeLabels): TopologySource {
  if (Object.keys(s.override).length > 0) return () => Promise.resolve({ ...s.override });
  const label = s.zoneLabel;
  if (label === undefined) return () => Promise.resolve({});
  if (!readLabels) throw new Error("a zone label to read needs a Kubernetes API to read it from");
  return async () => {
    let labels: Record<string, string> | undefined;
    try {
      labels = await readLabels(s.nodeName);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      const hint = err instanceof NodeLabelsError && err.httpStatus === 403 ? "; the chart grants it with topology.enabled" : "";
      throw unavailable(`cannot read this node's zone (label ${label} of Node ${s.nodeName}): ${why}${hint}`, err);
    }
    if (labels === undefined) throw unavailable(`cannot read this node's zone: there is no Node ${s.nodeName} (--node-id must be the Kubernetes node name)`);
    const zone = labels[label];
    if (zone === undefined || zone === "") {
      log.warn("this node has no zone label: it reports no topology, so volumes confined to a zone cannot be used here", {
        node: s.nodeName,
        label,
      });
      return {};
    }
    // a label value is one already; checked because the kubelet writes it onto the Node under our key
    if (!isLabelValue(zone)) throw unavailable(`Node ${s.nodeName}'s label ${label}=${JSON.stringify(zone)} is not a label value`);
    return { [s.zoneKey]: zone };
  };
}
