// volume_context: what CreateVolume tells NodeStageVolume, and what
// `kubectl describe pv` shows. Never a secret: CHAP comes through the
// node-stage secret.
import { invalidArgument } from "../rpc/errors.js";

export const CONTEXT_KEY = {
  iqn: "iqn",
  /** comma-separated "ip:3260" in HA order */
  portals: "portals",
  lun: "lun",
  hostingVolume: "hostingVolume",
  gbid: "gbid",
  ha: "haCount",
  /** the multipath WWID the node must accept, and only it */
  wwid: "wwid",
  fsType: "fsType",
  /** "true" when CHAP is required */
  auth: "auth",
} as const;

export interface VolumeContext {
  iqn: string;
  portals: string[];
  lun: number;
  hostingVolume: string;
  gbid: string;
  ha: number;
  wwid: string;
  fsType: string;
  auth: boolean;
}

export function toVolumeContext(v: VolumeContext): Record<string, string> {
  return {
    [CONTEXT_KEY.iqn]: v.iqn,
    [CONTEXT_KEY.portals]: v.portals.join(","),
    [CONTEXT_KEY.lun]: String(v.lun),
    [CONTEXT_KEY.hostingVolume]: v.hostingVolume,
    [CONTEXT_KEY.gbid]: v.gbid,
    [CONTEXT_KEY.ha]: String(v.ha),
    [CONTEXT_KEY.wwid]: v.wwid,
    [CONTEXT_KEY.fsType]: v.fsType,
    [CONTEXT_KEY.auth]: String(v.auth),
  };
}

export function parseVolumeContext(ctx: Record<string, string>): VolumeContext {
  const need = (k: string): string => {
    const v = ctx[k];
    if (v === undefined || v === "") throw invalidArgument(`volume_context.${k} is required`);
    return v;
  };
  const portals = need(CONTEXT_KEY.portals)
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  for (const p of portals)
    if (!/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):\d{1,5}$/.test(p)) throw invalidArgument(`volume_context.portals: ${JSON.stringify(p)} is not ip:port`);
  const lun = Number(ctx[CONTEXT_KEY.lun] ?? "0");
  if (!Number.isInteger(lun) || lun < 0 || lun > 16383) throw invalidArgument(`volume_context.lun ${JSON.stringify(ctx[CONTEXT_KEY.lun])} is not a LUN number`);
  // only present here: both derive from the GBID, and the node plugin checks them against it exactly
  // (identity's iqnFor and wwidFor, in its requireContext) rather than by a second copy of their shapes
  const iqn = need(CONTEXT_KEY.iqn);
  const wwid = need(CONTEXT_KEY.wwid);
  return {
    iqn,
    portals,
    lun,
    hostingVolume: need(CONTEXT_KEY.hostingVolume),
    gbid: need(CONTEXT_KEY.gbid),
    ha: Number(ctx[CONTEXT_KEY.ha] ?? portals.length),
    wwid,
    fsType: ctx[CONTEXT_KEY.fsType] ?? "",
    auth: ctx[CONTEXT_KEY.auth] === "true",
  };
}

/** Stage secret keys (the names of the Secret the controller creates). */
export const SECRET_KEYS = { username: "username", password: "password" } as const;
