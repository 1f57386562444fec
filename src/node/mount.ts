// Mounts, read from findmnt's JSON and changed with mount/umount.
import type { Exec } from "../util/exec.js";
import type { Logger } from "../util/log.js";

export interface MountEntry {
  target: string;
  /** "/dev/mapper/36001405...", or "udev[/dm-3]" for a bind-mounted device node */
  source: string;
  fstype: string;
  options: string[];
  /** device number of the mounted filesystem ("253:3") */
  devNo: string;
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** Parses `findmnt -J -l -o TARGET,SOURCE,FSTYPE,OPTIONS,MAJ:MIN` output. */
export function parseFindmnt(text: string): MountEntry[] {
  if (text.trim() === "") return [];
  const doc = asRecord(JSON.parse(text) as unknown);
  const list = doc && Array.isArray(doc.filesystems) ? doc.filesystems : [];
  const out: MountEntry[] = [];
  const walk = (items: unknown[]): void => {
    for (const item of items.map(asRecord)) {
      if (!item) continue;
      out.push({
        target: str(item.target),
        source: str(item.source),
        fstype: str(item.fstype),
        options: str(item.options)
          .split(",")
          .filter((o) => o !== ""),
        devNo: str(item["maj:min"]),
      });
      if (Array.isArray(item.children)) walk(item.children);
    }
  };
  walk(list);
  return out;
}

const COLUMNS = "TARGET,SOURCE,FSTYPE,OPTIONS,MAJ:MIN";

/** "udev[/dm-3]" -> "dm-3": the device node a bind mount of /dev/... shows. */
export function boundDeviceNode(source: string): string | undefined {
  const m = /\[\/?([^\]]+)\]$/.exec(source);
  return m?.[1]?.split("/").pop();
}

export class Mounter {
  constructor(
    private readonly exec: Exec,
    private readonly log: Logger,
  ) {}

  async all(): Promise<MountEntry[]> {
    const r = await this.exec("findmnt", ["-J", "-l", "-o", COLUMNS], { timeoutMs: 10_000, logger: this.log, okExitCodes: [1] });
    return parseFindmnt(r.stdout);
  }

  /** Mounts at exactly `target` (innermost last), [] when nothing is mounted there. */
  async at(target: string, signal?: AbortSignal): Promise<MountEntry[]> {
    const r = await this.exec("findmnt", ["-J", "-l", "-o", COLUMNS, "--mountpoint", target], {
      timeoutMs: 10_000,
      logger: this.log,
      okExitCodes: [1],
      ...(signal ? { signal } : {}),
    });
    return r.exitCode === 0 ? parseFindmnt(r.stdout).filter((m) => m.target === target) : [];
  }

  async mount(source: string, target: string, fstype: string, options: readonly string[], signal?: AbortSignal): Promise<void> {
    const args = ["-t", fstype, ...(options.length > 0 ? ["-o", options.join(",")] : []), source, target];
    await this.exec("mount", args, { timeoutMs: 30_000, logger: this.log, ...(signal ? { signal } : {}) });
  }

  async bind(source: string, target: string, readOnly: boolean): Promise<void> {
    await this.exec("mount", ["--bind", source, target], { timeoutMs: 10_000, logger: this.log });
    // a bind mount takes ro only on a remount
    if (readOnly) await this.exec("mount", ["-o", "remount,bind,ro", target], { timeoutMs: 10_000, logger: this.log });
  }

  /**
   * Unmounts everything stacked at `target`; nothing mounted is success.
   * `signal`: the caller's cancellation, which ends a umount that hangs (up to
   * 30 s each, 8 of them) rather than let it outlive the call.
   */
  async unmountAll(target: string, signal?: AbortSignal): Promise<void> {
    const cancel = signal ? { signal } : {};
    for (let i = 0; i < 8 && (await this.at(target, signal)).length > 0; i++) {
      await this.exec("umount", [target], { timeoutMs: 30_000, logger: this.log, ...cancel });
    }
  }
}
