// The few filesystem operations LIO's configfs needs, behind an interface so
// unit tests can run against an in-memory imitation of the kernel.
import { promises as fsp } from "node:fs";

export type EntryKind = "dir" | "file" | "link";

export interface ConfigFs {
  /** names in a directory; throws ENOENT */
  readdir(path: string): Promise<string[]>;
  /** an attribute's text as the kernel shows it (usually with a trailing newline) */
  read(path: string): Promise<string>;
  /** store an attribute: one write of `value` */
  write(path: string, value: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** the link's target as stored (configfs gives a relative path) */
  readlink(path: string): Promise<string>;
  /** undefined when nothing is there */
  kind(path: string): Promise<EntryKind | undefined>;
}

export function errnoCode(e: unknown): string | undefined {
  if (e !== null && typeof e === "object" && "code" in e) {
    const c = e.code;
    return typeof c === "string" ? c : undefined;
  }
  return undefined;
}

/** The real thing: plain fs calls, as rtslib does. */
export const nodeConfigFs: ConfigFs = {
  readdir: (p) => fsp.readdir(p),
  read: (p) => fsp.readFile(p, "utf8"),
  write: (p, v) => fsp.writeFile(p, v),
  mkdir: (p) => fsp.mkdir(p),
  rmdir: (p) => fsp.rmdir(p),
  symlink: (t, p) => fsp.symlink(t, p),
  unlink: (p) => fsp.unlink(p),
  readlink: (p) => fsp.readlink(p),
  kind: async (p) => {
    try {
      const st = await fsp.lstat(p);
      return st.isSymbolicLink() ? "link" : st.isDirectory() ? "dir" : "file";
    } catch (e) {
      if (errnoCode(e) === "ENOENT") return undefined;
      throw e;
    }
  },
};
