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

export interface Peers {
  apply(host: string, ref: PeerRef): Promise<TargetResult>;
  remove(host: string, ref: PeerRef): Promise<TargetResult>;
  status(host: string, ref: PeerRef): Promise<TargetResult>;
  /** status() of many blocks on one host in one round trip (the audit); an answer per ref, in order */
  statusMany(host: string, refs: readonly PeerRef[]): Promise<TargetStatusAnswer[]>;
  ping(host: string, timeoutMs?: number): Promise<NodeStatusInfo>;
}
