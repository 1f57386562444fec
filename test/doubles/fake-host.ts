// A fake worker node for unit tests: a temp-dir sysfs/dev/etc tree laid out
// as the kernel lays it out, and a fake exec that answers iscsiadm,
// multipath(d), findmnt, mount, blkid and mkfs the way the real tools do
// (recorded output shapes), changing the tree as the kernel would: a login
// makes a session, a LUN scan makes a disk, an allowed WWID makes a map.
// mkfs writes to the LUN, and a mkfs killed midway leaves what the real ones
// leave (format-intent.ts): mkfs.xfs an in-progress superblock with its UUID
// that will not mount, mke2fs no signature but written blocks.
import { mkdir, mkdtemp, readFile, rm, stat, symlink, truncate, writeFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { ExecError, type Exec, type ExecOptions, type ExecResult } from "../../src/util/exec.js";
import { scrubText } from "../../src/util/redact.js";
import type { HostPaths } from "../../src/node/host-paths.js";
import type { MountEntry } from "../../src/node/mount.js";
import type { LoginProbe, LoginProbeRequest } from "../../src/node/login-probe.js";

export interface FakeTarget {
  iqn: string;
  portals: string[];
  /** multipath form ("3" + NAA hex) the LUN answers with */
  wwid: string;
  sizeBytes: number;
  chap?: { username: string; password: string };
  /** initiators the target admits; absent: any */
  acl?: string[];
  /** portals that refuse connections */
  down?: Set<string>;
}

export interface ExecCall {
  file: string;
  args: string[];
  /** argv as exec would log it (secrets scrubbed) */
  logged: string;
  secrets: readonly string[];
}

interface FakeSession {
  sid: number;
  host: number;
  iqn: string;
  portal: string;
  disks: Map<number, string>;
}

interface FakeMap {
  dm: string;
  wwid: string;
  slaves: string[];
}

/**
 * Fault injection for crash and failure matrices: `before` is asked before
 * each host action (a command, a sysfs write) and makes it fail with exit 1,
 * not run, by returning true (or throws: a process that is gone); `after` is
 * called once it ran (throwing there is a process killed right after it).
 */
export interface HostFaults {
  before?(action: HostAction): boolean;
  after?(action: HostAction): void;
  /**
   * Asked as a command starts: a kill returned here is the process (and the
   * plugin with it) killed midway; it is called once the command left what
   * it writes so far (only mkfs writes anything midway), and never settles.
   */
  midway?(action: HostAction): (() => Promise<never>) | undefined;
}

/** What mkfs left on a LUN. */
export interface LunFs {
  /** what blkid reports, "" when no signature (mke2fs writes its superblock last) */
  type: string;
  uuid: string;
  /** mkfs finished; an unfinished filesystem does not mount */
  complete: boolean;
}

export type HostAction = { kind: "exec"; file: string; args: readonly string[] } | { kind: "sysfs"; path: string; value: string };

export const LIO_TCMU_CONFIG = `defaults {
	user_friendly_names no
	find_multipaths "greedy"
}
devices {
	device {
		vendor "(LIO-ORG|SUSE)"
		product "."
		path_grouping_policy "group_by_prio"
		path_checker "directio"
		no_path_retry 12
	}
	device {
		vendor "LIO-ORG"
		product "TCMU device"
		path_grouping_policy "failover"
		path_checker "directio"
		detect_checker "no"
		no_path_retry 12
	}
}
`;

/** the initiator name in the fake host's initiatorname.iscsi */
export const FAKE_INITIATOR_IQN = "iqn.1993-08.org.debian:01:worker1";

/** What iscsiadm prints when it logs in (stdout), as open-iscsi 2.1.8 does. */
const loggingIn = (iqn: string, portal: string): string => `Logging in to [iface: default, target: ${iqn}, portal: ${portal.replace(":", ",")}]\n`;

/**
 * What iscsiadm prints on stderr when a login gets exit 24
 * (ISCSI_ERR_LOGIN_AUTH_FAILED), CHAP and ACL refusals alike
 * (test/fixtures/iscsiadm/login-exit-24.*, for one target and portal).
 */
const loginRefused = (iqn: string, portal: string): string =>
  `iscsiadm: Could not login to [iface: default, target: ${iqn}, portal: ${portal.replace(":", ",")}].\n` +
  "iscsiadm: initiator reported error (24 - iSCSI login failed due to authorization failure)\n" +
  "iscsiadm: Could not log into all portals\n";

const ok = (file: string, args: readonly string[], stdout = "", exitCode = 0): ExecResult => ({
  file,
  redactedArgs: args,
  stdout,
  stderr: "",
  exitCode,
  durationMs: 1,
});
const fail = (file: string, args: readonly string[], exitCode: number, stderr: string, stdout = ""): ExecError =>
  new ExecError(file, args, exitCode, undefined, false, stderr, stdout, 1, `exit code ${exitCode}`);

export class FakeHost {
  readonly calls: ExecCall[] = [];
  readonly targets = new Map<string, FakeTarget>();
  readonly mounts: MountEntry[] = [];
  /** blkid answers by device path */
  readonly blkid = new Map<string, { TYPE?: string; PTTYPE?: string }>();
  readonly allowedWwids = new Set<string>();
  /** what mkfs wrote, by LUN identity (survives a map's removal) */
  readonly fsByWwid = new Map<string, LunFs>();
  /** mkfs runs on a LUN after a filesystem of it had been mounted: data lost */
  formatsOverMounted = 0;
  private readonly mountedWwids = new Set<string>();
  /** iscsiadm node records: iqn -> portal -> settings */
  readonly nodeRecords = new Map<string, Map<string, Map<string, string>>>();
  multipathConfig = LIO_TCMU_CONFIG;
  /** multipathd builds maps on its own (uevents); off to test the nudge */
  autoMap = true;
  /** how long udev takes to process a new disk (its database entry appears then); multipathd refuses the disk before */
  udevDelayMs = 0;
  /** `multipathd add path` calls refused because udev had not processed the disk yet */
  readonly uninitializedAddPaths: string[] = [];
  /** programs (or "prog arg") that fail with exit 1 */
  readonly failing = new Set<string>();
  faults: HostFaults | undefined;
  private readonly sessions: FakeSession[] = [];
  private readonly maps: FakeMap[] = [];
  private nextSid = 1;
  private nextHost = 2;
  private nextDisk = 0;
  private nextDm = 0;

  private constructor(
    readonly root: string,
    readonly paths: HostPaths,
  ) {}

  static async create(): Promise<FakeHost> {
    const root = await mkdtemp(join(tmpdir(), "gbcsi-node-"));
    const paths: HostPaths = {
      sysfs: join(root, "sys"),
      dev: join(root, "dev"),
      iscsiDir: join(root, "etc/iscsi"),
      stateDir: join(root, "var/lib/gluster-block-csi"),
      lockDir: join(root, "run/lock"),
      udevData: join(root, "run/udev/data"),
    };
    for (const d of [
      "sys/class/iscsi_session",
      "sys/class/scsi_host",
      "sys/block",
      "sys/devices/platform",
      "dev",
      "etc/iscsi/nodes",
      "run/lock",
      "run/udev/data",
      "kubelet",
    ]) {
      await mkdir(join(root, d), { recursive: true });
    }
    await writeFile(join(paths.iscsiDir, "initiatorname.iscsi"), `## DO NOT EDIT\nInitiatorName=${FAKE_INITIATOR_IQN}\n`);
    return new FakeHost(root, paths);
  }

  async cleanup(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }

  addTarget(t: FakeTarget): void {
    this.targets.set(t.iqn, t);
  }

  sessionCount(iqn?: string): number {
    return this.sessions.filter((s) => iqn === undefined || s.iqn === iqn).length;
  }
  mapCount(): number {
    return this.maps.length;
  }
  diskCount(): number {
    return this.sessions.reduce((n, s) => n + s.disks.size, 0);
  }
  loginCount(): number {
    return this.calls.filter((c) => c.file === "iscsiadm" && c.args.includes("--login")).length;
  }
  mapOf(wwid: string): string | undefined {
    return this.maps.find((m) => m.wwid === wwid)?.dm;
  }
  /** the paths of a map ("dm-0") */
  slavesOf(dm: string): string[] {
    return [...(this.maps.find((m) => m.dm === dm)?.slaves ?? [])];
  }

  private sys(...p: string[]): string {
    return join(this.paths.sysfs, ...p);
  }

  // ---- the kernel side -------------------------------------------------

  private async makeSession(iqn: string, portal: string): Promise<FakeSession> {
    const s: FakeSession = { sid: this.nextSid++, host: this.nextHost++, iqn, portal, disks: new Map() };
    const devDir = this.sys("devices/platform", `host${s.host}`, `session${s.sid}`);
    const conn = `connection${s.sid}:0`;
    const connDir = join(devDir, conn, "iscsi_connection", conn);
    await mkdir(connDir, { recursive: true });
    const [addr = "", port = ""] = portal.split(":");
    await writeFile(join(connDir, "persistent_address"), `${addr}\n`);
    await writeFile(join(connDir, "persistent_port"), `${port}\n`);
    const classDir = this.sys("class/iscsi_session", `session${s.sid}`);
    await mkdir(classDir, { recursive: true });
    await writeFile(join(classDir, "targetname"), `${iqn}\n`);
    await writeFile(join(classDir, "state"), "LOGGED_IN\n");
    await symlink(devDir, join(classDir, "device"));
    await mkdir(this.sys("class/scsi_host", `host${s.host}`), { recursive: true });
    await writeFile(this.sys("class/scsi_host", `host${s.host}`, "scan"), "");
    this.sessions.push(s);
    return s;
  }

  async setSessionState(iqn: string, portal: string, state: string): Promise<void> {
    const s = this.sessions.find((x) => x.iqn === iqn && x.portal === portal);
    if (s) await writeFile(this.sys("class/iscsi_session", `session${s.sid}`, "state"), `${state}\n`);
  }

  private async removeSession(s: FakeSession): Promise<void> {
    for (const lun of [...s.disks.keys()]) await this.removeDisk(s, lun);
    await rm(this.sys("class/iscsi_session", `session${s.sid}`), { recursive: true, force: true });
    await rm(this.sys("devices/platform", `host${s.host}`), { recursive: true, force: true });
    await rm(this.sys("class/scsi_host", `host${s.host}`), { recursive: true, force: true });
    this.sessions.splice(this.sessions.indexOf(s), 1);
  }

  private diskName(): string {
    return `sd${String.fromCharCode(98 + this.nextDisk++)}`;
  }

  /** A LUN appears on a session (what a scan does); `wwid` overrides the target's (a wrong LUN). */
  async addDisk(s: FakeSession, lun: number, wwid?: string): Promise<string> {
    const t = this.targets.get(s.iqn);
    const name = this.diskName();
    const hctl = `${s.host}:0:0:${lun}`;
    const lunDir = this.sys("devices/platform", `host${s.host}`, `session${s.sid}`, `target${s.host}:0:0`, hctl);
    await mkdir(join(lunDir, "block", name), { recursive: true });
    await writeFile(join(lunDir, "state"), "running\n");
    await writeFile(join(lunDir, "wwid"), `naa.${(wwid ?? t?.wwid ?? "").slice(1)}\n`);
    // what sd sets up for a thin LIO LUN: WRITE SAME(16) with UNMAP, the command tcmu-runner 1.5.4 dies of
    await mkdir(join(lunDir, "scsi_disk", hctl), { recursive: true });
    await writeFile(join(lunDir, "scsi_disk", hctl, "max_write_same_blocks"), "8388607\n");
    await writeFile(join(lunDir, "scsi_disk", hctl, "zeroing_mode"), "writesame_16_unmap\n");
    const blk = this.sys("block", name);
    await mkdir(join(blk, "holders"), { recursive: true });
    await symlink(lunDir, join(blk, "device"));
    const devNo = `8:${16 * this.nextDisk}`;
    await writeFile(join(blk, "dev"), `${devNo}\n`);
    const udevEntry = join(this.paths.udevData, `b${devNo}`);
    if (this.udevDelayMs > 0) setTimeout(() => void writeFile(udevEntry, "").catch(() => undefined), this.udevDelayMs).unref();
    else await writeFile(udevEntry, "");
    await writeFile(join(blk, "size"), `${Math.floor((t?.sizeBytes ?? 0) / 512)}\n`);
    s.disks.set(lun, name);
    if (this.autoMap) await this.mapDisk(name, wwid ?? t?.wwid ?? "");
    return name;
  }

  private async removeDisk(s: FakeSession, lun: number): Promise<void> {
    const name = s.disks.get(lun);
    if (!name) return;
    for (const m of this.maps) m.slaves = m.slaves.filter((x) => x !== name);
    await rm(this.sys("block", name), { recursive: true, force: true });
    await rm(this.sys("devices/platform", `host${s.host}`, `session${s.sid}`, `target${s.host}:0:0`, `${s.host}:0:0:${lun}`), { recursive: true, force: true });
    s.disks.delete(lun);
    for (const m of this.maps) await this.writeMap(m);
  }

  /** What multipathd does with a new path whose WWID it may map. */
  async mapDisk(disk: string, wwid: string): Promise<void> {
    if (!this.allowedWwids.has(wwid)) return;
    let m = this.maps.find((x) => x.wwid === wwid);
    if (!m) {
      m = { dm: `dm-${this.nextDm++}`, wwid, slaves: [] };
      this.maps.push(m);
      // a device node that reads as zeros, unless mkfs wrote to the LUN
      await writeFile(join(this.paths.dev, m.dm), "");
      await truncate(join(this.paths.dev, m.dm), 8 * 1024 * 1024);
      if (this.fsByWwid.has(wwid)) await this.writeHead(m.dm);
    }
    if (!m.slaves.includes(disk)) m.slaves.push(disk);
    await this.writeMap(m);
  }

  private async writeMap(m: FakeMap): Promise<void> {
    const dir = this.sys("block", m.dm);
    await rm(join(dir, "slaves"), { recursive: true, force: true });
    await mkdir(join(dir, "slaves"), { recursive: true });
    await mkdir(join(dir, "dm"), { recursive: true });
    await mkdir(join(dir, "holders"), { recursive: true });
    await writeFile(join(dir, "dm", "uuid"), `mpath-${m.wwid}\n`);
    await writeFile(join(dir, "dm", "name"), `${m.wwid}\n`);
    await writeFile(join(dir, "dev"), `253:${m.dm.slice(3)}\n`);
    await writeFile(join(dir, "ro"), "0\n");
    const t = [...this.targets.values()].find((x) => x.wwid === m.wwid);
    await writeFile(join(dir, "size"), `${Math.floor((t?.sizeBytes ?? 0) / 512)}\n`);
    for (const s of m.slaves) await writeFile(join(dir, "slaves", s), "");
  }

  /** Non-zero blocks in the first MiBs, as any mkfs leaves them. */
  private async writeHead(dm: string): Promise<void> {
    await writeFile(join(this.paths.dev, dm), Buffer.from("inode tables and bitmaps"), { flag: "r+" }).catch(() => undefined);
  }

  private async removeMap(m: FakeMap): Promise<void> {
    await rm(this.sys("block", m.dm), { recursive: true, force: true });
    await rm(join(this.paths.dev, m.dm), { force: true });
    this.maps.splice(this.maps.indexOf(m), 1);
  }

  /** The sysfs writer: the kernel's reaction to scan, delete and rescan. */
  readonly sysfsWriter = async (path: string, value: string): Promise<void> => {
    const action: HostAction = { kind: "sysfs", path, value };
    if (this.faults?.before?.(action)) throw Object.assign(new Error(`EIO: injected failure writing ${path}`), { code: "EIO" });
    await this.writeSysfs(path, value);
    this.faults?.after?.(action);
  };

  private async writeSysfs(path: string, value: string): Promise<void> {
    const scan = /class\/scsi_host\/host(\d+)\/scan$/.exec(path);
    if (scan) {
      const s = this.sessions.find((x) => x.host === Number(scan[1]));
      const [, , lun] = value.split(" ").map(Number);
      if (s && lun !== undefined && !s.disks.has(lun)) await this.addDisk(s, lun);
      return;
    }
    const del = /block\/(sd[a-z]+)\/device\/delete$/.exec(path);
    if (del) {
      const s = this.sessions.find((x) => [...x.disks.values()].includes(del[1] ?? ""));
      const lun = s ? [...s.disks.entries()].find(([, n]) => n === del[1])?.[0] : undefined;
      if (s && lun !== undefined) await this.removeDisk(s, lun);
      return;
    }
    const rescan = /block\/(sd[a-z]+)\/device\/rescan$/.exec(path);
    if (rescan) {
      const s = this.sessions.find((x) => [...x.disks.values()].includes(rescan[1] ?? ""));
      const t = s ? this.targets.get(s.iqn) : undefined;
      if (t) await writeFile(this.sys("block", rescan[1] ?? "", "size"), `${Math.floor(t.sizeBytes / 512)}\n`);
      return;
    }
    await writeFile(path, value);
  }

  /** probe logins the plugin sent (login-probe.ts), answered from the targets as LIO would */
  readonly probes: LoginProbeRequest[] = [];

  /** The target's answer to a probe login: 0x0203 unknown target, 0x0202 not on its ACL, else 0 with its AuthMethod. */
  readonly loginProbe: LoginProbe = (r) => {
    this.probes.push(r);
    const t = this.targets.get(r.targetIqn);
    if (!t || !t.portals.includes(r.portal) || t.down?.has(r.portal)) return Promise.reject(new Error(`connect ECONNREFUSED ${r.portal}`));
    if (t.acl && !t.acl.includes(r.initiatorIqn)) return Promise.resolve({ statusClass: 2, statusDetail: 2 });
    return Promise.resolve({ statusClass: 0, statusDetail: 0, authMethod: t.chap ? "CHAP" : "None" });
  };

  // ---- the tools -------------------------------------------------------

  readonly exec: Exec = async (file: string, argsIn: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> => {
    let prog = file;
    let args = [...argsIn];
    if (prog === "flock") {
      // flock -w N LOCKFILE PROG ARGS...
      prog = args[3] ?? "";
      args = args.slice(4);
    }
    const secrets = opts.secrets ?? [];
    this.calls.push({ file: prog, args, logged: scrubText([prog, ...args].join(" "), secrets), secrets });
    const action: HostAction = { kind: "exec", file: prog, args };
    if (this.failing.has(prog) || this.failing.has(`${prog} ${args[0] ?? ""}`) || this.faults?.before?.(action)) throw fail(prog, args, 1, "injected failure");
    const kill = this.faults?.midway?.(action);
    if (kill) {
      if (prog.startsWith("mkfs.")) await this.mkfs(prog, args, false);
      return kill();
    }
    const r = await this.run(prog, args);
    this.faults?.after?.(action);
    if (r.exitCode !== 0 && !(opts.okExitCodes ?? []).includes(r.exitCode)) throw fail(prog, args, r.exitCode, r.stderr, r.stdout);
    return r;
  };

  private async run(prog: string, args: string[]): Promise<ExecResult> {
    switch (prog) {
      case "iscsiadm":
        return this.iscsiadm(args);
      case "multipath":
        return this.multipath(args);
      case "multipathd":
        return this.multipathd(args);
      case "findmnt":
        return this.findmnt(args);
      case "mount":
        return this.mount(args);
      case "umount": {
        const target = args[args.length - 1] ?? "";
        const i = this.mounts.map((m) => m.target).lastIndexOf(target);
        if (i < 0) return { ...ok(prog, args), exitCode: 32, stderr: `umount: ${target}: not mounted.` };
        this.mounts.splice(i, 1);
        return ok(prog, args);
      }
      case "blkid": {
        const dev = args[args.length - 1] ?? "";
        const wwid = this.maps.find((m) => m.dm === basename(dev))?.wwid;
        const onDisk = wwid ? this.fsByWwid.get(wwid) : undefined;
        const b = this.blkid.get(dev) ?? (onDisk && onDisk.type !== "" ? { UUID: onDisk.uuid, TYPE: onDisk.type } : undefined);
        if (!b) return ok(prog, args, "", 2);
        return ok(
          prog,
          args,
          `DEVNAME=${dev}\n${Object.entries(b)
            .map(([k, v]) => `${k}=${v}`)
            .join("\n")}\n`,
        );
      }
      case "mkfs.xfs":
      case "mkfs.ext4":
        return this.mkfs(prog, args, true);
      case "e2fsck":
      case "xfs_growfs":
      case "resize2fs":
      case "blockdev":
        return ok(prog, args);
      default:
        return { ...ok(prog, args), exitCode: 127, stderr: `${prog}: not faked` };
    }
  }

  /** mkfs.xfs [-f] -m uuid=U DEV, mkfs.ext4 -F ... -U U DEV; `finish` false: killed midway. */
  private async mkfs(prog: string, args: string[], finish: boolean): Promise<ExecResult> {
    const dev = args[args.length - 1] ?? "";
    const m = this.maps.find((x) => x.dm === basename(dev));
    if (!m) return { ...ok(prog, args), exitCode: 1, stderr: `${dev}: No such file or directory` };
    const type = prog.slice("mkfs.".length);
    const at = (flag: string): string | undefined => {
      const i = args.indexOf(flag);
      return i >= 0 ? args[i + 1] : undefined;
    };
    const uuid = type === "xfs" ? (at("-m") ?? "").replace(/^uuid=/, "") : (at("-U") ?? "");
    const before = this.fsByWwid.get(m.wwid);
    if (type === "xfs" && before && before.type !== "" && !args.includes("-f")) {
      return {
        ...ok(prog, args),
        exitCode: 1,
        stderr: `mkfs.xfs: ${dev} appears to contain an existing filesystem (${before.type}).\nmkfs.xfs: Use the -f option to force overwrite.`,
      };
    }
    if (this.mountedWwids.has(m.wwid)) this.formatsOverMounted++;
    await this.writeHead(m.dm);
    if (finish) this.fsByWwid.set(m.wwid, { type, uuid: uuid || "00000000-0000-0000-0000-000000000000", complete: true });
    // cut short: mkfs.xfs has written its superblock (in progress) early, mke2fs not yet
    else this.fsByWwid.set(m.wwid, type === "xfs" ? { type, uuid, complete: false } : { type: "", uuid: "", complete: false });
    return ok(prog, args);
  }

  private async iscsiadm(args: string[]): Promise<ExecResult> {
    const at = (flag: string): string | undefined => {
      const i = args.indexOf(flag);
      return i >= 0 ? args[i + 1] : undefined;
    };
    const iqn = at("-T") ?? "";
    const portal = at("-p");
    const op = at("-o");
    const recs = this.nodeRecords.get(iqn);
    if (op === "new") {
      if (!portal) return ok("iscsiadm", args, "", 7);
      const m = recs ?? new Map<string, Map<string, string>>();
      m.set(portal, new Map());
      this.nodeRecords.set(iqn, m);
      await mkdir(join(this.paths.iscsiDir, "nodes", iqn, `${portal.replace(":", ",")},1`), { recursive: true });
      return ok("iscsiadm", args, `New iSCSI node [tcp:[hw=,ip=,net_if=,iscsi_if=default] ${portal},-1 ${iqn}] added\n`);
    }
    if (op === "update") {
      const r = portal ? recs?.get(portal) : undefined;
      if (!r) return { ...ok("iscsiadm", args), exitCode: 21, stderr: "iscsiadm: No records found" };
      // iscsiadm takes any number of -n NAME -v VALUE pairs in one update
      for (let i = 0; i < args.length; i++) if (args[i] === "-n") r.set(args[i + 1] ?? "", args[i + 2] === "-v" ? (args[i + 3] ?? "") : "");
      return ok("iscsiadm", args);
    }
    if (op === "delete") {
      if (!recs || recs.size === 0) return { ...ok("iscsiadm", args), exitCode: 21, stderr: "iscsiadm: No records found" };
      for (const p of portal ? [portal] : [...recs.keys()]) {
        recs.delete(p);
        await rm(join(this.paths.iscsiDir, "nodes", iqn, `${p.replace(":", ",")},1`), { recursive: true, force: true });
      }
      if (recs.size === 0) {
        this.nodeRecords.delete(iqn);
        await rm(join(this.paths.iscsiDir, "nodes", iqn), { recursive: true, force: true });
      }
      return ok("iscsiadm", args);
    }
    if (args.includes("--login")) {
      const r = portal ? recs?.get(portal) : undefined;
      if (!portal || !r) return { ...ok("iscsiadm", args), exitCode: 21, stderr: "iscsiadm: No records found" };
      if (this.sessions.some((s) => s.iqn === iqn && s.portal === portal)) return { ...ok("iscsiadm", args), exitCode: 15, stderr: "session exists" };
      const t = this.targets.get(iqn);
      if (!t || !t.portals.includes(portal) || t.down?.has(portal))
        return { ...ok("iscsiadm", args), exitCode: 8, stderr: "iscsiadm: connection login retries (reopen_max) 5 exceeded" };
      // LIO looks at the ACL first (on the first login PDU), then at CHAP; iscsiadm
      // reports both refusals with the same exit and words
      if (t.acl && !t.acl.includes(FAKE_INITIATOR_IQN))
        return { ...ok("iscsiadm", args, loggingIn(iqn, portal)), exitCode: 24, stderr: loginRefused(iqn, portal) };
      if (t.chap && (r.get("node.session.auth.username") !== t.chap.username || r.get("node.session.auth.password") !== t.chap.password)) {
        return { ...ok("iscsiadm", args, loggingIn(iqn, portal)), exitCode: 24, stderr: loginRefused(iqn, portal) };
      }
      await this.makeSession(iqn, portal);
      return ok("iscsiadm", args, `${loggingIn(iqn, portal)}Login to [iface: default, target: ${iqn}, portal: ${portal.replace(":", ",")}] successful.\n`);
    }
    if (args.includes("--logout")) {
      const mine = this.sessions.filter((s) => s.iqn === iqn && (portal === undefined || s.portal === portal));
      if (mine.length === 0) return { ...ok("iscsiadm", args), exitCode: 21, stderr: "iscsiadm: No matching sessions found" };
      for (const s of mine) await this.removeSession(s);
      return ok("iscsiadm", args);
    }
    return { ...ok("iscsiadm", args), exitCode: 7, stderr: "not faked" };
  }

  private async multipath(args: string[]): Promise<ExecResult> {
    const [flag, wwid = ""] = args;
    if (flag === "-a") {
      this.allowedWwids.add(wwid);
      return ok("multipath", args, `wwid '${wwid}' added\n`);
    }
    if (flag === "-w") {
      this.allowedWwids.delete(wwid);
      return ok("multipath", args, `wwid '${wwid}' removed\n`);
    }
    if (flag === "-f") {
      const m = this.maps.find((x) => x.wwid === wwid);
      if (!m) return { ...ok("multipath", args), exitCode: 1, stderr: `${wwid}: not a multipath device` };
      if (this.mounts.some((x) => x.devNo === `253:${m.dm.slice(3)}` || x.source.endsWith(`[/${m.dm}]`)))
        return { ...ok("multipath", args), exitCode: 1, stderr: `${wwid}: map in use` };
      await this.removeMap(m);
      return ok("multipath", args);
    }
    return { ...ok("multipath", args), exitCode: 1, stderr: "not faked" };
  }

  private async multipathd(args: string[]): Promise<ExecResult> {
    const cmd = args.join(" ");
    if (cmd === "show config") return ok("multipathd", args, this.multipathConfig);
    if (cmd === "show maps json") {
      const maps = this.maps.map((m) => ({
        name: m.wwid,
        uuid: m.wwid,
        sysfs: m.dm,
        features: "1 queue_if_no_path",
        path_groups: m.slaves.map((s) => ({
          selector: "service-time 0",
          paths: [{ dev: s, dm_st: "active", dev_st: "running", chk_st: "ready" }],
        })),
      }));
      return ok("multipathd", args, JSON.stringify({ major_version: 0, minor_version: 1, maps }));
    }
    if (args[0] === "add" && args[1] === "path") {
      const disk = args[2] ?? "";
      const s = this.sessions.find((x) => [...x.disks.values()].includes(disk));
      const t = s ? this.targets.get(s.iqn) : undefined;
      const devNo = (await readFile(this.sys("block", disk, "dev"), "utf8").catch(() => "")).trim();
      if (!(await stat(join(this.paths.udevData, `b${devNo}`)).catch(() => undefined))) {
        this.uninitializedAddPaths.push(disk);
        return ok("multipathd", args, "fail\n", 1);
      }
      if (t) await this.mapDisk(disk, t.wwid);
      return ok("multipathd", args, "ok\n");
    }
    if (args[0] === "resize") {
      const m = this.maps.find((x) => x.wwid === args[2]);
      if (!m) return ok("multipathd", args, "fail\n", 1);
      await this.writeMap(m);
      return ok("multipathd", args, "ok\n");
    }
    if (args[0] === "disablequeueing") return ok("multipathd", args, "ok\n");
    return { ...ok("multipathd", args), exitCode: 1, stderr: "not faked" };
  }

  private findmnt(args: string[]): ExecResult {
    const i = args.indexOf("--mountpoint");
    const list = i >= 0 ? this.mounts.filter((m) => m.target === args[i + 1]) : this.mounts;
    if (list.length === 0) return ok("findmnt", args, "", 1);
    return ok(
      "findmnt",
      args,
      JSON.stringify({
        filesystems: list.map((m) => ({ target: m.target, source: m.source, fstype: m.fstype, options: m.options.join(","), "maj:min": m.devNo })),
      }),
    );
  }

  private mount(args: string[]): ExecResult {
    if (args[0] === "--bind") {
      const [, src = "", target = ""] = args;
      const under = [...this.mounts].reverse().find((m) => m.target === src);
      if (under) this.mounts.push({ ...under, target, options: ["rw"] });
      else if (src.startsWith(this.paths.dev))
        this.mounts.push({ target, source: `udev[/${basename(src)}]`, fstype: "devtmpfs", options: ["rw"], devNo: "0:5" });
      else return { ...ok("mount", args), exitCode: 32, stderr: "mount: special device does not exist" };
      return ok("mount", args);
    }
    if (args[0] === "-o" && args[1]?.startsWith("remount")) {
      const m = [...this.mounts].reverse().find((x) => x.target === args[2]);
      if (m && args[1].split(",").includes("ro")) m.options = ["ro"];
      return ok("mount", args);
    }
    // mount -t FS [-o OPTS] SRC TARGET
    const fstype = args[1] ?? "";
    const oi = args.indexOf("-o");
    const options = oi >= 0 ? (args[oi + 1] ?? "").split(",") : [];
    const src = args[args.length - 2] ?? "";
    const target = args[args.length - 1] ?? "";
    const dm = basename(src);
    const wwid = this.maps.find((m) => m.dm === dm)?.wwid;
    const onDisk = wwid ? this.fsByWwid.get(wwid) : undefined;
    if (wwid && !this.blkid.has(src)) {
      if (!onDisk || onDisk.type !== fstype || !onDisk.complete) {
        return {
          ...ok("mount", args),
          exitCode: 32,
          stderr: `mount: ${target}: wrong fs type, bad option, bad superblock on ${src}, missing codepage or helper program, or other error.`,
        };
      }
      this.mountedWwids.add(wwid);
    }
    this.mounts.push({ target, source: src, fstype, options: options.includes("ro") ? ["ro", ...options] : ["rw", ...options], devNo: `253:${dm.slice(3)}` });
    return ok("mount", args);
  }

  /** A session and disk logged in by someone else (a foreign initiator setup, or a leftover). */
  async foreignSession(iqn: string, portal: string, wwid: string, mapIt: boolean): Promise<string> {
    const s = await this.makeSession(iqn, portal);
    const save = this.autoMap;
    this.autoMap = false;
    const disk = await this.addDisk(s, 0, wwid);
    this.autoMap = save;
    if (mapIt) {
      this.allowedWwids.add(wwid);
      await this.mapDisk(disk, wwid);
    }
    return disk;
  }

  async listDir(rel: string): Promise<string[]> {
    return readdir(join(this.root, rel)).catch(() => []);
  }

  devPath(dm: string): string {
    return join(this.paths.dev, dm);
  }

  kubelet(...p: string[]): string {
    return join(this.root, "kubelet", ...p);
  }

  async ensureDir(p: string): Promise<void> {
    await mkdir(dirname(p), { recursive: true });
  }
}
