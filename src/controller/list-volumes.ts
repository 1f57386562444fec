// ListVolumes: every block of the known hosting volumes, sorted by volume ID
// and paged (paging.ts), each entry with its journal's condition. One
// ListBlocks{details} per hosting volume brings the names and every block's
// BlockInfo (blockd reads the journals a few at a time), so a page costs one
// blockd call per hosting volume, not one GetBlock per entry.
import { status } from "@grpc/grpc-js";
import type { ListVolumesRequest__Output } from "../generated/csi/v1/ListVolumesRequest.js";
import type { ListVolumesResponse } from "../generated/csi/v1/ListVolumesResponse.js";
import type { BlockInfo__Output } from "../generated/glusterblock/v1/BlockInfo.js";
import type { RpcContext } from "../rpc/rpc.js";
import { formatVolumeId, type VolumeRef } from "../csi/volume-id.js";
import { pageOf } from "./paging.js";
import { volumeCondition } from "./volume-condition.js";
import { contextOf } from "./block-context.js";
import { findBlock, isCode } from "./blockd-lookup.js";
import type { ControllerDeps } from "./deps.js";
import { mapLimit } from "../util/map-limit.js";

/** GetBlock calls at once for the entries of a page a blockd listed without details (one older than ListBlocks details) */
const LOOKUPS = 8;

type Entry = NonNullable<ListVolumesResponse["entries"]>[number];

/** What a hosting volume's listing says of one block: its info, why its journal is unreadable, or nothing (GetBlock decides). */
interface Listed {
  ref: VolumeRef;
  info?: BlockInfo__Output;
  unreadable?: string;
}

export async function listVolumes(deps: ControllerDeps, req: ListVolumesRequest__Output, ctx: RpcContext): Promise<ListVolumesResponse> {
  const listed = new Map<string, Listed>();
  for (const volume of await deps.hostingVolumes.list()) {
    try {
      const l = await deps.blockd.any("ListBlocks", { volume, details: true }, ctx);
      const infos = new Map(l.infos.map((i) => [i.name, i]));
      const unreadable = new Map(l.unreadable.map((u) => [u.name, u.error]));
      for (const block of l.blocks) {
        const ref = { hostingVolume: volume, block };
        const info = infos.get(block);
        const why = unreadable.get(block);
        listed.set(formatVolumeId(ref), { ref, ...(info ? { info } : {}), ...(why !== undefined ? { unreadable: why } : {}) });
      }
    } catch (err) {
      if (!isCode(err, status.NOT_FOUND) && !isCode(err, status.FAILED_PRECONDITION)) throw err;
      ctx.log.warn("hosting volume not listable; skipped", { volume, error: err instanceof Error ? err.message : String(err) });
    }
  }
  const page = pageOf([...listed.keys()].sort(), req.starting_token, req.max_entries);
  const entries = await mapLimit(page.ids, LOOKUPS, async (id): Promise<Entry | undefined> => {
    const l = listed.get(id);
    if (!l) return undefined;
    if (l.unreadable !== undefined) {
      ctx.log.warn("block journal unreadable; listed as abnormal", { volumeId: id, error: l.unreadable });
      return unreadableEntry(id, l.unreadable);
    }
    // listed without details: a create not begun or a block gone since (GetBlock: NOT_FOUND), or a blockd older than details
    const info = l.info ?? (await findBlock(deps.blockd, l.ref, ctx));
    if (!info) return undefined;
    return {
      volume: { volume_id: id, capacity_bytes: info.size_bytes, volume_context: contextOf(info, l.ref) },
      status: { published_node_ids: [], volume_condition: volumeCondition(info) },
    };
  });
  return { entries: entries.filter((e) => e !== undefined), next_token: page.nextToken };
}

/** A block whose journal blockd cannot read: listed (it exists, and may be in use), its size unknown, its condition abnormal. */
function unreadableEntry(id: string, why: string): Entry {
  return {
    volume: { volume_id: id, capacity_bytes: "0", volume_context: {} },
    status: { published_node_ids: [], volume_condition: { abnormal: true, message: `the block's metadata journal cannot be read: ${why}` } },
  };
}
