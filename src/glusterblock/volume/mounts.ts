// FUSE mounts of hosting volumes, one per volume under a private root, made
// on first use and reused. Mount state is read from /proc/self/mountinfo, so a
// restarted blockd adopts the mounts its predecessor left, unless the FUSE
// client behind one died with it (a stopped unit or container takes its
// glusterfs process along): such a mount answers ENOTCONN, and is lazily
// unmounted and mounted again.
import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
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
      if (!dead) return dir;
      this.log.warn("hosting volume mount is dead (its FUSE client is gone); mounting it again", { volume, dir, error: dead });
      await this.opts.exec("umount", ["-l", dir], { timeoutMs: 30_000, logger: this.log });
    }
    await mkdir(dir, { recursive: true });
    const started = Date.now();
    await this.opts.exec("mount", ["-t", "glusterfs", `${this.opts.volfileServer}:/${volume}`, dir], { timeoutMs: 60_000, logger: this.log });
    if (!(await this.isMounted(volume))) throw new Error(`mount of ${volume} at ${dir} reported success but is not in mountinfo`);
    this.log.info("mounted hosting volume", { volume, dir, ms: Date.now() - started });
    return dir;
  }

  async unmount(volume: string): Promise<void> {
    if (!(await this.isMounted(volume))) return;
    await this.opts.exec("umount", [this.dirOf(volume)], { timeoutMs: 30_000, logger: this.log });
  }
}
