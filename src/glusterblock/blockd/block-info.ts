// A block's details (the engine's reading of its journal) as the BlockInfo
// GetBlock and ListBlocks{details} answer; its portals on the engine's iSCSI
// port, as CreateBlock answers them.
import type { BlockInfo } from "../../generated/glusterblock/v1/BlockInfo.js";
import type { BlockDetails } from "../engine/block-engine.js";
import { iqnFor, wwidFor } from "../../identity/names.js";
import { portalOf } from "../../identity/portal.js";
import { exportedOn, isDeleteStarted } from "../journal/index.js";

export function toBlockInfo(d: BlockDetails, iscsiPort: number): BlockInfo {
  return {
    name: d.info.name,
    volume: d.info.volume,
    gbid: d.info.gbid,
    size_bytes: d.info.sizeBytes.toString(),
    ha: d.info.ha,
    io_timeout_s: d.info.ioTimeout,
    password: d.info.password,
    exported_on: [...d.info.exportedOn],
    failed_on: [...d.info.failedOn],
    resize_failed_on: d.info.resizeFailedOn.map((r) => `${r.host}:${r.currentSizeBytes}`),
    iqn: iqnFor(d.meta.gbid),
    hosts: d.hosts,
    portals: d.hosts.filter((h) => d.info.exportedOn.includes(h)).map((h) => portalOf(h, iscsiPort)),
    acl_mode: d.aclMode === "EXPLICIT" ? "ACL_MODE_EXPLICIT" : "ACL_MODE_GENERATED",
    initiators: d.initiators,
    read_only_initiators: d.readOnlyInitiators,
    acl_synced: d.aclSynced,
    prio_path: d.meta.prioPath,
    owner: d.owner,
    wwid: wwidFor(d.meta.gbid),
    auth: d.meta.password !== "",
    state: isDeleteStarted(d.meta) ? "deleting" : d.meta.entryCreate !== "SUCCESS" ? "creating" : exportedOn(d.meta).length < d.meta.ha ? "degraded" : "ready",
  };
}
