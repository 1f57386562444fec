// Which storage nodes serve a new volume: the live, ready ones, least loaded
// first (fewest ALUA active paths, then fewest targets), as the original
// balanced its active paths; the address breaks ties so the choice is stable.
import { canonicalHost } from "../identity/names.js";
import type { NodeLoad } from "./blockd-client.js";

export function rankNodes(nodes: readonly NodeLoad[]): NodeLoad[] {
  const seen = new Set<string>();
  return nodes
    .filter((n) => n.ready && n.host !== "")
    .filter((n) => {
      const h = canonicalHost(n.host);
      if (seen.has(h)) return false;
      seen.add(h);
      return true;
    })
    .sort((a, b) => a.activePaths - b.activePaths || a.targets - b.targets || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}
