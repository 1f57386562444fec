// The two blockd calls of `gluster-block-csi import`: GetBlock (what the
// block is, with its CHAP password) and AdoptBlock (its dry run judges
// whether it can be adopted at all: a journal with fields neither the
// original nor this driver writes, a host whose blockd does not answer, a TPG
// order LIO does not hold; the real one converts it). Over the controller's
// BlockdClient, so the import reaches blockd as the controller does (TLS, key).
import type { BlockInfo__Output } from "../../generated/glusterblock/v1/BlockInfo.js";
import type { AdoptBlockResponse__Output } from "../../generated/glusterblock/v1/AdoptBlockResponse.js";
import type { BlockdClient } from "../blockd-client.js";
import type { BlockFacts } from "./translate-pv.js";

export interface ImportBlockd {
  getBlock(volume: string, block: string): Promise<BlockInfo__Output>;
  adoptBlock(volume: string, block: string, dryRun: boolean): Promise<AdoptBlockResponse__Output>;
}

/** The import's calls over the controller's blockd client (any reachable blockd). */
export function importBlockdOver(client: BlockdClient): ImportBlockd {
  return {
    getBlock: (volume, block) => client.any("GetBlock", { volume, block }),
    // no initiator named: those logged in now are let in by AdoptBlock itself; every other one by ControllerPublish
    adoptBlock: (volume, block, dryRun) => client.any("AdoptBlock", { volume, block, initiators: [], dry_run: dryRun }),
  };
}

/** translate-pv's facts from GetBlock's answer. */
export function blockFacts(info: BlockInfo__Output): BlockFacts {
  return {
    hostingVolume: info.volume,
    block: info.name,
    gbid: info.gbid,
    iqn: info.iqn,
    wwid: info.wwid,
    portals: [...info.portals],
    ha: info.ha,
    sizeBytes: BigInt(info.size_bytes),
    auth: info.auth,
    password: info.password,
  };
}
