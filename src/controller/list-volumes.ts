// ListVolumes: every block of the known hosting volumes, sorted by volume ID
// and paged (paging.ts), each entry with the condition ControllerGetVolume
// reports (the journal's view and LIO's on every HA host: volume-condition.ts)
// and the nodes it is published to (its ACLs' initiators, named by CSINodes).
// A page costs one ListBlocks{details} per hosting volume and one
// GetTargetStatuses per hosting volume and 200 of its entries
// (volume-survey.ts), not a GetBlock and a GetTargetStatus per entry.
import type { ListVolumesRequest__Output } from "../generated/csi/v1/ListVolumesRequest.js";
import type { ListVolumesResponse } from "../generated/csi/v1/ListVolumesResponse.js";
import type { BlockInfo__Output } from "../generated/glusterblock/v1/BlockInfo.js";
import type { RpcContext } from "../rpc/rpc.js";
import { pageOf } from "./paging.js";
import { conditionOf } from "./volume-condition.js";
import { contextOf } from "./block-context.js";
import { findBlock } from "./blockd-lookup.js";
import type { ControllerDeps } from "./deps.js";
import { lioChecks, surveyBlocks, type SurveyedBlock } from "./volume-survey.js";
import { mapLimit } from "../util/map-limit.js";

/** GetBlock calls at once for the entries of a page a blockd listed without details (one older than ListBlocks details) */
const LOOKUPS = 8;

type Entry = NonNullable<ListVolumesResponse["entries"]>[number];

export async function listVolumes(deps: ControllerDeps, req: ListVolumesRequest__Output, ctx: RpcContext): Promise<ListVolumesResponse> {
  const survey = await surveyBlocks(deps, ctx, ctx.log);
  const page = pageOf([...survey.blocks.keys()].sort(), req.starting_token, req.max_entries);
  const read = await mapLimit(page.ids, LOOKUPS, async (id): Promise<{ id: string; l: SurveyedBlock; info?: BlockInfo__Output } | undefined> => {
    const l = survey.blocks.get(id);
    if (!l) return undefined;
    if (l.unreadable !== undefined) return { id, l };
    // listed without details: a create not begun or a block gone since (GetBlock: NOT_FOUND), or, when
    // the listing had no details at all, a blockd older than details: only then is GetBlock worth asking
    if (!l.info && l.detailed) return undefined;
    const info = l.info ?? (await findBlock(deps.blockd, l.ref, ctx));
    return info ? { id, l, info } : undefined;
  });
  const live = read.filter((r) => r?.info !== undefined);
  const checks = await lioChecks(
    deps,
    live.map((r) => r?.l.ref).filter((r) => r !== undefined),
    ctx,
    ctx.log,
  );
  // one CSINode listing for the page at most; a failed one fails the call rather than report a published volume as not
  await deps.nodeIds.refresh(
    live.flatMap((r) => r?.info?.initiators ?? []),
    { strict: true },
  );
  const entries = read.map((r): Entry | undefined => {
    if (!r) return undefined;
    if (!r.info) {
      ctx.log.warn("block journal unreadable; listed as abnormal", { volumeId: r.id, error: r.l.unreadable });
      return unreadableEntry(r.id, r.l.unreadable ?? "");
    }
    return {
      volume: { volume_id: r.id, capacity_bytes: r.info.size_bytes, volume_context: contextOf(r.info, r.l.ref) },
      status: { published_node_ids: deps.nodeIds.lookup(r.info.initiators), volume_condition: conditionOf(r.info, checks.get(r.id)) },
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
