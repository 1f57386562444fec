// What the kernel shows of iSCSI sessions, SCSI disks and device-mapper maps,
// read from sysfs files (one value per file, no human output to parse), and
// the few writes the node plugin makes there (scan one LUN, rescan, delete).
import { readFile, readdir, realpath, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { portalOf } from "../identity/portal.js";

export interface ScsiDisk {
  /** "sdb" */
  name: string;
  /** "3:0:0:0" */
  hctl: string;
  lun: number;
  /** "running", "offline", "blocked", ... */
  state: string;
  /** the multipath form of the WWID ("3" + NAA hex), "" when the kernel shows none */
  wwid: string;
}

export interface IscsiSession {
  /** "session7" */
  name: string;
  targetName: string;
  /** "LOGGED_IN", "FAILED", "FREE", ... */
  state: string;
  /** SCSI host number of the session (host/scan is there) */
  host: number;
  /** "10.0.0.1:3260", "" when the connection is gone */
  portal: string;
  disks: ScsiDisk[];
}

export interface DmMap {
  /** "dm-3" */
  name: string;
  /** dm name ("/dev/mapper/<this>") */
  dmName: string;
  /** "mpath-3600..." for multipath maps */
  uuid: string;
  /** "253:3" */
  devNo: string;
  slaves: string[];
  sizeBytes: number;
  readOnly: boolean;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, "utf8")).trim();
  } catch {
    return undefined;
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/**
 * The kernel's `device/wwid` is "naa.6001405..." for LIO LUNs; multipath
 * (scsi_id) names the same identity "3" + the NAA hex. Other designator types
 * keep their own prefix so they never equal one of ours.
 */
export function multipathWwid(kernelWwid: string): string {
  const t = kernelWwid.trim().replace(/\s+/g, " ");
  if (t.startsWith("naa.")) return `3${t.slice(4).toLowerCase()}`;
  return t;
}

/** How sysfs attribute files are written (a seam for unit tests, whose fake kernel reacts to the writes). */
export type SysfsWriter = (path: string, value: string) => Promise<void>;

export class Sysfs {
  constructor(
    readonly root: string,
    private readonly write: SysfsWriter = (path, value) => writeFile(path, value),
  ) {}

  private p(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  async disk(name: string): Promise<ScsiDisk | undefined> {
    const devDir = this.p("block", name, "device");
    const resolved = await realpath(devDir).catch(() => undefined);
    if (!resolved) return undefined;
    const hctl = basename(resolved);
    const lun = Number(hctl.split(":")[3] ?? "NaN");
    return {
      name,
      hctl,
      lun,
      state: (await readText(join(devDir, "state"))) ?? "",
      wwid: multipathWwid((await readText(join(devDir, "wwid"))) ?? ""),
    };
  }

  async sessions(): Promise<IscsiSession[]> {
    const out: IscsiSession[] = [];
    for (const name of await list(this.p("class", "iscsi_session"))) {
      if (!/^session\d+$/.test(name)) continue;
      const s = await this.session(name);
      if (s) out.push(s);
    }
    return out;
  }

  async sessionsOf(targetName: string): Promise<IscsiSession[]> {
    return (await this.sessions()).filter((s) => s.targetName === targetName);
  }

  private async session(name: string): Promise<IscsiSession | undefined> {
    const classDir = this.p("class", "iscsi_session", name);
    const targetName = await readText(join(classDir, "targetname"));
    if (targetName === undefined) return undefined;
    const state = (await readText(join(classDir, "state"))) ?? "";
    // device -> .../hostH/sessionN: the session's SCSI host is its parent
    const devDir = await realpath(join(classDir, "device")).catch(() => undefined);
    if (!devDir) return undefined;
    const hostMatch = /^host(\d+)$/.exec(basename(dirname(devDir)));
    if (!hostMatch) return undefined;
    const entries = await list(devDir);
    let portal = "";
    for (const c of entries.filter((e) => /^connection\d+:\d+$/.test(e))) {
      const connDir = join(devDir, c, "iscsi_connection", c);
      const addr = (await readText(join(connDir, "persistent_address"))) ?? (await readText(join(connDir, "address")));
      const port = (await readText(join(connDir, "persistent_port"))) ?? (await readText(join(connDir, "port")));
      if (addr && port) portal = portalOf(addr, port);
    }
    const disks: ScsiDisk[] = [];
    for (const t of entries.filter((e) => /^target\d+:\d+:\d+$/.test(e))) {
      for (const lunDir of (await list(join(devDir, t))).filter((e) => /^\d+:\d+:\d+:\d+$/.test(e))) {
        for (const blk of await list(join(devDir, t, lunDir, "block"))) {
          const d = await this.disk(blk);
          if (d) disks.push(d);
        }
      }
    }
    return { name, targetName, state, host: Number(hostMatch[1]), portal, disks };
  }

  /** Asks the session's host to probe one LUN (channel 0, target 0), nothing else of the target. */
  async scanLun(host: number, lun: number): Promise<void> {
    await this.write(this.p("class", "scsi_host", `host${host}`, "scan"), `0 0 ${lun}`);
  }

  /** Re-reads a disk's capacity (after a resize on the target). */
  async rescanDisk(name: string): Promise<void> {
    await this.write(this.p("block", name, "device", "rescan"), "1");
  }

  /**
   * Stops the kernel from sending WRITE SAME to one of our paths. tcmu-runner
   * 1.5.4 (Debian 12's) dies of a divide error on WRITE SAME(16) with the
   * UNMAP bit, which is how the kernel zeroes ranges on a thin-provisioned LUN
   * (ext4's lazy inode-table init does it right after the first mount); the
   * I/O then fails over to the next gateway, which dies the same way. With
   * `max_write_same_blocks` 0 the disk's write-zeroes limit is 0: requests the
   * multipath map still sends are refused as unsupported before they leave
   * the host, and the kernel writes zero pages instead. `zeroing_mode` first,
   * so that no UNMAP variant is used even for an instant; both survive a
   * rescan (the kernel keeps `no_write_same`). Returns true when it changed
   * anything; a disk without these attributes (gone, or not sd) is left alone.
   */
  async disableWriteSame(d: ScsiDisk): Promise<boolean> {
    const dir = this.p("block", d.name, "device", "scsi_disk", d.hctl);
    const blocks = await readText(join(dir, "max_write_same_blocks"));
    if (blocks === undefined) return false;
    const mode = await readText(join(dir, "zeroing_mode"));
    if (blocks === "0" && (mode === undefined || mode === "writesame")) return false;
    if (mode !== undefined && mode !== "writesame") await this.write(join(dir, "zeroing_mode"), "writesame");
    await this.write(join(dir, "max_write_same_blocks"), "0");
    return true;
  }

  /** Removes a disk from the kernel (after its map is gone). */
  async deleteDisk(name: string): Promise<void> {
    await this.write(this.p("block", name, "device", "delete"), "1");
  }

  async exists(name: string): Promise<boolean> {
    return (await readText(this.p("block", name, "dev"))) !== undefined;
  }

  async sizeBytes(name: string): Promise<number> {
    const sectors = Number((await readText(this.p("block", name, "size"))) ?? "NaN");
    return Number.isFinite(sectors) ? sectors * 512 : 0;
  }

  async holders(name: string): Promise<string[]> {
    return list(this.p("block", name, "holders"));
  }

  async dmMaps(): Promise<DmMap[]> {
    const out: DmMap[] = [];
    for (const name of await list(this.p("block"))) {
      if (!/^dm-\d+$/.test(name)) continue;
      const m = await this.dmMap(name);
      if (m) out.push(m);
    }
    return out;
  }

  async dmMap(name: string): Promise<DmMap | undefined> {
    const dir = this.p("block", name);
    const uuid = await readText(join(dir, "dm", "uuid"));
    if (uuid === undefined) return undefined;
    return {
      name,
      dmName: (await readText(join(dir, "dm", "name"))) ?? "",
      uuid,
      devNo: (await readText(join(dir, "dev"))) ?? "",
      slaves: await list(join(dir, "slaves")),
      sizeBytes: await this.sizeBytes(name),
      readOnly: (await readText(join(dir, "ro"))) === "1",
    };
  }

  /** The multipath map of a WWID (dm uuid "mpath-<wwid>"), if one exists. */
  async multipathMap(wwid: string): Promise<DmMap | undefined> {
    return (await this.dmMaps()).find((m) => m.uuid === `mpath-${wwid}`);
  }

  async devNo(name: string): Promise<string> {
    return (await readText(this.p("block", name, "dev"))) ?? "";
  }
}
