// FUSE mounts of hosting volumes, one per volume under a private root, made
// on first use and reused. Mount state is read from /proc/self/mountinfo, so a
// restarted blockd adopts the mounts its predecessor left, unless the FUSE
// client behind one died with it (a stopped unit or container takes its
// glusterfs process along): such a mount answers ENOTCONN, and is lazily
// unmounted and mounted again.
//
// The kernel keeps a FUSE file's attributes and a name's lookup for 1 s by
// default, so a journal another node just appended to read short here, and
// a lock file it just removed or created was still the old one. Our mounts
// cache neither (MOUNT_OPTIONS): a block's next holder reads every line its
// previous holder wrote. A live mount whose client runs without them (left
// by an older blockd) is mounted again like a dead one.
import { mkdir, readFile, readdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Exec } from "../../util/exec.js";
import type { Logger } from "../../util/log.js";
import { nullLogger } from "../../util/log.js";

export interface VolumeMountsOptions {
  exec: Exec;
  /** directory holding one mount point per volume */
  root: string;
  /** the glusterd that serves volfiles (the original's GB_BHV_VOLSERVER, default localhost) */
  volfileServer: string;
  log?: Logger;
  /** test hook: where mountinfo is read */
  mountinfoPath?: string;
  /** test hook: where the FUSE clients' command lines are read (<procDir>/<pid>/cmdline) */
  procDir?: string;
}

/** `mount -o` for our mounts: no FUSE attribute or lookup caching (see above); mount.glusterfs passes them to the client as --attribute-timeout=0 --entry-timeout=0. */
export const MOUNT_OPTIONS = "attribute-timeout=0,entry-timeout=0";
const CLIENT_FLAGS = MOUNT_OPTIONS.split(",").map((o) => `--${o}`);

/** Whether the glusterfs client serving `dir` (its command line ends with it) runs with our options; false when none is found. */
async function clientHasOptions(procDir: string, dir: string): Promise<boolean> {
  for (const pid of await readdir(procDir).catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const argv = (await readFile(join(procDir, pid, "cmdline"), "utf8").catch(() => "")).split("\0").filter((a) => a !== "");
    if (argv.length < 2 || basename(argv[0] ?? "") !== "glusterfs" || argv.at(-1) !== dir) continue;
    return CLIENT_FLAGS.every((f) => argv.includes(f));
  }
  return false;
}

/** Mount points of fuse.glusterfs mounts, from /proc/self/mountinfo (field 5 is the mount point, escaped as octal). */
export function glusterMountPoints(mountinfo: string): Set<string> {
  const out = new Set<string>();
  for (const line of mountinfo.split("\n")) {
    const [pre, post] = line.split(" - ");
    if (!pre || !post) continue;
    const fstype = post.split(" ")[0];
    if (fstype !== "fuse.glusterfs") continue;
    const mp = pre.split(" ")[4];
    if (mp) out.add(mp.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

/** The error code a stat of a mount point gives when its FUSE server is gone, undefined when it answers. */
async function deadMountError(dir: string): Promise<string | undefined> {
  try {
    await stat(dir);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOTCONN" || code === "ECONNABORTED" || code === "EIO") return code;
    throw err;
  }
}

export class VolumeMounts {
  private readonly pending = new Map<string, Promise<string>>();
  /** volumes whose mount this process made, or found made with MOUNT_OPTIONS */
  private readonly checked = new Set<string>();
  private readonly log: Logger;

  constructor(private readonly opts: VolumeMountsOptions) {
    this.log = opts.log ?? nullLogger;
  }

  dirOf(volume: string): string {
    return join(this.opts.root, volume);
  }

  async isMounted(volume: string): Promise<boolean> {
    const info = await readFile(this.opts.mountinfoPath ?? "/proc/self/mountinfo", "utf8");
    return glusterMountPoints(info).has(this.dirOf(volume));
  }

  /** The volume's mount point, mounting it first if needed; concurrent callers share one mount. */
  ensure(volume: string): Promise<string> {
    let p = this.pending.get(volume);
    if (!p) {
      p = this.mount(volume).finally(() => this.pending.delete(volume));
      this.pending.set(volume, p);
    }
    return p;
  }

  private async mount(volume: string): Promise<string> {
    const dir = this.dirOf(volume);
    if (await this.isMounted(volume)) {
      const dead = await deadMountError(dir);
      if (!dead && (this.checked.has(volume) || (await clientHasOptions(this.opts.procDir ?? "/proc", dir)))) {
        this.checked.add(volume);
        return dir;
      }
      if (dead) this.log.warn("hosting volume mount is dead (its FUSE client is gone); mounting it again", { volume, dir, error: dead });
      else this.log.warn("hosting volume mount caches attributes (an older blockd's); mounting it again", { volume, dir, options: MOUNT_OPTIONS });
      await this.opts.exec("umount", ["-l", dir], { timeoutMs: 30_000, logger: this.log });
    }
    await mkdir(dir, { recursive: true });
    const started = Date.now();
    await this.opts.exec("mount", ["-t", "glusterfs", "-o", MOUNT_OPTIONS, `${this.opts.volfileServer}:/${volume}`, dir], {
      timeoutMs: 60_000,
      logger: this.log,
    });
    if (!(await this.isMounted(volume))) throw new Error(`mount of ${volume} at ${dir} reported success but is not in mountinfo`);
    this.checked.add(volume);
    this.log.info("mounted hosting volume", { volume, dir, ms: Date.now() - started });
    return dir;
  }

  async unmount(volume: string): Promise<void> {
    if (!(await this.isMounted(volume))) return;
    await this.opts.exec("umount", [this.dirOf(volume)], { timeoutMs: 30_000, logger: this.log });
  }
}
