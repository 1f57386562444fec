// The user:glfs storage object: core/user_<N>/<name>, one HBA per object as
// rtslib-fb makes them. Configured through `control` before `enable`, then
// WWN, attributes and ALUA groups; size changes go to attrib/dev_size, which
// the kernel forwards to tcmu-runner (TCMU_CMD_RECONFIG_DEVICE).
import type { CfsSession } from "./cfs-session.js";
import type { LioPaths } from "./paths.js";
import type { AluaGroupState, BackstoreState, BlockTargetSpec } from "./types.js";
import { CMD_RING_SIZE_MB, DEFAULT_CMD_TIME_OUT_SEC, ALUA_DEFAULT_GROUP } from "./types.js";
import { LioConfigfsError, LioConflictError } from "./errors.js";

export const HANDLER = "glfs";
const HBA_RE = /^([a-z_]+)_(\d+)$/;
const USER_HBA_RE = /^user_\d+$/;

export interface BackstoreLocation {
  hba: string;
  path: string;
}

/** the backstore called `name`, looked for in every user HBA (the cost grows with the objects LIO holds) */
export async function findBackstore(s: CfsSession, paths: LioPaths, name: string): Promise<BackstoreLocation | undefined> {
  for (const hba of await s.readdir(paths.core)) {
    if (!USER_HBA_RE.test(hba)) continue;
    const path = paths.storageObject(hba, name);
    if ((await s.kind(path)) === "dir") return { hba, path };
  }
  return undefined;
}

/**
 * The backstore called `name` if `linked` (where a target's LUN points) is
 * it, in a user HBA, and there: one lookup instead of a search.
 */
export async function backstoreAtLink(s: CfsSession, paths: LioPaths, name: string, linked: string | undefined): Promise<BackstoreLocation | undefined> {
  if (linked === undefined) return undefined;
  const parts = linked.split("/");
  const hba = parts[parts.length - 2] ?? "";
  if (parts[parts.length - 1] !== name || !USER_HBA_RE.test(hba) || linked !== paths.storageObject(hba, name)) return undefined;
  return (await s.kind(linked)) === "dir" ? { hba, path: linked } : undefined;
}

/** every user backstore: [hba, name] */
export async function listUserBackstores(s: CfsSession, paths: LioPaths): Promise<BackstoreLocation[]> {
  const out: BackstoreLocation[] = [];
  for (const hba of await s.readdir(paths.core)) {
    if (!USER_HBA_RE.test(hba)) continue;
    for (const name of await s.readdir(paths.hba(hba))) {
      const path = paths.storageObject(hba, name);
      if ((await s.kind(path)) === "dir") out.push({ hba, path });
    }
  }
  return out;
}

/** A new HBA with the lowest index no HBA of any plugin uses (rtslib-fb's rule). */
async function allocateHba(s: CfsSession, paths: LioPaths): Promise<string> {
  const used = new Set<number>();
  for (const e of await s.readdir(paths.core)) {
    const m = HBA_RE.exec(e);
    if (m?.[2] !== undefined) used.add(Number(m[2]));
  }
  for (let i = 0; i < 1_048_576; i++) {
    if (used.has(i)) continue;
    const hba = `user_${i}`;
    try {
      await s.mkdir(paths.hba(hba));
      return hba;
    } catch (e) {
      // another writer took it between readdir and mkdir
      if (e instanceof LioConfigfsError && e.code === "EEXIST") continue;
      throw e;
    }
  }
  throw new LioConflictError("no free backstore HBA index");
}

function parseInfo(info: string | undefined, key: string): string | undefined {
  if (info === undefined) return undefined;
  const m = new RegExp(`${key}: ([^ ]+)`).exec(info.split(/\s+/).join(" "));
  return m?.[1];
}

const ALUA_TYPES = ["None", "Implicit", "Explicit", "Implicit and Explicit"];
function parseAccessType(v: string | undefined): number {
  if (v === undefined) return 0;
  const i = ALUA_TYPES.indexOf(v);
  if (i >= 0) return i;
  const n = Number.parseInt(v, 10);
  return Number.isNaN(n) ? 0 : n;
}

export async function readAluaGroup(s: CfsSession, soPath: string, name: string): Promise<AluaGroupState> {
  const dir = `${soPath}/alua/${name}`;
  return {
    name,
    id: (await s.readInt(`${dir}/tg_pt_gp_id`)) ?? 0,
    accessState: (await s.readInt(`${dir}/alua_access_state`)) ?? 0,
    accessType: parseAccessType(await s.read(`${dir}/alua_access_type`)),
  };
}

export async function readBackstore(s: CfsSession, loc: BackstoreLocation): Promise<BackstoreState> {
  const p = loc.path;
  const info = await s.read(`${p}/info`);
  const devConfig = (await s.read(`${p}/attrib/dev_config`)) ?? parseInfo(info, "Config") ?? "";
  const slash = devConfig.indexOf("/");
  const wwnText = (await s.read(`${p}/wwn/vpd_unit_serial`)) ?? "";
  const colon = wwnText.indexOf(":");
  const aluaGroups: AluaGroupState[] = [];
  for (const g of await s.readdir(`${p}/alua`)) aluaGroups.push(await readAluaGroup(s, p, g));
  const maxDataAreaMb = (await s.readInt(`${p}/attrib/max_data_area_mb`)) ?? numberOrUndefined(parseInfo(info, "MaxDataAreaMB"));
  const hwBlockSize = await s.readInt(`${p}/attrib/hw_block_size`);
  return {
    name: p.slice(p.lastIndexOf("/") + 1),
    hba: loc.hba,
    enabled: (await s.readInt(`${p}/enable`)) === 1,
    handler: devConfig === "NULL" || slash < 0 ? "" : devConfig.slice(0, slash),
    cfgstring: devConfig === "NULL" || slash < 0 ? "" : devConfig.slice(slash + 1),
    sizeBytes: (await s.readInt(`${p}/attrib/dev_size`)) ?? numberOrUndefined(parseInfo(info, "Size")) ?? 0,
    wwn: (colon >= 0 ? wwnText.slice(colon + 1) : wwnText).trim(),
    cmdTimeOutSec: (await s.readInt(`${p}/attrib/cmd_time_out`)) ?? 0,
    ...(maxDataAreaMb !== undefined ? { maxDataAreaMb } : {}),
    ...(hwBlockSize !== undefined ? { hwBlockSize } : {}),
    aluaGroups,
  };
}

function numberOrUndefined(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export type BackstoreVerdict =
  | { kind: "absent" }
  | { kind: "ok"; loc: BackstoreLocation; state: BackstoreState }
  /** made but never enabled (a crash between mkdir and enable): finish it */
  | { kind: "incomplete"; loc: BackstoreLocation }
  /** ours, but a setting that cannot change on a live object differs */
  | { kind: "rebuild"; loc: BackstoreLocation; reason: string };

/** where the backstore of a name lives; findBackstore looks through every user HBA */
export type LocateBackstore = (name: string) => Promise<BackstoreLocation | undefined>;

/**
 * Every user backstore by name, from one walk: a pass judging many blocks
 * looks each up here, not through every HBA again (O(N) per block).
 */
export async function backstoreIndex(s: CfsSession, paths: LioPaths): Promise<LocateBackstore> {
  const byName = new Map<string, BackstoreLocation>();
  for (const loc of await listUserBackstores(s, paths)) {
    const name = loc.path.slice(loc.path.lastIndexOf("/") + 1);
    if (!byName.has(name)) byName.set(name, loc);
  }
  return (name) => Promise.resolve(byName.get(name));
}

export async function judgeBackstore(
  s: CfsSession,
  paths: LioPaths,
  spec: BlockTargetSpec,
  locate: LocateBackstore = (name) => findBackstore(s, paths, name),
): Promise<BackstoreVerdict> {
  const loc = await locate(spec.name);
  if (!loc) return { kind: "absent" };
  const st = await readBackstore(s, loc);
  if (!st.enabled) return { kind: "incomplete", loc };
  if (st.handler !== HANDLER || !st.cfgstring.includes(spec.gbid)) {
    throw new LioConflictError(`backstore ${spec.name} exists (${loc.hba}, handler "${st.handler}") and does not belong to block ${spec.gbid}`);
  }
  if (st.cfgstring !== spec.cfgstring) return { kind: "rebuild", loc, reason: "cfgstring differs" };
  if (spec.ringBufferMb !== undefined && st.maxDataAreaMb !== undefined && st.maxDataAreaMb !== spec.ringBufferMb)
    return { kind: "rebuild", loc, reason: "ring buffer size differs" };
  if (spec.hwBlockSize !== undefined && st.hwBlockSize !== undefined && st.hwBlockSize !== spec.hwBlockSize)
    return { kind: "rebuild", loc, reason: "block size differs" };
  return { kind: "ok", loc, state: st };
}

/** Make (or finish) the storage object and enable it; returns where it lives. */
export async function createBackstore(s: CfsSession, paths: LioPaths, spec: BlockTargetSpec, existing?: BackstoreLocation): Promise<BackstoreLocation> {
  let loc = existing;
  if (!loc) {
    const hba = await allocateHba(s, paths);
    loc = { hba, path: paths.storageObject(hba, spec.name) };
    try {
      await s.mkdir(loc.path);
    } catch (e) {
      // no empty HBA left behind by a refused object (a crash's is swept: ConfigfsLioTargets.remove)
      await removeHbaIfEmpty(s, paths, hba).catch(() => undefined);
      throw e;
    }
  }
  const control = `${loc.path}/control`;
  await s.write(control, `dev_config=${HANDLER}/${spec.cfgstring}`);
  await s.write(control, `dev_size=${spec.sizeBytes}`);
  const extra: string[] = [`cmd_ring_size_mb=${CMD_RING_SIZE_MB}`];
  if (spec.ringBufferMb !== undefined) extra.push(`max_data_area_mb=${spec.ringBufferMb}`);
  if (spec.hwBlockSize !== undefined) extra.push(`hw_block_size=${spec.hwBlockSize}`);
  await s.write(control, extra.join(","));
  await s.write(`${loc.path}/enable`, "1");
  return loc;
}

/** WWN, size, cmd_time_out on an enabled object; returns whether the size changed. */
export async function tuneBackstore(s: CfsSession, loc: BackstoreLocation, spec: BlockTargetSpec): Promise<{ resized: boolean }> {
  const p = loc.path;
  const wwnText = (await s.read(`${p}/wwn/vpd_unit_serial`)) ?? "";
  const colon = wwnText.indexOf(":");
  const wwn = (colon >= 0 ? wwnText.slice(colon + 1) : wwnText).trim();
  if (wwn !== spec.gbid) await s.write(`${p}/wwn/vpd_unit_serial`, spec.gbid);
  const cto = spec.cmdTimeOutSec ?? DEFAULT_CMD_TIME_OUT_SEC;
  if ((await s.readInt(`${p}/attrib/cmd_time_out`)) !== cto) await s.write(`${p}/attrib/cmd_time_out`, String(cto));
  let resized = false;
  if ((await s.readInt(`${p}/attrib/dev_size`)) !== spec.sizeBytes) {
    await s.write(`${p}/attrib/dev_size`, String(spec.sizeBytes));
    resized = true;
  }
  return { resized };
}

/** Tear down the storage object and its HBA; LUNs linking it must be gone (LIO refuses otherwise). */
export async function removeBackstoreAt(s: CfsSession, paths: LioPaths, loc: BackstoreLocation): Promise<void> {
  for (const g of await s.readdir(`${loc.path}/alua`)) {
    if (g !== ALUA_DEFAULT_GROUP && (await s.kind(`${loc.path}/alua/${g}`)) === "dir") await s.rmdir(`${loc.path}/alua/${g}`);
  }
  await s.rmdir(loc.path);
  await removeHbaIfEmpty(s, paths, loc.hba);
}

/**
 * Empty user HBAs are debris of a crash between removing a storage object and
 * its HBA (or between making them); rtslib never leaves one behind on purpose.
 */
export async function sweepEmptyUserHbas(s: CfsSession, paths: LioPaths): Promise<void> {
  for (const hba of await s.readdir(paths.core)) if (USER_HBA_RE.test(hba)) await removeHbaIfEmpty(s, paths, hba);
}

export async function removeHbaIfEmpty(s: CfsSession, paths: LioPaths, hba: string): Promise<void> {
  const dir = paths.hba(hba);
  for (const e of await s.readdir(dir)) if ((await s.kind(`${dir}/${e}`)) === "dir") return;
  if ((await s.kind(dir)) === "dir") await s.rmdir(dir);
}
