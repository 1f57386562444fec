// The creates this controller has in flight, counted against the nodes they
// chose. A node's GetNodeStatus counts a target only once it exists, so a
// burst of CreateVolume calls (a StatefulSet scaling up) would all see the
// same loads and all put their active path, and their coordination, on the
// same node: measured in the lab, 20 creates at once all coordinated by n1
// (n1 at 100% CPU, n2 and n3 at 30%) and took as long as 20 in a row.
import { canonicalHost } from "../identity/names.js";
import type { NodeLoad } from "./blockd-client.js";

export class PlacementReservations {
  /** creates in flight whose first host (its ALUA active path and coordinator) is the node */
  private readonly active = new Map<string, number>();
  /** creates in flight with a target on the node */
  private readonly targets = new Map<string, number>();

  /** `nodes` with this controller's creates in flight added to their loads. */
  apply(nodes: readonly NodeLoad[]): NodeLoad[] {
    return nodes.map((n) => {
      const h = canonicalHost(n.host);
      return { ...n, activePaths: n.activePaths + (this.active.get(h) ?? 0), targets: n.targets + (this.targets.get(h) ?? 0) };
    });
  }

  /** Counts a create serving from `hosts` (hosts[0] first) until the returned release is called (once is enough; more are no-ops). */
  reserve(hosts: readonly string[]): () => void {
    const keys = hosts.map(canonicalHost);
    const first = keys[0];
    if (first !== undefined) bump(this.active, first, 1);
    for (const h of keys) bump(this.targets, h, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (first !== undefined) bump(this.active, first, -1);
      for (const h of keys) bump(this.targets, h, -1);
    };
  }
}

function bump(m: Map<string, number>, key: string, by: number): void {
  const v = (m.get(key) ?? 0) + by;
  if (v <= 0) m.delete(key);
  else m.set(key, v);
}
