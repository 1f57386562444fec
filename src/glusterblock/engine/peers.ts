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

export interface NodeStatusInfo {
  host: string;
  version: string;
  targets: number;
  /** targets whose ALUA active/optimized path is this host: the original balanced these */
  activePaths: number;
  ready: boolean;
}

export interface Peers {
  apply(host: string, ref: PeerRef): Promise<TargetResult>;
  remove(host: string, ref: PeerRef): Promise<TargetResult>;
  status(host: string, ref: PeerRef): Promise<TargetResult>;
  ping(host: string, timeoutMs?: number): Promise<NodeStatusInfo>;
}
