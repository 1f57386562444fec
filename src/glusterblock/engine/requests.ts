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
