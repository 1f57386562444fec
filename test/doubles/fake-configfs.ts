// An in-memory imitation of LIO's configfs for unit tests: mkdir makes the
// kernel's default children (attrib/, auth/, lun/, np/, alua/default_tg_pt_gp
// ...), attributes check what the kernel checks (enable twice, WWN while
// exported, ALUA state before id/type, LUN link to an unconfigured device),
// rmdir refuses non-empty and linked objects. It can also "crash" after N
// mutations, to test resuming from a half-made tree.
import { posix } from "node:path";
import type { ConfigFs, EntryKind } from "../../src/glusterblock/lio/configfs.js";

type Role =
  | "root"
  | "core"
  | "hba"
  | "so"
  | "alua"
  | "aluaGroup"
  | "fabric"
  | "target"
  | "tpg"
  | "tpgLuns"
  | "lun"
  | "nps"
  | "np"
  | "acls"
  | "acl"
  | "mappedLun"
  | "group";

interface Attr {
  t: "file";
  get: () => string;
  set?: (v: string) => void;
}
interface Link {
  t: "link";
  target: string;
}
interface Dir {
  t: "dir";
  role: Role;
  kernel: boolean;
  children: Map<string, Node>;
  data: Record<string, string | number>;
}
type Node = Dir | Attr | Link;

export class FakeConfigfsError extends Error {
  constructor(
    readonly code: string,
    msg: string,
  ) {
    super(`${code}: ${msg}`);
  }
}
const err = (code: string, msg: string): FakeConfigfsError => new FakeConfigfsError(code, msg);

const ALUA_TYPE_NAMES = ["None", "Implicit", "Explicit", "Implicit and Explicit"];
const SUPPORT_FOR_STATE: Record<number, string> = {
  0: "alua_support_active_optimized",
  1: "alua_support_active_nonoptimized",
  2: "alua_support_standby",
  3: "alua_support_unavailable",
  14: "alua_support_offline",
  15: "alua_support_transitioning",
};

export class FakeConfigfs implements ConfigFs {
  private readonly tree: Dir;
  /** every mutation, in order */
  readonly ops: string[] = [];
  /** size changes pushed to "tcmu-runner" (writes to dev_size of an enabled device) */
  readonly reconfigs: { path: string; size: number }[] = [];
  /** throw a simulated crash instead of performing the mutation with this index (0-based) */
  crashAt: number | undefined;
  /** the initiators logged in to each TPG (login(), logout()) */
  private readonly sessionsOf = new WeakMap<Dir, Set<string>>();
  private readonly dynamicOf = new WeakMap<Dir, Set<string>>();

  constructor(readonly root = "/sys/kernel/config/target") {
    this.tree = this.dir("root", true);
    this.tree.children.set("core", this.dir("core", true));
    this.tree.children.set("version", { t: "file", get: () => "Target Engine Core ConfigFS Infrastructure v5.0\n" });
  }

  // ---- ConfigFs -----------------------------------------------------------

  readdir(path: string): Promise<string[]> {
    return this.run(() => [...this.asDir(this.lookup(path), path).children.keys()]);
  }

  read(path: string): Promise<string> {
    return this.run(() => {
      const n = this.lookup(path);
      if (n.t !== "file") throw err(n.t === "dir" ? "EISDIR" : "EINVAL", path);
      return n.get();
    });
  }

  readlink(path: string): Promise<string> {
    return this.run(() => {
      const n = this.lookup(path);
      if (n.t !== "link") throw err("EINVAL", path);
      return posix.relative(posix.dirname(path), n.target);
    });
  }

  kind(path: string): Promise<EntryKind | undefined> {
    return this.run(() => {
      const n = this.find(path);
      return n === undefined ? undefined : n.t;
    });
  }

  write(path: string, value: string): Promise<void> {
    return this.mutation(`write ${path}`, () => {
      const n = this.lookup(path);
      if (n.t !== "file") throw err("EISDIR", path);
      if (!n.set) throw err("EACCES", `${path} is read-only`);
      n.set(value);
    });
  }

  mkdir(path: string): Promise<void> {
    return this.mutation(`mkdir ${path}`, () => {
      const { parent, name } = this.parentOf(path);
      if (parent.children.has(name)) throw err("EEXIST", path);
      parent.children.set(name, this.makeChild(parent, name, path));
    });
  }

  rmdir(path: string): Promise<void> {
    return this.mutation(`rmdir ${path}`, () => {
      const { parent, name } = this.parentOf(path);
      const n = parent.children.get(name);
      if (!n) throw err("ENOENT", path);
      if (n.t !== "dir") throw err("ENOTDIR", path);
      if (n.kernel) throw err("EPERM", `${path} is a default group`);
      if (this.hasUserChildren(n)) throw err("ENOTEMPTY", path);
      if (this.linksTo(path).length > 0) throw err("EBUSY", `${path} is linked`);
      if (n.role === "aluaGroup") this.dropAluaGroup(posix.dirname(posix.dirname(path)), name);
      if (n.role === "acl") {
        // the kernel closes the sessions of an ACL it removes
        const tpg = this.find(posix.dirname(posix.dirname(path)));
        if (tpg?.t === "dir") this.sessions(tpg).delete(name);
      }
      parent.children.delete(name);
    });
  }

  symlink(target: string, path: string): Promise<void> {
    return this.mutation(`symlink ${path}`, () => {
      const { parent, name } = this.parentOf(path);
      if (parent.children.has(name)) throw err("EEXIST", path);
      const dest = this.find(target);
      if (!dest || dest.t !== "dir") throw err("ENOENT", target);
      const hasLink = [...parent.children.values()].some((c) => c.t === "link");
      if (parent.role === "lun") {
        if (dest.role !== "so") throw err("EINVAL", "LUN link must point at a storage object");
        if (dest.data.enabled !== 1) throw err("ENODEV", "se_device not configured yet, cannot port link");
        if (hasLink) throw err("EEXIST", "LUN already linked");
        parent.data.aluaGroup = "default_tg_pt_gp";
      } else if (parent.role === "mappedLun") {
        if (dest.role !== "lun") throw err("EINVAL", "mapped LUN must point at a TPG LUN");
        // same TPG: .../tpgt_N/acls/<acl>/lun_M  vs  .../tpgt_N/lun/lun_K
        if (posix.dirname(posix.dirname(posix.dirname(posix.dirname(path)))) !== posix.dirname(posix.dirname(target)))
          throw err("EINVAL", "mapped LUN must be in the same TPG");
        if (hasLink) throw err("EEXIST", "mapped LUN already linked");
      } else {
        throw err("EPERM", `no links allowed in ${posix.dirname(path)}`);
      }
      parent.children.set(name, { t: "link", target });
    });
  }

  unlink(path: string): Promise<void> {
    return this.mutation(`unlink ${path}`, () => {
      const { parent, name } = this.parentOf(path);
      const n = parent.children.get(name);
      if (!n) throw err("ENOENT", path);
      if (n.t !== "link") throw err("EPERM", path);
      parent.children.delete(name);
      if (parent.role === "lun") delete parent.data.aluaGroup;
      if (parent.role === "mappedLun") delete parent.data.writeProtect;
    });
  }

  // ---- test helpers -------------------------------------------------------

  /**
   * An initiator's iSCSI login to a TPG, admitted as the kernel admits it: the
   * TPG enabled, and an explicit ACL of its name, a dynamic ACL of its name
   * still in the TPG's list, or generated ACLs on (which make it a dynamic
   * one). A session stays until logout(), the TPG's disable or its ACL's
   * removal; a switch of generate_node_acls to 0 leaves it (the kernel
   * refuses only the next login, and not even that while its dynamic ACL
   * stays).
   */
  login(iqn: string, tag: number, initiator: string): boolean {
    const tpg = this.find(`${this.root}/iscsi/${iqn}/tpgt_${tag}`);
    if (tpg?.t !== "dir" || Number(tpg.data.enable) !== 1) return false;
    const acls = tpg.children.get("acls");
    const explicit = acls?.t === "dir" && acls.children.has(initiator);
    const dynamic = this.dynamicAcls(tpg);
    if (!explicit && !dynamic.has(initiator)) {
      if (this.tpgAttr(tpg, "generate_node_acls") !== 1) return false;
      dynamic.add(initiator);
    }
    this.sessions(tpg).add(initiator);
    return true;
  }

  logout(iqn: string, tag: number, initiator: string): void {
    const tpg = this.find(`${this.root}/iscsi/${iqn}/tpgt_${tag}`);
    if (tpg?.t !== "dir") return;
    this.sessions(tpg).delete(initiator);
    this.sessionEnded(tpg, initiator);
  }

  /** transport_free_session: a dynamic ACL whose last session ended leaves the list unless the TPG caches them */
  private sessionEnded(tpg: Dir, initiator: string): void {
    if (!this.sessions(tpg).has(initiator) && this.tpgAttr(tpg, "cache_dynamic_acls") !== 1) this.dynamicAcls(tpg).delete(initiator);
  }

  private tpgAttr(tpg: Dir, name: string): number {
    const attrib = tpg.children.get("attrib");
    return attrib?.t === "dir" ? Number(attrib.data[name]) : NaN;
  }

  /** the initiators logged in to a TPG now */
  sessionsOn(iqn: string, tag: number): string[] {
    const tpg = this.find(`${this.root}/iscsi/${iqn}/tpgt_${tag}`);
    return tpg?.t === "dir" ? [...this.sessions(tpg)].sort() : [];
  }

  /**
   * The TPG's dynamic ACLs (LIO's se_node_acl with dynamic_node_acl): made by
   * a login that generated ACLs let in, invisible in configfs, and in the
   * kernel's list until the last session ends with cache_dynamic_acls 0.
   * While one is there, its initiator logs in whatever generate_node_acls
   * says (core_tpg_check_initiator_node_acl finds it first).
   */
  private dynamicAcls(tpg: Dir): Set<string> {
    return setOf(this.dynamicOf, tpg);
  }

  /** the initiators whose dynamic ACL the TPG still holds (what configfs does not show) */
  dynamicAclsOn(iqn: string, tag: number): string[] {
    const tpg = this.find(`${this.root}/iscsi/${iqn}/tpgt_${tag}`);
    return tpg?.t === "dir" ? [...this.dynamicAcls(tpg)].sort() : [];
  }

  private sessions(tpg: Dir): Set<string> {
    return setOf(this.sessionsOf, tpg);
  }

  /** a snapshot of every path with its kind, for "nothing left" checks */
  paths(): string[] {
    const out: string[] = [];
    const walk = (d: Dir, p: string): void => {
      for (const [k, v] of d.children) {
        const cp = `${p}/${k}`;
        out.push(`${cp}${v.t === "dir" ? "/" : v.t === "link" ? "@" : ""}`);
        if (v.t === "dir") walk(v, cp);
      }
    };
    walk(this.tree, this.root);
    return out;
  }

  /** user-made objects only (what LIO would list) */
  userObjects(): string[] {
    const out: string[] = [];
    const walk = (d: Dir, p: string): void => {
      for (const [k, v] of d.children) {
        const cp = `${p}/${k}`;
        if (v.t === "link") out.push(`${cp}@`);
        if (v.t === "dir") {
          if (!v.kernel) out.push(`${cp}/`);
          walk(v, cp);
        }
      }
    };
    walk(this.tree, this.root);
    return out;
  }

  // ---- internals ----------------------------------------------------------

  private async run<T>(fn: () => T): Promise<T> {
    await Promise.resolve();
    return fn();
  }

  private async mutation(desc: string, fn: () => void): Promise<void> {
    await Promise.resolve();
    if (this.crashAt !== undefined && this.ops.length >= this.crashAt) throw err("ECRASH", `simulated crash before ${desc}`);
    fn();
    this.ops.push(desc);
  }

  private dir(role: Role, kernel: boolean, data: Record<string, string | number> = {}): Dir {
    return { t: "dir", role, kernel, children: new Map(), data };
  }

  private rel(path: string): string[] {
    if (path !== this.root && !path.startsWith(`${this.root}/`)) throw err("ENOENT", path);
    return path
      .slice(this.root.length)
      .split("/")
      .filter((x) => x !== "");
  }

  private find(path: string): Node | undefined {
    let n: Node = this.tree;
    for (const part of this.rel(path)) {
      if (n.t !== "dir") return undefined;
      const c: Node | undefined = n.children.get(part);
      if (!c) return undefined;
      n = c;
    }
    return n;
  }

  private lookup(path: string): Node {
    const n = this.find(path);
    if (!n) throw err("ENOENT", path);
    return n;
  }

  private asDir(n: Node, path: string): Dir {
    if (n.t !== "dir") throw err("ENOTDIR", path);
    return n;
  }

  private parentOf(path: string): { parent: Dir; name: string } {
    const parent = this.asDir(this.lookup(posix.dirname(path)), posix.dirname(path));
    return { parent, name: posix.basename(path) };
  }

  private hasUserChildren(d: Dir): boolean {
    for (const c of d.children.values()) {
      if (c.t === "link") return true;
      if (c.t === "dir" && (!c.kernel || this.hasUserChildren(c))) return true;
    }
    return false;
  }

  private linksTo(path: string): string[] {
    const out: string[] = [];
    const walk = (d: Dir, p: string): void => {
      for (const [k, v] of d.children) {
        if (v.t === "link" && v.target === path) out.push(`${p}/${k}`);
        if (v.t === "dir") walk(v, `${p}/${k}`);
      }
    };
    walk(this.tree, this.root);
    return out;
  }

  private exported(soPath: string): boolean {
    return this.linksTo(soPath).length > 0;
  }

  /** LUNs in a removed ALUA group fall back to the default group */
  private dropAluaGroup(soPath: string, group: string): void {
    for (const l of this.linksTo(soPath)) {
      const lun = this.find(posix.dirname(l));
      if (lun?.t === "dir" && lun.data.aluaGroup === group) lun.data.aluaGroup = "default_tg_pt_gp";
    }
  }

  private val(d: Dir, key: string, def: string | number = ""): string {
    return String(d.data[key] ?? def);
  }

  /** an attribute stored in d.data[key]; `check` may throw or transform */
  private attr(d: Dir, key: string, def: string | number, check?: (v: string) => string | number): Attr {
    d.data[key] ??= def;
    return {
      t: "file",
      get: () => `${this.val(d, key)}\n`,
      set: (v) => {
        d.data[key] = check ? check(v.trim()) : v.trim();
      },
    };
  }

  private ro(get: () => string): Attr {
    return { t: "file", get };
  }

  private int(v: string): number {
    if (!/^-?\d+$/.test(v)) throw err("EINVAL", `not a number: ${v}`);
    return Number(v);
  }

  private bool(v: string): number {
    const n = this.int(v);
    if (n !== 0 && n !== 1) throw err("EINVAL", `not 0/1: ${v}`);
    return n;
  }

  private group(kernel: boolean, entries: Record<string, Node>, role: Role = "group"): Dir {
    const d = this.dir(role, kernel);
    for (const [k, v] of Object.entries(entries)) d.children.set(k, v);
    return d;
  }

  private makeChild(parent: Dir, name: string, path: string): Dir {
    switch (parent.role) {
      case "root":
        if (name !== "iscsi") throw err("ENOENT", `no fabric module ${name}`);
        return this.group(false, { discovery_auth: this.dir("group", true) }, "fabric");
      case "core":
        if (!/^[a-z_]+_\d+$/.test(name)) throw err("EINVAL", `bad HBA name ${name}`);
        return this.group(false, { hba_info: this.ro(() => "HBA Index: 0 plugin: user version: v5.0\n"), hba_mode: this.ro(() => "0\n") }, "hba");
      case "hba":
        if (!posix.basename(posix.dirname(path)).startsWith("user_")) throw err("EINVAL", "only user HBAs are imitated");
        return this.makeStorageObject(path);
      case "alua":
        return this.makeAluaGroup(parent, path, name, 0, 3);
      case "fabric":
        if (!/^(iqn\.|eui\.|naa\.)/.test(name)) throw err("EINVAL", `bad target name ${name}`);
        return this.group(false, { fabric_statistics: this.dir("group", true) }, "target");
      case "target":
        if (!/^tpgt_\d+$/.test(name) || name === "tpgt_0") throw err("EINVAL", `bad TPG name ${name}`);
        return this.makeTpg();
      case "tpgLuns": {
        if (!/^lun_\d+$/.test(name)) throw err("EINVAL", `bad LUN name ${name}`);
        const lun = this.dir("lun", false);
        const soOf = (): string | undefined => {
          for (const c of lun.children.values()) if (c.t === "link") return c.target;
          return undefined;
        };
        lun.children.set("alua_tg_pt_gp", {
          t: "file",
          get: () => {
            const g = lun.data.aluaGroup;
            return g === undefined ? "" : `TG Port Alias: ${String(g)}\nTG Port Group ID: 0\n`;
          },
          set: (v) => {
            const so = soOf();
            if (so === undefined) throw err("ENODEV", "LUN not linked");
            const g = this.find(`${so}/alua/${v.trim()}`);
            if (!g || g.t !== "dir") throw err("EINVAL", `no ALUA group ${v.trim()}`);
            lun.data.aluaGroup = v.trim();
          },
        });
        lun.children.set("statistics", this.dir("group", true));
        return lun;
      }
      case "nps":
        if (!/^(\d+\.\d+\.\d+\.\d+|\[[0-9a-fA-F:]+\]):\d+$/.test(name)) throw err("EINVAL", `bad portal ${name}`);
        return this.dir("np", false);
      case "acls": {
        if (!/^(iqn\.|eui\.|naa\.)/.test(name)) throw err("EINVAL", `bad initiator ${name}`);
        // core_tpg_add_initiator_node_acl: a dynamic ACL of that name becomes this explicit one
        const tpg = this.find(posix.dirname(posix.dirname(path)));
        if (tpg?.t === "dir") this.dynamicAcls(tpg).delete(name);
        return this.makeAcl(posix.dirname(posix.dirname(path)), name);
      }
      case "acl": {
        if (!/^lun_\d+$/.test(name)) throw err("EINVAL", `bad mapped LUN ${name}`);
        // as the kernel: write_protect is the mapping's (its se_dev_entry), made by the link and gone with it; unlinked,
        // it reads empty and a write is accepted but changes nothing. A new link starts read-write (prod_mode_write_protect 0)
        const ml = this.dir("mappedLun", false);
        const linked = (): boolean => [...ml.children.values()].some((c) => c.t === "link");
        ml.children.set("write_protect", {
          t: "file",
          get: () => (linked() ? `${Number(ml.data.writeProtect ?? 0)}\n` : ""),
          set: (v) => {
            const wp = this.bool(v.trim());
            if (linked()) ml.data.writeProtect = wp;
          },
        });
        return ml;
      }
      default:
        throw err("EPERM", `cannot mkdir in ${posix.dirname(path)}`);
    }
  }

  private makeStorageObject(path: string): Dir {
    const so = this.dir("so", false, {
      enabled: 0,
      dev_config: "",
      dev_size: 0,
      max_data_area_mb: 1024,
      hw_block_size: 512,
      hw_max_sectors: 128,
      cmd_ring_size_mb: 8,
    });
    const set = (k: string, v: string): void => {
      switch (k) {
        case "dev_config":
          so.data.dev_config = v;
          return;
        case "dev_size":
          so.data.dev_size = this.int(v);
          return;
        case "cmd_ring_size_mb":
          if (this.int(v) < 1 || this.int(v) > 8) throw err("EINVAL", `${k} takes 1..8`);
          if (so.data.enabled === 1) throw err("EINVAL", `cannot set ${k} after enable`);
          so.data[k] = this.int(v);
          return;
        case "max_data_area_mb":
        case "hw_block_size":
          if (so.data.enabled === 1) throw err("EINVAL", `cannot set ${k} after enable`);
          so.data[k] = this.int(v);
          return;
        case "hw_max_sectors":
          so.data[k] = this.int(v);
          return;
        default:
          throw err("EINVAL", `unknown control ${k}`);
      }
    };
    const attrib = this.dir("group", true);
    attrib.children.set("dev_config", {
      t: "file",
      get: () => `${this.val(so, "dev_config")}\n`,
      set: (v) => {
        so.data.dev_config = v.trim();
      },
    });
    attrib.children.set("dev_size", {
      t: "file",
      get: () => `${this.val(so, "dev_size")}\n`,
      set: (v) => {
        const n = this.int(v.trim());
        if (so.data.enabled === 1) this.reconfigs.push({ path, size: n });
        so.data.dev_size = n;
      },
    });
    attrib.children.set(
      "cmd_time_out",
      this.attr(so, "cmd_time_out", 30, (v) => this.int(v)),
    );
    attrib.children.set(
      "qfull_time_out",
      this.attr(so, "qfull_time_out", -1, (v) => this.int(v)),
    );
    attrib.children.set(
      "max_data_area_mb",
      this.ro(() => `${this.val(so, "max_data_area_mb")}\n`),
    );
    attrib.children.set(
      "cmd_ring_size_mb",
      this.ro(() => `${this.val(so, "cmd_ring_size_mb")}\n`),
    );
    attrib.children.set(
      "hw_block_size",
      this.ro(() => `${this.val(so, "hw_block_size")}\n`),
    );
    attrib.children.set(
      "hw_max_sectors",
      this.ro(() => `${this.val(so, "hw_max_sectors")}\n`),
    );
    attrib.children.set(
      "alua_support",
      this.ro(() => "1\n"),
    );
    attrib.children.set(
      "pgr_support",
      this.ro(() => "1\n"),
    );
    attrib.children.set(
      "nl_reply_supported",
      this.attr(so, "nl_reply_supported", 0, (v) => this.int(v)),
    );
    const wwn = this.dir("group", true);
    wwn.children.set("vpd_unit_serial", {
      t: "file",
      get: () => `T10 VPD Unit Serial Number: ${this.val(so, "wwn")}\n`,
      set: (v) => {
        if (this.exported(path)) throw err("EINVAL", "Unable to set VPD Unit Serial while active exports");
        so.data.wwn = v.trim();
      },
    });
    const alua = this.dir("alua", true);
    so.children.set("attrib", attrib);
    so.children.set("wwn", wwn);
    so.children.set("alua", alua);
    so.children.set("pr", this.dir("group", true));
    so.children.set("statistics", this.dir("group", true));
    alua.children.set("default_tg_pt_gp", { ...this.makeAluaGroup(alua, `${path}/alua/default_tg_pt_gp`, "default_tg_pt_gp", 0, 3), kernel: true });
    so.children.set("control", {
      t: "file",
      get: () => "",
      set: (v) => {
        for (const pair of v.trim().split(",")) {
          const eq = pair.indexOf("=");
          if (eq < 0) throw err("EINVAL", `bad control ${pair}`);
          set(pair.slice(0, eq), pair.slice(eq + 1));
        }
      },
    });
    so.children.set("enable", {
      t: "file",
      get: () => `${this.val(so, "enabled")}\n`,
      set: (v) => {
        if (v.trim() !== "1") throw err("EINVAL", "enable takes 1");
        if (so.data.enabled === 1) throw err("EEXIST", "device already configured");
        if (this.val(so, "dev_config") === "" || so.data.dev_size === 0) throw err("EINVAL", "dev_config and dev_size needed");
        so.data.enabled = 1;
      },
    });
    so.children.set(
      "info",
      this.ro(() => {
        const st = this.exported(path) ? "ACTIVATED" : "DEACTIVATED";
        return (
          `Status: ${st}  Max Queue Depth: 0  SectorSize: 512  HwMaxSectors: ${this.val(so, "hw_max_sectors")}\n` +
          `        Config: ${this.val(so, "dev_config") || "NULL"} Size: ${this.val(so, "dev_size")} MaxDataAreaMB: ${this.val(so, "max_data_area_mb")} DataPagesPerBlk: 1 CmdRingSizeMB: ${this.val(so, "cmd_ring_size_mb")}\n`
        );
      }),
    );
    so.children.set("udev_path", this.attr(so, "udev_path", ""));
    return so;
  }

  private makeAluaGroup(_alua: Dir, path: string, _name: string, id: number, type: number): Dir {
    const soPath = posix.dirname(posix.dirname(path));
    const g = this.dir("aluaGroup", false, { tg_pt_gp_id: id, alua_access_type: type, alua_access_state: 0, alua_access_status: 0 });
    g.children.set(
      "tg_pt_gp_id",
      this.attr(g, "tg_pt_gp_id", id, (v) => this.int(v)),
    );
    g.children.set("alua_access_type", {
      t: "file",
      get: () => `${ALUA_TYPE_NAMES[Number(g.data.alua_access_type)] ?? "None"}\n`,
      set: (v) => {
        const n = this.int(v.trim());
        if (n < 0 || n > 3) throw err("EINVAL", "bad access type");
        g.data.alua_access_type = n;
      },
    });
    g.children.set("alua_access_state", {
      t: "file",
      get: () => `${this.val(g, "alua_access_state")}\n`,
      set: (v) => {
        const n = this.int(v.trim());
        const so = this.find(soPath);
        if (Number(g.data.tg_pt_gp_id) === 0 && posix.basename(path) !== "default_tg_pt_gp") throw err("EINVAL", "tg_pt_gp_id not set");
        if (!so || so.t !== "dir" || so.data.enabled !== 1) throw err("ENODEV", "device not configured");
        if ((Number(g.data.alua_access_type) & 1) === 0) throw err("EINVAL", "implicit ALUA disabled");
        const sup = SUPPORT_FOR_STATE[n];
        if (sup === undefined || Number(g.data[sup] ?? 1) !== 1) throw err("EINVAL", `state ${n} unsupported`);
        if (Number(g.data.alua_access_state) !== n) g.data.alua_access_status = 2;
        g.data.alua_access_state = n;
      },
    });
    g.children.set(
      "alua_access_status",
      this.ro(() => `${["None", "Altered by Explicit STPG", "Altered by Implicit ALUA"][Number(g.data.alua_access_status)] ?? "None"}\n`),
    );
    for (const s of Object.values(SUPPORT_FOR_STATE))
      g.children.set(
        s,
        this.attr(g, s, 1, (v) => this.bool(v)),
      );
    g.children.set(
      "members",
      this.ro(() => ""),
    );
    return g;
  }

  private makeTpg(): Dir {
    const tpg = this.dir("tpg", false, { enable: 0 });
    const attrib = this.dir("group", true);
    const param = this.dir("group", true, { AuthMethod: "CHAP,None" });
    const defaults: Record<string, number> = {
      authentication: 1,
      generate_node_acls: 0,
      demo_mode_write_protect: 1,
      tpg_enabled_sendtargets: 1,
      cache_dynamic_acls: 0,
      prod_mode_write_protect: 0,
      demo_mode_discovery: 1,
      login_timeout: 15,
    };
    for (const [k, v] of Object.entries(defaults)) {
      attrib.children.set(
        k,
        this.attr(attrib, k, v, (x) => {
          const n = this.bool(x);
          if (k === "authentication") param.data.AuthMethod = n === 1 ? "CHAP" : "CHAP,None";
          // iscsit_ta_generate_node_acls: generated ACLs turn caching on; iscsit_ta_cache_dynamic_acls: caching stays on while they are
          if (k === "generate_node_acls" && n === 1) attrib.data.cache_dynamic_acls = 1;
          if (k === "cache_dynamic_acls" && n === 0 && Number(attrib.data.generate_node_acls) === 1) return 1;
          return n;
        }),
      );
    }
    attrib.children.set(
      "login_timeout",
      this.attr(attrib, "login_timeout", 15, (v) => this.int(v)),
    );
    param.children.set("AuthMethod", this.attr(param, "AuthMethod", "CHAP,None"));
    tpg.children.set("attrib", attrib);
    tpg.children.set("param", param);
    tpg.children.set("auth", this.makeAuth());
    tpg.children.set("acls", this.dir("acls", true));
    tpg.children.set("lun", this.dir("tpgLuns", true));
    tpg.children.set("np", this.dir("nps", true));
    tpg.children.set("enable", {
      t: "file",
      get: () => `${this.val(tpg, "enable")}\n`,
      set: (v) => {
        const n = this.bool(v.trim());
        // older kernels refuse to enable an active TPG (6.1 accepts it)
        if (Number(tpg.data.enable) === n) throw err("EINVAL", `TPG already ${n === 1 ? "active" : "inactive"}`);
        tpg.data.enable = n;
        // a disabled TPG drops its sessions
        if (n === 0) {
          const ended = [...this.sessions(tpg)];
          this.sessions(tpg).clear();
          for (const i of ended) this.sessionEnded(tpg, i);
        }
      },
    });
    // as target_show_dynamic_sessions: the initiator of each session through a generated ACL, one a line
    tpg.children.set(
      "dynamic_sessions",
      this.ro(() => {
        const acls = tpg.children.get("acls");
        return [...this.sessions(tpg)]
          .filter((i) => !(acls?.t === "dir" && acls.children.has(i)))
          .map((i) => `${i}\n`)
          .join("");
      }),
    );
    return tpg;
  }

  private makeAuth(): Dir {
    const auth = this.dir("group", true);
    for (const k of ["userid", "password", "userid_mutual", "password_mutual"]) auth.children.set(k, this.attr(auth, k, ""));
    auth.children.set(
      "authenticate_target",
      this.ro(() => "0\n"),
    );
    return auth;
  }

  private makeAcl(tpgPath: string, initiator: string): Dir {
    const acl = this.dir("acl", false);
    acl.children.set("auth", this.makeAuth());
    acl.children.set("attrib", this.dir("group", true));
    acl.children.set("param", this.dir("group", true));
    acl.children.set("fabric_statistics", this.dir("group", true));
    acl.children.set(
      "info",
      this.ro(() => {
        const tpg = this.find(tpgPath);
        return tpg?.t === "dir" && this.sessions(tpg).has(initiator)
          ? `InitiatorName: ${initiator}\nInitiatorAlias: \nLIO Session ID: 1   ISID: 0x00023d000001  TSIH: 1  SessionType: Normal\nSession State: TARG_SESS_STATE_LOGGED_IN\n`
          : `No active iSCSI Session for Initiator Endpoint: ${initiator}\n`;
      }),
    );
    acl.children.set(
      "cmdsn_depth",
      this.attr(acl, "cmdsn_depth", 64, (v) => this.int(v)),
    );
    return acl;
  }
}

/** The set `book` keeps for `tpg`, made empty the first time it is asked for. */
function setOf(book: WeakMap<Dir, Set<string>>, tpg: Dir): Set<string> {
  let set = book.get(tpg);
  if (!set) {
    set = new Set();
    book.set(tpg, set);
  }
  return set;
}
