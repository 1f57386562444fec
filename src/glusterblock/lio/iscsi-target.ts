// The iSCSI side of one block: iscsi/<iqn>/tpgt_<i>/{lun/lun_0 -> backstore,
// np/<ip>:<port>, acls/<initiator>/lun_0 -> ../lun/lun_0 (write_protect 1
// for a read-only initiator), attrib/, auth/, enable}. Converging writes only
// what differs; the own TPG is enabled last, so no initiator can log in to a
// half-configured TPG.
import { randomBytes } from "node:crypto";
import type { CfsSession } from "./cfs-session.js";
import type { LioPaths } from "./paths.js";
import { resolveLink } from "./paths.js";
import type { AclState, BlockTargetSpec, LunState, TargetState, TpgSessions, TpgState } from "./types.js";
import { ALUA_ANO_GROUP, ALUA_AO_GROUP, ALUA_DEFAULT_GROUP } from "./types.js";
import { DEFAULT_ISCSI_PORT, portalOf } from "../../identity/portal.js";
import { LioConfigfsError } from "./errors.js";

const TPG_RE = /^tpgt_(\d+)$/;
const LUN_RE = /^lun_(\d+)$/;

/** rtslib-fb names LUN and mapped-LUN links with 10 random hex characters */
function newAlias(): string {
  return randomBytes(5).toString("hex");
}

async function links(s: CfsSession, dir: string): Promise<{ path: string; target: string | undefined }[]> {
  const out: { path: string; target: string | undefined }[] = [];
  for (const e of await s.readdir(dir)) {
    const p = `${dir}/${e}`;
    if ((await s.kind(p)) !== "link") continue;
    const t = await s.readlink(p);
    out.push({ path: p, target: t === undefined ? undefined : resolveLink(p, t) });
  }
  return out;
}

function unset(v: string | undefined): boolean {
  return v === undefined || v === "" || v === "NULL";
}

async function tagsOf(s: CfsSession, targetPath: string): Promise<number[]> {
  const tags: number[] = [];
  for (const e of await s.readdir(targetPath)) {
    const m = TPG_RE.exec(e);
    if (m?.[1] !== undefined) tags.push(Number(m[1]));
  }
  return tags.sort((a, b) => a - b);
}

// ---- teardown -------------------------------------------------------------

async function removeMappedLun(s: CfsSession, path: string): Promise<void> {
  for (const l of await links(s, path)) await s.unlink(l.path);
  await s.rmdir(path);
}

async function removeAcl(s: CfsSession, aclPath: string): Promise<void> {
  for (const e of await s.readdir(aclPath)) {
    if (LUN_RE.test(e) && (await s.kind(`${aclPath}/${e}`)) === "dir") await removeMappedLun(s, `${aclPath}/${e}`);
  }
  await s.rmdir(aclPath);
}

/** a TPG LUN, after every mapped LUN pointing at it */
async function removeLun(s: CfsSession, tpgPath: string, lunPath: string): Promise<void> {
  for (const acl of await s.readdir(`${tpgPath}/acls`)) {
    const aclPath = `${tpgPath}/acls/${acl}`;
    for (const e of await s.readdir(aclPath)) {
      const ml = `${aclPath}/${e}`;
      if (!LUN_RE.test(e) || (await s.kind(ml)) !== "dir") continue;
      if ((await links(s, ml)).some((l) => l.target === lunPath)) await removeMappedLun(s, ml);
    }
  }
  for (const l of await links(s, lunPath)) await s.unlink(l.path);
  await s.rmdir(lunPath);
}

async function disableTpg(s: CfsSession, tpgPath: string): Promise<void> {
  if ((await s.readInt(`${tpgPath}/enable`)) === 1) await s.write(`${tpgPath}/enable`, "0");
}

/**
 * Whether the TPG may hold dynamic ACLs: generated ACLs on, or the caching
 * they turn on (iscsit_ta_generate_node_acls) still on. Each initiator a
 * generated-ACL TPG ever let in keeps a dynamic ACL in the kernel's list,
 * which configfs does not show and which admits that initiator's next login
 * whatever generate_node_acls says later (core_tpg_check_initiator_node_acl
 * finds it first); only the TPG's removal drops the ones without a session.
 * So per-initiator ACLs are never set up on such a TPG: it is removed and
 * made again (an adopted 0.5.1 block, whose TPGs every initiator that ever
 * logged in could otherwise enter: the Kubernetes lab's n1 did, after its
 * in-tree pod had used the block).
 */
async function cachesDynamicAcls(s: CfsSession, tpgPath: string): Promise<boolean> {
  return (await s.readInt(`${tpgPath}/attrib/generate_node_acls`)) === 1 || (await s.readInt(`${tpgPath}/attrib/cache_dynamic_acls`)) === 1;
}

async function removeTpg(s: CfsSession, tpgPath: string): Promise<void> {
  await disableTpg(s, tpgPath);
  for (const acl of await s.readdir(`${tpgPath}/acls`)) await removeAcl(s, `${tpgPath}/acls/${acl}`);
  for (const lun of await s.readdir(`${tpgPath}/lun`)) await removeLun(s, tpgPath, `${tpgPath}/lun/${lun}`);
  for (const np of await s.readdir(`${tpgPath}/np`)) await s.rmdir(`${tpgPath}/np/${np}`);
  await s.rmdir(tpgPath);
}

/** whether the target's enabled TPG (this node's) exports LUN 0 in the ALUA active/optimized group; read without the rest of the target */
export async function ownPathActive(s: CfsSession, paths: LioPaths, iqn: string): Promise<boolean> {
  for (const t of await tagsOf(s, paths.target(iqn))) {
    const tpg = paths.tpg(iqn, t);
    if ((await s.readInt(`${tpg}/enable`)) === 1) return (await lunAluaGroup(s, `${tpg}/lun/lun_0`)) === ALUA_AO_GROUP;
  }
  return false;
}

/**
 * The storage object path the target's LUN 0 links to (the first TPG that
 * has one), read without the rest of the target: finding a block's backstore
 * through its target costs the same however many objects LIO holds.
 */
export async function linkedStorageObject(s: CfsSession, paths: LioPaths, iqn: string): Promise<string | undefined> {
  const tp = paths.target(iqn);
  if ((await s.kind(tp)) !== "dir") return undefined;
  for (const t of await tagsOf(s, tp)) {
    const lun = `${paths.tpg(iqn, t)}/lun/lun_0`;
    if ((await s.kind(lun)) !== "dir") continue;
    const linked = (await links(s, lun))[0]?.target;
    if (linked !== undefined) return linked;
  }
  return undefined;
}

/** Whole target, idempotent: disable every TPG first (drops sessions), then take it apart bottom-up. */
export async function removeTarget(s: CfsSession, paths: LioPaths, iqn: string): Promise<void> {
  const tp = paths.target(iqn);
  if ((await s.kind(tp)) !== "dir") return;
  const tags = await tagsOf(s, tp);
  for (const t of tags) await disableTpg(s, paths.tpg(iqn, t));
  for (const t of tags) await removeTpg(s, paths.tpg(iqn, t));
  await s.rmdir(tp);
}

// ---- converge -------------------------------------------------------------

async function ensureLun0(s: CfsSession, tpgPath: string, soPath: string): Promise<string> {
  const lunPath = `${tpgPath}/lun/lun_0`;
  for (const e of await s.readdir(`${tpgPath}/lun`)) {
    if (e !== "lun_0") await removeLun(s, tpgPath, `${tpgPath}/lun/${e}`);
  }
  if ((await s.kind(lunPath)) === "dir") {
    const ls = await links(s, lunPath);
    if (ls.length === 1 && ls[0]?.target === soPath) return lunPath;
    if (ls.length > 0) await removeLun(s, tpgPath, lunPath); // wrong or broken link: rebuild
  }
  if ((await s.kind(lunPath)) !== "dir") await s.mkdir(lunPath);
  await s.symlink(soPath, `${lunPath}/${newAlias()}`);
  return lunPath;
}

async function lunAluaGroup(s: CfsSession, lunPath: string): Promise<string | undefined> {
  const text = await s.read(`${lunPath}/alua_tg_pt_gp`);
  if (text === undefined || text === "") return undefined;
  const first = text.split("\n")[0] ?? "";
  const colon = first.indexOf(":");
  return (colon >= 0 ? first.slice(colon + 1) : first).trim();
}

async function ensureAuth(s: CfsSession, authDir: string, creds: { userid: string; password: string } | undefined): Promise<void> {
  const userid = await s.read(`${authDir}/userid`);
  const password = await s.read(`${authDir}/password`);
  if (creds) {
    if (userid !== creds.userid) await s.write(`${authDir}/userid`, creds.userid);
    if (password !== creds.password) await s.write(`${authDir}/password`, creds.password, { secret: true });
  } else {
    // "NULL" is how LIO clears a CHAP value
    if (!unset(userid)) await s.write(`${authDir}/userid`, "NULL");
    if (!unset(password)) await s.write(`${authDir}/password`, "NULL");
  }
}

/**
 * One initiator's ACL with its mapped LUN 0, write protected when it is
 * read-only. write_protect belongs to the mapping: the kernel makes it
 * read-write when the link is made (and ignores a write before), so it is
 * written after the link, as targetcli does. A new ACL in an enabled TPG is
 * read-write for that moment only; the initiator it admits is not told to log
 * in before the publish that adds it returns.
 */
async function ensureAcl(s: CfsSession, tpgPath: string, initiator: string, lunPath: string, spec: BlockTargetSpec): Promise<void> {
  const aclPath = `${tpgPath}/acls/${initiator}`;
  if ((await s.kind(aclPath)) !== "dir") await s.mkdir(aclPath);
  // CHAP first, so the mapping never exists with stale or missing credentials
  await ensureAuth(s, `${aclPath}/auth`, spec.auth);
  for (const e of await s.readdir(aclPath)) {
    if (LUN_RE.test(e) && e !== "lun_0" && (await s.kind(`${aclPath}/${e}`)) === "dir") await removeMappedLun(s, `${aclPath}/${e}`);
  }
  const ml = `${aclPath}/lun_0`;
  if ((await s.kind(ml)) === "dir") {
    const ls = await links(s, ml);
    if (!(ls.length === 1 && ls[0]?.target === lunPath)) {
      for (const l of ls) await s.unlink(l.path);
      await s.symlink(lunPath, `${ml}/${newAlias()}`);
    }
  } else {
    await s.mkdir(ml);
    await s.symlink(lunPath, `${ml}/${newAlias()}`);
  }
  const wp = spec.readOnlyAcls?.includes(initiator) ? 1 : 0;
  if ((await s.readInt(`${ml}/write_protect`)) !== wp) await s.write(`${ml}/write_protect`, String(wp));
}

async function ensureAttr(s: CfsSession, tpgPath: string, name: string, value: number): Promise<void> {
  const p = `${tpgPath}/attrib/${name}`;
  if ((await s.readInt(p)) !== value) await s.write(p, String(value));
}

/** a directory another block's apply may be making at the same moment */
async function mkdirShared(s: CfsSession, path: string): Promise<void> {
  try {
    await s.mkdir(path);
  } catch (e) {
    if (!(e instanceof LioConfigfsError && e.code === "EEXIST" && (await s.kind(path)) === "dir")) throw e;
  }
}

export async function convergeTarget(s: CfsSession, paths: LioPaths, spec: BlockTargetSpec, soPath: string): Promise<void> {
  if ((await s.kind(paths.iscsi)) !== "dir") await mkdirShared(s, paths.iscsi);
  const tp = paths.target(spec.iqn);
  if ((await s.kind(tp)) !== "dir") await s.mkdir(tp);
  for (const t of await tagsOf(s, tp)) {
    if (t > spec.hosts.length) await removeTpg(s, paths.tpg(spec.iqn, t));
  }
  const port = spec.port ?? DEFAULT_ISCSI_PORT;
  const acls = [...new Set(spec.acls)];
  for (const [i, host] of spec.hosts.entries()) {
    const tag = i + 1;
    const own = host === spec.localHost;
    const tpgPath = paths.tpg(spec.iqn, tag);
    if (!spec.generateNodeAcls && (await s.kind(tpgPath)) === "dir" && (await cachesDynamicAcls(s, tpgPath))) await removeTpg(s, tpgPath);
    if ((await s.kind(tpgPath)) !== "dir") await s.mkdir(tpgPath);
    if (!own) await disableTpg(s, tpgPath);

    const lunPath = await ensureLun0(s, tpgPath, soPath);
    const group = spec.aoHost === undefined ? ALUA_DEFAULT_GROUP : host === spec.aoHost ? ALUA_AO_GROUP : ALUA_ANO_GROUP;
    if ((await lunAluaGroup(s, lunPath)) !== group) await s.write(`${lunPath}/alua_tg_pt_gp`, group);

    const want = portalOf(host, port);
    for (const np of await s.readdir(`${tpgPath}/np`)) if (np !== want) await s.rmdir(`${tpgPath}/np/${np}`);
    if ((await s.kind(`${tpgPath}/np/${want}`)) !== "dir") await s.mkdir(`${tpgPath}/np/${want}`);

    for (const acl of await s.readdir(`${tpgPath}/acls`)) {
      if (!acls.includes(acl)) await removeAcl(s, `${tpgPath}/acls/${acl}`);
    }
    for (const acl of acls) await ensureAcl(s, tpgPath, acl, lunPath, spec);
    // demo-mode (dynamic ACL) logins authenticate against the TPG's own CHAP
    await ensureAuth(s, `${tpgPath}/auth`, spec.generateNodeAcls ? spec.auth : undefined);

    await ensureAttr(s, tpgPath, "generate_node_acls", spec.generateNodeAcls ? 1 : 0);
    // (the kernel turns caching on with generated ACLs and keeps it on while they are)
    if (!spec.generateNodeAcls) await ensureAttr(s, tpgPath, "cache_dynamic_acls", 0);
    await ensureAttr(s, tpgPath, "demo_mode_write_protect", 0);
    await ensureAttr(s, tpgPath, "tpg_enabled_sendtargets", own ? 1 : 0);
    await ensureAttr(s, tpgPath, "authentication", spec.auth ? 1 : 0);
  }
  const ownTag = spec.hosts.indexOf(spec.localHost) + 1;
  const ownPath = paths.tpg(spec.iqn, ownTag);
  if ((await s.readInt(`${ownPath}/enable`)) !== 1) await s.write(`${ownPath}/enable`, "1");
}

// ---- read -----------------------------------------------------------------

async function readLun(s: CfsSession, lunPath: string, index: number): Promise<LunState> {
  const ls = await links(s, lunPath);
  const target = ls[0]?.target;
  const out: LunState = { index };
  if (target !== undefined) {
    const parts = target.split("/");
    const name = parts[parts.length - 1];
    const hba = parts[parts.length - 2];
    if (name !== undefined) out.backstore = name;
    if (hba !== undefined) out.backstoreHba = hba;
  }
  const g = await lunAluaGroup(s, lunPath);
  if (g !== undefined) out.aluaGroup = g;
  return out;
}

async function readAcl(s: CfsSession, aclPath: string, initiator: string): Promise<AclState> {
  const mapped: number[] = [];
  for (const e of await s.readdir(aclPath)) {
    const m = LUN_RE.exec(e);
    if (m?.[1] !== undefined && (await s.kind(`${aclPath}/${e}`)) === "dir") mapped.push(Number(m[1]));
  }
  const userid = await s.read(`${aclPath}/auth/userid`);
  return {
    initiator,
    mappedLuns: mapped.sort((a, b) => a - b),
    writeProtected: mapped.includes(0) && (await s.readInt(`${aclPath}/lun_0/write_protect`)) === 1,
    ...(unset(userid) ? {} : { chapUserid: userid }),
    hasChapPassword: !unset(await s.read(`${aclPath}/auth/password`)),
  };
}

async function readTpg(s: CfsSession, tpgPath: string, tag: number): Promise<TpgState> {
  const luns: LunState[] = [];
  for (const e of await s.readdir(`${tpgPath}/lun`)) {
    const m = LUN_RE.exec(e);
    if (m?.[1] !== undefined) luns.push(await readLun(s, `${tpgPath}/lun/${e}`, Number(m[1])));
  }
  const acls: AclState[] = [];
  for (const a of await s.readdir(`${tpgPath}/acls`)) acls.push(await readAcl(s, `${tpgPath}/acls/${a}`, a));
  const userid = await s.read(`${tpgPath}/auth/userid`);
  const flag = async (n: string): Promise<boolean> => (await s.readInt(`${tpgPath}/attrib/${n}`)) === 1;
  return {
    tag,
    enabled: (await s.readInt(`${tpgPath}/enable`)) === 1,
    portals: (await s.readdir(`${tpgPath}/np`)).sort(),
    luns: luns.sort((a, b) => a.index - b.index),
    authentication: await flag("authentication"),
    generateNodeAcls: await flag("generate_node_acls"),
    cacheDynamicAcls: await flag("cache_dynamic_acls"),
    demoModeWriteProtect: await flag("demo_mode_write_protect"),
    tpgEnabledSendtargets: await flag("tpg_enabled_sendtargets"),
    ...(unset(userid) ? {} : { chapUserid: userid }),
    hasChapPassword: !unset(await s.read(`${tpgPath}/auth/password`)),
    acls,
  };
}

export async function readTarget(s: CfsSession, paths: LioPaths, iqn: string): Promise<TargetState | undefined> {
  const tp = paths.target(iqn);
  if ((await s.kind(tp)) !== "dir") return undefined;
  const tpgs: TpgState[] = [];
  for (const t of await tagsOf(s, tp)) tpgs.push(await readTpg(s, paths.tpg(iqn, t), t));
  return { iqn, tpgs };
}

/**
 * The live sessions of every TPG of a target. `dynamic_sessions` (the
 * kernel's target_show_dynamic_sessions) lists, one a line, the initiator of
 * each session whose node ACL is a generated one; an explicit ACL's `info`
 * begins "No active iSCSI Session" when none is logged in through it.
 */
export async function readSessions(s: CfsSession, paths: LioPaths, iqn: string): Promise<TpgSessions[] | undefined> {
  const tp = paths.target(iqn);
  if ((await s.kind(tp)) !== "dir") return undefined;
  const out: TpgSessions[] = [];
  for (const tag of await tagsOf(s, tp)) {
    const tpgPath = paths.tpg(iqn, tag);
    const dynamic = ((await s.read(`${tpgPath}/dynamic_sessions`)) ?? "")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "");
    const explicit: string[] = [];
    for (const acl of await s.readdir(`${tpgPath}/acls`)) {
      const info = (await s.read(`${tpgPath}/acls/${acl}/info`)) ?? "";
      if (info.trim() !== "" && !info.startsWith("No active")) explicit.push(acl);
    }
    out.push({
      tag,
      enabled: (await s.readInt(`${tpgPath}/enable`)) === 1,
      portals: (await s.readdir(`${tpgPath}/np`)).sort(),
      generateNodeAcls: (await s.readInt(`${tpgPath}/attrib/generate_node_acls`)) === 1,
      dynamic: [...new Set(dynamic)].sort(),
      explicit: explicit.sort(),
    });
  }
  return out;
}
