// The original's two ALUA groups on every node's backstore: AO (id 1, state
// active/optimized) and ANO (id 2, active/non-optimized), both implicit, with
// offline/standby/unavailable unsupported. Which path is optimized is decided
// by which TPG's LUN joins which group, not by the groups themselves.
import type { CfsSession } from "./cfs-session.js";
import { readAluaGroup } from "./backstore.js";
import { ALUA_ANO_GROUP, ALUA_AO_GROUP } from "./types.js";

const IMPLICIT = 1;
const GROUPS = [
  { name: ALUA_AO_GROUP, id: 1, state: 0 },
  { name: ALUA_ANO_GROUP, id: 2, state: 1 },
] as const;
const UNSUPPORTED = ["alua_support_offline", "alua_support_standby", "alua_support_unavailable"] as const;

export async function ensureAluaGroups(s: CfsSession, soPath: string): Promise<void> {
  for (const g of GROUPS) {
    const dir = `${soPath}/alua/${g.name}`;
    if ((await s.kind(dir)) !== "dir") await s.mkdir(dir);
    const cur = await readAluaGroup(s, soPath, g.name);
    // the id must be valid and the type implicit before the kernel accepts a state
    if (cur.id !== g.id) await s.write(`${dir}/tg_pt_gp_id`, String(g.id));
    if (cur.accessType !== IMPLICIT) await s.write(`${dir}/alua_access_type`, String(IMPLICIT));
    if (cur.accessState !== g.state) await s.write(`${dir}/alua_access_state`, String(g.state));
    for (const f of UNSUPPORTED) {
      if ((await s.readInt(`${dir}/${f}`)) !== 0) await s.write(`${dir}/${f}`, "0");
    }
  }
}

/** drop our groups (no PRIOPATH any more); LUNs must already be back in the default group */
export async function removeAluaGroups(s: CfsSession, soPath: string): Promise<void> {
  for (const g of GROUPS) {
    const dir = `${soPath}/alua/${g.name}`;
    if ((await s.kind(dir)) === "dir") await s.rmdir(dir);
  }
}
