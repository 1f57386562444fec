// Which zone each storage node is in, as discovery found them (the zone
// label of a blockd pod's Node, or --blockd-zones), joined with the live
// nodes' own addresses: a live node is found by its endpoint, an HA host of
// an existing block by the address blockd recorded for it (through the live
// node that has it, or the pod's host IP when that node does not answer).
import { canonicalHost } from "../identity/names.js";
import type { NodeLoad } from "./blockd-client.js";
import type { PoolMember } from "./discovery.js";

export class StorageZones {
  private readonly byEndpoint = new Map<string, PoolMember>();

  constructor(
    readonly pool: readonly PoolMember[],
    private readonly nodes: readonly NodeLoad[],
  ) {
    for (const m of pool) if (m.endpoint) this.byEndpoint.set(m.endpoint, m);
  }

  /** the zone of a live node; undefined: in no zone */
  ofLoad(n: NodeLoad): string | undefined {
    return this.byEndpoint.get(n.endpoint)?.zone;
  }

  /**
   * The zone of an HA host address: `{ zone }` (zone undefined: the node is
   * in no zone), or undefined when no storage node is known at that address
   * (its blockd is not running: nobody can say where it is).
   */
  ofHost(host: string): { zone?: string } | undefined {
    const h = canonicalHost(host);
    const live = this.nodes.find((n) => canonicalHost(n.host) === h);
    const member = (live && this.byEndpoint.get(live.endpoint)) ?? this.pool.find((m) => m.address !== undefined && canonicalHost(m.address) === h);
    if (!member) return undefined;
    return member.zone !== undefined ? { zone: member.zone } : {};
  }

  /** every storage node (ready or not) in one of `zones` */
  membersIn(zones: readonly string[]): PoolMember[] {
    return this.pool.filter((m) => m.zone !== undefined && zones.includes(m.zone));
  }

  /** storage nodes in no zone */
  zoneless(): PoolMember[] {
    return this.pool.filter((m) => m.zone === undefined);
  }
}
