// Filesystems on a volume: what is on the device (blkid, first MiBs), format
// (never with discard: a whole-LUN discard through tcmu's glfs handler times
// out and got tcmu-runner OOM-killed in our lab) with a UUID the caller
// chose, grow online, and usage for NodeGetVolumeStats. Whether a device may
// be formatted is format-intent.ts's decision.
import { open, statfs } from "node:fs/promises";
import type { Exec } from "../util/exec.js";
import type { Logger } from "../util/log.js";

export const SUPPORTED_FS = ["xfs", "ext4"] as const;
export type FsType = (typeof SUPPORTED_FS)[number];
export const DEFAULT_FS: FsType = "ext4";

export function isSupportedFs(t: string): t is FsType {
  return (SUPPORTED_FS as readonly string[]).includes(t);
}

export interface Probe {
  /** filesystem or other signature type, "" when blkid found none */
  type: string;
  /** partition table type, "" when none */
  ptType: string;
  /** filesystem UUID, "" when none */
  uuid: string;
}

export interface FormatOptions {
  /** the filesystem's UUID (mkfs.xfs -m uuid=, mkfs.ext4 -U) */
  uuid: string;
  /** overwrite a signature found on the device (only our own unfinished format) */
  force: boolean;
  /** the format job's end (an unstage, the plugin stopping): mkfs is ended when it fires (format-intent.ts covers the half-made filesystem) */
  signal?: AbortSignal;
}

/** Parses `blkid -o export` KEY=VALUE lines. */
export function parseBlkidExport(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

/** Bytes read at the head of a device before it counts as blank. */
export const HEAD_BYTES = 4 * 1024 * 1024;

/**
 * mkfs's own limit: a bound on a hung mkfs only. The calls wait for a
 * format within their budgets while it runs as the plugin's job
 * (format-jobs.ts); a large volume on slow storage must be able to finish.
 */
export const MKFS_LIMIT_MS = 30 * 60_000;

export class Filesystems {
  constructor(
    private readonly exec: Exec,
    private readonly log: Logger,
  ) {}

  /** blkid's low-level probe: exit 2 means it found nothing (or could not read, which headIsZero tells apart). */
  async probe(device: string): Promise<Probe> {
    const r = await this.exec("blkid", ["-p", "-o", "export", device], { timeoutMs: 15_000, logger: this.log, okExitCodes: [2] });
    if (r.exitCode === 2) return { type: "", ptType: "", uuid: "" };
    const kv = parseBlkidExport(r.stdout);
    return { type: kv.TYPE ?? "", ptType: kv.PTTYPE ?? "", uuid: kv.UUID ?? "" };
  }

  /** True only if the first `bytes` of the device read back, all zero. A read error is "not blank". */
  async headIsZero(device: string, bytes = HEAD_BYTES): Promise<boolean> {
    let fh;
    try {
      fh = await open(device, "r");
      const buf = Buffer.alloc(1024 * 1024);
      for (let pos = 0; pos < bytes; pos += buf.length) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, bytes - pos), pos);
        if (bytesRead === 0) return pos > 0;
        for (let i = 0; i < bytesRead; i++) if (buf[i] !== 0) return false;
      }
      return true;
    } catch (err) {
      this.log.warn("could not read the head of the device", { device, error: err instanceof Error ? err.message : String(err) });
      return false;
    } finally {
      await fh?.close();
    }
  }

  async format(device: string, fs: FsType, o: FormatOptions): Promise<void> {
    // -K / nodiscard: no discard of the whole LUN at mkfs time; mkfs.xfs refuses
    // a device with a signature unless forced, mke2fs needs -F to run unattended
    const [prog, args] =
      fs === "xfs"
        ? ["mkfs.xfs", ["-K", "-q", ...(o.force ? ["-f"] : []), "-m", `uuid=${o.uuid}`, device]]
        : ["mkfs.ext4", ["-F", "-q", "-m", "0", "-E", "nodiscard", "-U", o.uuid, device]];
    await this.exec(prog, args, { timeoutMs: MKFS_LIMIT_MS, logger: this.log, ...(o.signal ? { signal: o.signal } : {}) });
  }

  /** ext4 before a read-write mount: repair what is safe to repair automatically (exit 1 = fixed). */
  async check(device: string, fs: FsType, signal?: AbortSignal): Promise<void> {
    if (fs !== "ext4") return; // xfs repairs its log at mount
    // exit 1: errors fixed; 2: fixed, reboot advised (not for an unmounted fs); 4 and up: left for a human
    await this.exec("e2fsck", ["-p", device], { timeoutMs: 60_000, logger: this.log, okExitCodes: [1, 2], ...(signal ? { signal } : {}) });
  }

  /** Grows a mounted filesystem to its device. */
  async grow(device: string, mountPoint: string, fs: string): Promise<void> {
    if (fs === "xfs") await this.exec("xfs_growfs", [mountPoint], { timeoutMs: 60_000, logger: this.log });
    else await this.exec("resize2fs", [device], { timeoutMs: 60_000, logger: this.log });
  }

  async usage(path: string): Promise<{ totalBytes: number; availableBytes: number; usedBytes: number; totalInodes: number; freeInodes: number }> {
    const s = await statfs(path);
    const total = s.blocks * s.bsize;
    const avail = s.bavail * s.bsize;
    return {
      totalBytes: total,
      availableBytes: avail,
      usedBytes: (s.blocks - s.bfree) * s.bsize,
      totalInodes: s.files,
      freeInodes: s.ffree,
    };
  }
}
