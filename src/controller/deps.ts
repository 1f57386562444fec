// What the controller service is built from.
import type { BlockdClient } from "./blockd-client.js";
import type { ChapSecrets } from "./chap-secrets.js";
import type { PvcEvents } from "./pvc-events.js";
import type { VolumeLocks } from "./volume-locks.js";
import type { ParameterDefaults } from "./params.js";
import type { HostingVolumes } from "./hosting-volumes.js";
import type { NodeIdBook } from "./node-ids.js";
import type { PlacementReservations } from "./placement-reservations.js";
import type { HealthTransitions } from "./health-transitions.js";

/** Topology on (--topology): CreateVolume places by zone, GetCapacity answers per zone. */
export interface ControllerTopology {
  /** the driver's topology key, topology.<driver>/zone */
  key: string;
  /** the Node label storage nodes' zones are read from; "" when they come from --blockd-zones */
  zoneLabel: string;
}

export interface ControllerDeps {
  blockd: BlockdClient;
  secrets: ChapSecrets;
  events: PvcEvents;
  locks: VolumeLocks;
  /** creates in flight, counted in the node loads that place the next ones */
  placements: PlacementReservations;
  hostingVolumes: HostingVolumes;
  nodeIds: NodeIdBook;
  /** the volumes last seen abnormal: DegradedHA / HARestored on a change (ControllerGetVolume and the health check) */
  health: HealthTransitions;
  defaults: ParameterDefaults;
  /** CreateVolume without a capacity range */
  defaultSizeBytes: bigint;
  /** undefined: topology off (requirements ignored, no accessible_topology, one capacity for every segment) */
  topology?: ControllerTopology;
}
