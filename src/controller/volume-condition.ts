// VOLUME_CONDITION from what blockd knows: the journal's view (GetBlock: state,
// hosts that failed or lost the block) and, when asked, LIO's own view on every
// HA host (Audit findings for the block: a target missing or different there).
import type { BlockInfo__Output } from "../generated/glusterblock/v1/BlockInfo.js";
import type { AuditFinding__Output } from "../generated/glusterblock/v1/AuditFinding.js";
import type { VolumeCondition } from "../generated/csi/v1/VolumeCondition.js";

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
