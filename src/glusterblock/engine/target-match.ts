// Does what LIO holds on this node match what the journal asks for? The
// differences are named, for ControllerGetVolume's condition and the audit.
import type { BlockTargetSpec, LioBlockState } from "../lio/types.js";
import { DEFAULT_ISCSI_PORT, portalOf } from "../../identity/portal.js";

export function targetDifferences(spec: BlockTargetSpec, state: LioBlockState | undefined): string[] {
  if (!state?.backstore && !state?.target) return ["no LIO objects"];
  const d: string[] = [];
  const bs = state.backstore;
  if (!bs) d.push("backstore missing");
  else {
    if (!bs.enabled) d.push("backstore not enabled");
    if (bs.cfgstring !== spec.cfgstring) d.push(`backstore config ${bs.cfgstring}`);
    if (bs.sizeBytes !== spec.sizeBytes) d.push(`size ${bs.sizeBytes} instead of ${spec.sizeBytes}`);
    if (bs.wwn !== spec.gbid) d.push(`wwn ${bs.wwn}`);
  }
  const t = state.target;
  if (!t) return [...d, "target missing"];
  const own = spec.hosts.indexOf(spec.localHost) + 1;
  const tpg = t.tpgs.find((x) => x.tag === own);
  if (!tpg) return [...d, `tpg${own} missing`];
  if (!tpg.enabled) d.push(`tpg${own} not enabled`);
  if (!tpg.luns.some((l) => l.index === 0 && l.backstore === spec.name)) d.push("lun0 missing");
  const portal = portalOf(spec.localHost, spec.port ?? DEFAULT_ISCSI_PORT);
  if (!tpg.portals.includes(portal)) d.push(`portal ${portal} missing`);
  if (tpg.authentication !== (spec.auth !== undefined)) d.push(`authentication ${tpg.authentication ? "on" : "off"}`);
  if (tpg.generateNodeAcls !== spec.generateNodeAcls) d.push(`generate_node_acls ${tpg.generateNodeAcls ? 1 : 0}`);
  if (!spec.generateNodeAcls) {
    // dynamic ACLs left from generated ACLs admit initiators no ACL names (iscsi-target.ts cachesDynamicAcls)
    if (tpg.cacheDynamicAcls) d.push("cache_dynamic_acls 1");
    const have = new Map(tpg.acls.map((a) => [a.initiator, a]));
    for (const a of spec.acls) {
      const acl = have.get(a);
      if (!acl) d.push(`acl ${a} missing`);
      else if (acl.writeProtected !== (spec.readOnlyAcls?.includes(a) ?? false)) d.push(`acl ${a} ${acl.writeProtected ? "read-only" : "read-write"}`);
    }
    for (const a of have.keys()) if (!spec.acls.includes(a)) d.push(`extra acl ${a}`);
  }
  for (const other of t.tpgs) if (other.tag !== own && other.enabled) d.push(`tpg${other.tag} enabled on the wrong node`);
  return d;
}
