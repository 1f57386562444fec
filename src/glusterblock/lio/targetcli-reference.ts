// The targetcli batch the original gluster-block would run for a spec, for
// comparison and diagnosis only (never in the hot path: every targetcli run
// loads the whole LIO tree). CHAP passwords appear in the output, so callers
// must treat it as secret.
import type { BlockTargetSpec } from "./types.js";
import { DEFAULT_CMD_TIME_OUT_SEC, DEFAULT_ISCSI_PORT } from "./types.js";

export function targetcliCreateBatch(spec: BlockTargetSpec): string[] {
  const bs = `/backstores/user:glfs/${spec.name}`;
  const tgt = `/iscsi/${spec.iqn}`;
  const control: string[] = [];
  if (spec.ringBufferMb !== undefined) control.push(`max_data_area_mb=${spec.ringBufferMb}`);
  if (spec.hwBlockSize !== undefined) control.push(`hw_block_size=${spec.hwBlockSize}`);
  const out = [
    `/backstores/user:glfs create name=${spec.name} size=${spec.sizeBytes} cfgstring=${spec.cfgstring}` +
      `${control.length > 0 ? ` control=${control.join(",")}` : ""} wwn=${spec.gbid}`,
    `${bs} set attribute cmd_time_out=${spec.cmdTimeOutSec ?? DEFAULT_CMD_TIME_OUT_SEC}`,
  ];
  if (spec.aoHost !== undefined) {
    for (const [g, tag, state] of [["glfs_tg_pt_gp_ao", 1, 0], ["glfs_tg_pt_gp_ano", 2, 1]] as const) {
      out.push(`${bs}/alua create name=${g} tag=${tag}`);
      out.push(`${bs}/alua/${g} set alua alua_access_type=1`);
      out.push(`${bs}/alua/${g} set alua alua_access_state=${state}`);
      out.push(`${bs}/alua/${g} set alua alua_support_offline=0 alua_support_standby=0 alua_support_unavailable=0`);
    }
  }
  out.push(`/iscsi create ${spec.iqn}`);
  for (let t = 2; t <= spec.hosts.length; t++) out.push(`${tgt} create tpg${t}`);
  const port = spec.port ?? DEFAULT_ISCSI_PORT;
  for (const [i, host] of spec.hosts.entries()) {
    const tpg = `${tgt}/tpg${i + 1}`;
    const own = host === spec.localHost;
    out.push(`${tpg}/luns create ${bs}`);
    if (spec.aoHost !== undefined) out.push(`${tpg}/luns/lun0 set alua alua_tg_pt_gp_name=${host === spec.aoHost ? "glfs_tg_pt_gp_ao" : "glfs_tg_pt_gp_ano"}`);
    const attrs = [`authentication=${spec.auth ? 1 : 0}`, `generate_node_acls=${spec.generateNodeAcls ? 1 : 0}`, "demo_mode_write_protect=0"];
    if (!own) attrs.push("tpg_enabled_sendtargets=0");
    out.push(`${tpg} set attribute ${attrs.join(" ")}`);
    out.push(`${tpg}/portals create ${host} ${port}`);
    for (const acl of spec.acls) {
      out.push(`${tpg}/acls create ${acl}`);
      if (spec.auth) out.push(`${tpg}/acls/${acl} set auth userid=${spec.auth.userid} password=${spec.auth.password}`);
    }
    if (spec.auth && spec.generateNodeAcls) out.push(`${tpg} set auth userid=${spec.auth.userid} password=${spec.auth.password}`);
    if (own) out.push(`${tpg} enable`);
  }
  return out;
}

export function targetcliDeleteBatch(ref: { name: string; iqn: string }): string[] {
  return [`/backstores/user:glfs delete ${ref.name}`, `/iscsi delete ${ref.iqn}`];
}
