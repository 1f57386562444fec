// The volume context of a block as CreateVolume made it, from blockd's view
// of the block (ListVolumes and ControllerGetVolume answer it).
import type { BlockInfo__Output } from "../generated/glusterblock/v1/BlockInfo.js";
import { toVolumeContext } from "../csi/volume-context.js";
import type { VolumeRef } from "../csi/volume-id.js";

export function contextOf(info: BlockInfo__Output, ref: VolumeRef): Record<string, string> {
  return toVolumeContext({
    iqn: info.iqn,
    portals: info.portals,
    lun: 0,
    hostingVolume: ref.hostingVolume,
    gbid: info.gbid,
    ha: info.ha,
    wwid: info.wwid,
    fsType: "",
    auth: info.auth,
  });
}
