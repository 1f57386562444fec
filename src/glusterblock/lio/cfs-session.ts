// One converge run's view of configfs: reads with the kernel's formatting
// stripped, and mutations that are counted, described (secrets replaced) and
// turned into LioConfigfsError on failure. A read-only session stops at the
// first mutation (WouldWrite): a converge run in it tells, with apply's own
// code, whether apply would change anything.
import type { ConfigFs, EntryKind } from "./configfs.js";
import { errnoCode } from "./configfs.js";
import { LioConfigfsError } from "./errors.js";
import type { Logger } from "../../util/log.js";

/** thrown by a read-only session instead of its first mutation */
export class WouldWrite extends Error {
  constructor(readonly change: string) {
    super(`would change configfs: ${change}`);
  }
}

export class CfsSession {
  readonly changes: string[] = [];

  constructor(
    readonly fs: ConfigFs,
    private readonly log: Logger,
    /** values never to appear in a change line */
    private readonly secrets: readonly string[] = [],
    private readonly readOnly = false,
  ) {}

  get writes(): number {
    return this.changes.length;
  }

  async kind(path: string): Promise<EntryKind | undefined> {
    return this.fs.kind(path);
  }

  async readdir(path: string): Promise<string[]> {
    try {
      return await this.fs.readdir(path);
    } catch (e) {
      if (errnoCode(e) === "ENOENT") return [];
      throw this.wrap("readdir", path, e);
    }
  }

  /** attribute text, trimmed; undefined when the file is absent */
  async read(path: string): Promise<string | undefined> {
    try {
      return (await this.fs.read(path)).trim();
    } catch (e) {
      if (errnoCode(e) === "ENOENT") return undefined;
      throw this.wrap("read", path, e);
    }
  }

  async readInt(path: string): Promise<number | undefined> {
    const v = await this.read(path);
    if (v === undefined || v === "") return undefined;
    const n = Number.parseInt(v, 10);
    return Number.isNaN(n) ? undefined : n;
  }

  async readlink(path: string): Promise<string | undefined> {
    try {
      return await this.fs.readlink(path);
    } catch (e) {
      if (errnoCode(e) === "ENOENT" || errnoCode(e) === "EINVAL") return undefined;
      throw this.wrap("readlink", path, e);
    }
  }

  async write(path: string, value: string, opts: { secret?: boolean } = {}): Promise<void> {
    const shown = opts.secret ? "***" : this.scrub(value);
    await this.mutate("write", path, `${path} = ${shown}`, () => this.fs.write(path, value));
  }

  async mkdir(path: string): Promise<void> {
    await this.mutate("mkdir", path, `mkdir ${path}`, () => this.fs.mkdir(path));
  }

  async rmdir(path: string): Promise<void> {
    await this.mutate("rmdir", path, `rmdir ${path}`, () => this.fs.rmdir(path));
  }

  async symlink(target: string, path: string): Promise<void> {
    await this.mutate("symlink", path, `symlink ${path} -> ${target}`, () => this.fs.symlink(target, path));
  }

  async unlink(path: string): Promise<void> {
    await this.mutate("unlink", path, `unlink ${path}`, () => this.fs.unlink(path));
  }

  private async mutate(op: string, path: string, line: string, run: () => Promise<void>): Promise<void> {
    if (this.readOnly) throw new WouldWrite(line);
    try {
      await run();
    } catch (e) {
      throw this.wrap(op, path, e);
    }
    this.changes.push(line);
    this.log.debug("configfs", { change: line });
  }

  private scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) if (s.length > 0) out = out.split(s).join("***");
    return out;
  }

  private wrap(op: string, path: string, e: unknown): LioConfigfsError {
    if (e instanceof LioConfigfsError) return e;
    const code = errnoCode(e);
    const detail = this.scrub(e instanceof Error ? e.message : String(e));
    return new LioConfigfsError(op, path, code, detail);
  }
}
