// How the coordinating node reaches the HA hosts (itself included).
export interface PeerRef {
  volume: string;
  block: string;
  gbid: string;
}

export interface TargetResult {
  host: string;
  /** the target exists on the host after the call */
  present: boolean;
  /** and matches the journal */
  matches: boolean;
  detail: string;
}

/** One block's answer in a status of many: its result, or why it could not be read (what status() would have thrown). */
export type TargetStatusAnswer = TargetResult | { host: string; error: string };

export interface NodeStatusInfo {
  host: string;
  version: string;
  targets: number;
  /** targets whose ALUA active/optimized path is this host: the original balanced these */
  activePaths: number;
  ready: boolean;
}

/** One TPG of a block's target as a host's LIO holds it, with who is logged in to it now. */
export interface InspectedTpg {
  tag: number;
  enabled: boolean;
  /** `ip:port` */
  portals: string[];
  generateNodeAcls: boolean;
  /** initiators logged in now through a generated ACL (demo mode) */
  dynamicSessions: string[];
  /** initiators logged in now through their explicit ACL */
  aclSessions: string[];
}

/** What a host's LIO holds of a block's target, read only (an adoption's survey). */
export interface TargetInspection {
  host: string;
  /** the target exists there */
  present: boolean;
  tpgs: InspectedTpg[];
}

export interface Peers {
  apply(host: string, ref: PeerRef): Promise<TargetResult>;
  remove(host: string, ref: PeerRef): Promise<TargetResult>;
  status(host: string, ref: PeerRef): Promise<TargetResult>;
  /** status() of many blocks on one host in one round trip (the audit); an answer per ref, in order */
  statusMany(host: string, refs: readonly PeerRef[]): Promise<TargetStatusAnswer[]>;
  ping(host: string, timeoutMs?: number): Promise<NodeStatusInfo>;
  inspect(host: string, ref: PeerRef): Promise<TargetInspection>;
}

/**
 * How long a peer may take to answer a Ping before it counts as unreachable.
 * A node busy with a burst of creates answers late, not never: in the lab, 20
 * CreateVolume at once on one-vCPU nodes made 2 of them fail at 5 s with a
 * peer that was up. A refused connection fails at once whatever this is.
 */
export const PING_TIMEOUT_MS = 20_000;
