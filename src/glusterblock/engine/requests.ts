// What the engine is asked to do; the blockd API and the CLI map onto these.

export type AclMode = "GENERATED" | "EXPLICIT";

export interface CreateRequest {
  readonly volume: string;
  readonly block: string;
  /** Number of hosts exporting the block (the first `ha` of `hosts`). */
  readonly ha: number;
  readonly auth: boolean;
  /** Fully allocate the backing file. */
  readonly prealloc: boolean;
  readonly ringBufferMb?: number;
  readonly blockSize?: number;
  readonly ioTimeout?: number;
  /** Adopt an existing file on the volume instead of creating one; then there is no size. */
  readonly storage?: string;
  readonly hosts: readonly string[];
  readonly sizeBytes?: bigint;
  aclMode: AclMode;
  owner: string;
  /** A block that exists complete is refused (BlockExistsError), as the original's CLI; otherwise it is answered as it is. */
  failIfExists?: boolean;
}

export interface CreateOutcome {
  iqn: string;
  gbid: string;
  wwid: string;
  portals: string[];
  username?: string;
  password?: string;
  sizeBytes: bigint;
  alreadyExisted: boolean;
}

export interface HostsOutcome {
  successfulOn: string[];
  failedOn: string[];
}

export interface AdoptRequest {
  readonly volume: string;
  readonly block: string;
  /** initiators to let in beside those logged in now */
  readonly initiators: readonly string[];
  /** judge and answer; write nothing */
  readonly dryRun: boolean;
}

export interface AdoptOutcome extends HostsOutcome {
  /** "adopted": this call changed it; "already-adopted": nothing to do; "dry-run": `changes` would be made */
  outcome: "adopted" | "already-adopted" | "dry-run";
  gbid: string;
  iqn: string;
  wwid: string;
  sizeBytes: bigint;
  /** HA hosts in TPG order */
  hosts: string[];
  portals: string[];
  /** let in read-write once adopted */
  initiators: string[];
  /** who was logged in to each host's target (empty for an already adopted block: not asked) */
  sessions: { host: string; initiators: string[] }[];
  changes: string[];
  auth: boolean;
}
