// What the controller writes in a block's OWNER field (free text in the
// journal, shown by `gluster-block info`): the CSI name and the claim, so a
// later call that only has the volume ID can still name the claim in Events.
import type { PvcRef } from "./params.js";

export interface OwnerInfo {
  csiName: string;
  pvName?: string;
  pvc?: PvcRef;
}

export function formatOwner(o: OwnerInfo): string {
  return [`csi=${o.csiName}`, o.pvName ? `pv=${o.pvName}` : "", o.pvc ? `pvc=${o.pvc.namespace}/${o.pvc.name}` : ""].filter((s) => s !== "").join(" ");
}

export function parseOwner(text: string): OwnerInfo | undefined {
  const fields = new Map<string, string>();
  for (const part of text.split(/\s+/)) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const csiName = fields.get("csi");
  if (!csiName) return undefined;
  const pv = fields.get("pv");
  const pvc = fields.get("pvc");
  const slash = pvc?.indexOf("/") ?? -1;
  return {
    csiName,
    ...(pv ? { pvName: pv } : {}),
    ...(pvc && slash > 0 ? { pvc: { namespace: pvc.slice(0, slash), name: pvc.slice(slash + 1) } } : {}),
  };
}
