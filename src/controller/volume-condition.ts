// VOLUME_CONDITION from what blockd knows: the journal's view (GetBlock: state,
// hosts that failed or lost the block) and LIO's own view on every HA host
// (GetTargetStatus, or GetTargetStatuses for many: a target missing or
// different there). ControllerGetVolume, ListVolumes and the health check all
// judge a volume here, so they agree.
import type { BlockInfo__Output } from "../generated/glusterblock/v1/BlockInfo.js";
import type { AuditFinding__Output } from "../generated/glusterblock/v1/AuditFinding.js";
import type { PeerTargetResult__Output } from "../generated/glusterblock/v1/PeerTargetResult.js";
import type { VolumeCondition } from "../generated/csi/v1/VolumeCondition.js";

/** LIO's view of a block on its HA hosts, or why it could not be had. */
export type LioCheck = { hosts: readonly PeerTargetResult__Output[] } | { error: string };

export function volumeCondition(info: BlockInfo__Output, findings: readonly AuditFinding__Output[] = [], auditError?: string): VolumeCondition {
  const problems: string[] = [];
  if (info.state !== "" && info.state !== "ready") problems.push(`block state is ${info.state}`);
  const notExported = info.hosts.filter((h) => !info.exported_on.includes(h));
  if (notExported.length > 0) problems.push(`not exported on ${notExported.join(", ")}`);
  if (info.failed_on.length > 0) problems.push(`configuration failed on ${info.failed_on.join(", ")}`);
  if (info.resize_failed_on.length > 0) problems.push(`resize failed on ${info.resize_failed_on.join(", ")}`);
  for (const f of findings) {
    if (f.block !== info.name) continue;
    problems.push(`${f.host ? `${f.host}: ` : ""}${f.kind}${f.detail ? ` (${f.detail})` : ""}`);
  }
  if (problems.length > 0) return { abnormal: true, message: problems.join("; ") };
  const ha = info.ha || info.hosts.length;
  return { abnormal: false, message: `exported on ${info.exported_on.length} of ${ha} HA host(s)${auditError ? `; LIO check skipped: ${auditError}` : ""}` };
}

/** The hosts whose LIO does not hold what the block's journal asks for, as findings. */
export function targetFindings(block: string, hosts: readonly PeerTargetResult__Output[]): AuditFinding__Output[] {
  return hosts
    .filter((h) => !h.matches)
    .map((h) => ({ kind: h.present ? "target-differs" : "target-missing", host: h.host, block, detail: h.detail, fixed: false }));
}

/** The condition of a block from its journal and, when there is one, LIO's check (undefined: the journal only). */
export function conditionOf(info: BlockInfo__Output, check: LioCheck | undefined): VolumeCondition {
  if (check === undefined) return volumeCondition(info);
  if ("error" in check) return volumeCondition(info, [], check.error);
  return volumeCondition(info, targetFindings(info.name, check.hosts));
}

/** HA hosts serving the block: exported by its journal and, where LIO was checked, holding what the journal asks for. */
export function pathsUp(info: BlockInfo__Output, check: LioCheck | undefined): number {
  const lio = check !== undefined && "hosts" in check ? new Map(check.hosts.map((h) => [h.host, h.matches])) : undefined;
  return info.hosts.filter((h) => info.exported_on.includes(h) && (lio === undefined || lio.get(h) === true)).length;
}
