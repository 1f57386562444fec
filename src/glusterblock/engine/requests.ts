// What the engine is asked to do; the blockd API and the CLI map onto these.
import type { CreateCommand } from "../types.js";

export type AclMode = "GENERATED" | "EXPLICIT";

export interface CreateRequest extends Omit<CreateCommand, "kind"> {
  aclMode: AclMode;
  owner: string;
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
