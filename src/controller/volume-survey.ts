// What ListVolumes and the health check read of the volumes: every block of
// the known hosting volumes, one ListBlocks{details} per hosting volume
// (blockd reads the journals a few at a time), and LIO's view of many blocks,
// one GetTargetStatuses per hosting volume and 200 blocks (each HA host asked
// once for all of its blocks), instead of a GetBlock and a GetTargetStatus
// per volume.
import { status } from "@grpc/grpc-js";
import type { BlockInfo__Output } from "../generated/glusterblock/v1/BlockInfo.js";
import { formatVolumeId, type VolumeRef } from "../csi/volume-id.js";
import type { Logger } from "../util/log.js";
import type { Caller } from "./blockd-client.js";
import { isCode } from "./blockd-lookup.js";
import type { ControllerDeps } from "./deps.js";
import type { LioCheck } from "./volume-condition.js";

/** What a hosting volume's listing says of one block: its info, why its journal is unreadable, or nothing (a create not begun, a blockd without details). */
export interface SurveyedBlock {
  ref: VolumeRef;
  info?: BlockInfo__Output;
  unreadable?: string;
  /**
   * The listing carried details (some block's info or unreadable journal),
   * so blockd knows them: a block it gave neither is one GetBlock would not
   * answer either (a create not begun, gone since the listing).
   */
  detailed: boolean;
}

export interface Survey {
  /** volume ID -> what the listing says */
  blocks: Map<string, SurveyedBlock>;
  /** the hosting volumes that were listed (one that is not there or not started has no blocks to offer) */
  listed: Set<string>;
}

/** blocks one GetTargetStatuses call asks about */
export const STATUS_CHUNK = 200;

export async function surveyBlocks(deps: ControllerDeps, caller: Caller, log: Logger): Promise<Survey> {
  const blocks = new Map<string, SurveyedBlock>();
  const listed = new Set<string>();
  for (const volume of await deps.hostingVolumes.list()) {
    try {
      const l = await deps.blockd.any("ListBlocks", { volume, details: true }, caller);
      const infos = new Map(l.infos.map((i) => [i.name, i]));
      const unreadable = new Map(l.unreadable.map((u) => [u.name, u.error]));
      const detailed = infos.size > 0 || unreadable.size > 0;
      for (const block of l.blocks) {
        const ref = { hostingVolume: volume, block };
        const info = infos.get(block);
        const why = unreadable.get(block);
        blocks.set(formatVolumeId(ref), { ref, detailed, ...(info ? { info } : {}), ...(why !== undefined ? { unreadable: why } : {}) });
      }
      listed.add(volume);
    } catch (err) {
      if (!isCode(err, status.NOT_FOUND) && !isCode(err, status.FAILED_PRECONDITION)) throw err;
      log.warn("hosting volume not listable; skipped", { volume, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return { blocks, listed };
}

/**
 * LIO's check of each block (volume ID -> check). A call that fails (a blockd
 * older than GetTargetStatuses, a host busy past the deadline) leaves its
 * blocks with the reason, so their condition says the check was skipped; the
 * caller's own cancellation ends it all.
 */
export async function lioChecks(deps: ControllerDeps, refs: readonly VolumeRef[], caller: Caller, log: Logger): Promise<Map<string, LioCheck>> {
  const byVolume = new Map<string, string[]>();
  for (const r of refs) byVolume.set(r.hostingVolume, [...(byVolume.get(r.hostingVolume) ?? []), r.block]);
  const out = new Map<string, LioCheck>();
  for (const [volume, names] of byVolume) {
    for (let i = 0; i < names.length; i += STATUS_CHUNK) {
      const chunk = names.slice(i, i + STATUS_CHUNK);
      const id = (block: string): string => formatVolumeId({ hostingVolume: volume, block });
      try {
        const r = await deps.blockd.any("GetTargetStatuses", { volume, blocks: chunk }, caller);
        const answers = new Map(r.blocks.map((b) => [b.block, b]));
        for (const block of chunk) {
          const a = answers.get(block);
          out.set(id(block), !a ? { error: "blockd gave no answer for it" } : a.error ? { error: a.error } : { hosts: a.hosts });
        }
      } catch (err) {
        if (caller.signal?.aborted) throw err;
        const why = err instanceof Error ? err.message : String(err);
        log.warn("LIO check of the volumes failed; their condition is the journal's alone", { volume, blocks: chunk.length, error: why });
        for (const block of chunk) out.set(id(block), { error: why });
      }
    }
  }
  return out;
}
