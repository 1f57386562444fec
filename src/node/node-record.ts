// The node record: what this node did for a volume (target, portals, WWID,
// access type, how far staging got, where it is published, a format it
// began and has not seen finish), one JSON file
// per volume in the plugin's state directory. It lives outside the kubelet
// staging path (a record inside it vanishes on a failed stage: Trident #706),
// is written atomically (tmp, fsync, rename, fsync dir) before the host is
// touched and after each phase, and never holds a CHAP secret.
import { mkdir, open, readFile, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { isFormatIntent, type FormatIntent } from "./format-intent.js";

/** How far staging got; unstaging undoes from wherever it stands. */
export type Phase = "attaching" | "attached" | "staged" | "detaching";

export interface NodeRecord {
  version: 1;
  volumeId: string;
  iqn: string;
  portals: string[];
  lun: number;
  wwid: string;
  accessType: "mount" | "block";
  fsType: string;
  mountFlags: string[];
  stagingPath: string;
  phase: Phase;
  /** dm device name ("dm-3") once the map is accepted */
  device: string;
  publishedPaths: string[];
  /** set just before mkfs, removed once it returned success (format-intent.ts) */
  formatIntent?: FormatIntent;
  updatedAt: string;
}

const SECRETISH = /password|secret/i;

export function recordFileName(volumeId: string): string {
  return `${encodeURIComponent(volumeId)}.json`;
}

function isRecord(v: unknown): v is NodeRecord {
  if (v === null || typeof v !== "object") return false;
  const r = v as Record<string, unknown>;
  return (
    r.version === 1 &&
    typeof r.volumeId === "string" &&
    typeof r.iqn === "string" &&
    Array.isArray(r.portals) &&
    typeof r.wwid === "string" &&
    (r.accessType === "mount" || r.accessType === "block") &&
    typeof r.stagingPath === "string" &&
    typeof r.phase === "string" &&
    Array.isArray(r.publishedPaths) &&
    (r.formatIntent === undefined || isFormatIntent(r.formatIntent))
  );
}

export class RecordStore {
  constructor(readonly dir: string) {}

  private path(volumeId: string): string {
    return join(this.dir, recordFileName(volumeId));
  }

  async get(volumeId: string): Promise<NodeRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.path(volumeId), "utf8");
    } catch {
      return undefined;
    }
    const v: unknown = JSON.parse(text);
    if (!isRecord(v)) throw new Error(`node record ${this.path(volumeId)} is not a valid record`);
    return v;
  }

  async list(): Promise<NodeRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: NodeRecord[] = [];
    for (const n of names.filter((x) => x.endsWith(".json"))) {
      try {
        const v: unknown = JSON.parse(await readFile(join(this.dir, n), "utf8"));
        if (isRecord(v)) out.push(v);
      } catch {
        // a torn tmp file never has the .json name; anything else unreadable is skipped here and reported by get()
      }
    }
    return out;
  }

  /** Atomic write: tmp file, fsync, rename over, fsync the directory. */
  async put(record: NodeRecord): Promise<NodeRecord> {
    const rec: NodeRecord = { ...record, updatedAt: new Date().toISOString() };
    const text = JSON.stringify(rec, null, 2) + "\n";
    for (const k of Object.keys(rec)) if (SECRETISH.test(k)) throw new Error(`refusing to write a node record with a ${k} field`);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const final = this.path(rec.volumeId);
    const tmp = `${final}.${process.pid}.tmp`;
    const fh = await open(tmp, "w", 0o600);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, final);
    await this.syncDir();
    return rec;
  }

  async delete(volumeId: string): Promise<void> {
    await rm(this.path(volumeId), { force: true });
    await this.syncDir();
  }

  private async syncDir(): Promise<void> {
    const d = await open(this.dir, "r").catch(() => undefined);
    if (!d) return;
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }
}
