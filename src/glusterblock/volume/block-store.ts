// One hosting volume as gluster-block lays it out: backing files in
// /block-store/<gbid>, append-only journals in /block-meta/<name>. All access
// is through the FUSE mount.
import { open, readFile, readdir, mkdir, unlink, stat, lstat, truncate, statfs, link, rename } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { InvalidRequestError, PreconditionError } from "../errors.js";
import { parseJournal, type BlockMeta } from "../journal/index.js";
import type { Exec } from "../../util/exec.js";
import { ExecError } from "../../util/exec.js";
import { isValidBlockName } from "../../identity/names.js";

export const META_DIR = "block-meta";
export const STORE_DIR = "block-store";
/** lock files, beside the journals (a dot name no block can have) */
export const LOCK_DIR = join(META_DIR, ".locks");
/** ACL proofs (engine/acl-sync.ts), one per block, beside the journals: the original skips every dot name there */
export const ACL_PROOF_DIR = join(META_DIR, ".acl-synced");
/** where the audit sets aside backing files no journal names (never deleted: `delete ... unlink-storage no` keeps files on purpose) */
export const ORPHAN_DIR = "block-orphaned";
/** kept free on the volume for metadata appends (the original: 10 MiB) */
export const DEFAULT_RESERVE_BYTES = 10n * 1024n * 1024n;

export interface VolumeSpaceInfo {
  totalBytes: bigint;
  freeBytes: bigint;
}

export class BlockStore {
  constructor(
    readonly volume: string,
    readonly root: string,
    private readonly exec: Exec,
    /** run before every change of a block's journal or backing file: throws when the change must not be made */
    private readonly fence?: () => Promise<void>,
  ) {}

  /** This store, with `fence` run before every change of a journal or backing file (the engine's: its block lock is still held). */
  fenced(fence: () => Promise<void>): BlockStore {
    return new BlockStore(this.volume, this.root, this.exec, fence);
  }

  metaPath(name: string): string {
    return join(this.root, META_DIR, name);
  }
  storePath(gbid: string): string {
    return join(this.root, STORE_DIR, gbid);
  }
  aclProofPath(name: string): string {
    return join(this.root, ACL_PROOF_DIR, name);
  }
  get lockDir(): string {
    return join(this.root, LOCK_DIR);
  }

  async ensureLayout(): Promise<void> {
    await mkdir(join(this.root, META_DIR), { recursive: true });
    await mkdir(join(this.root, STORE_DIR), { recursive: true });
  }

  /** Block names in directory order (the original does not sort), skipping its meta.lock and prio.info and our dot dirs. */
  async listNames(): Promise<string[]> {
    const names = await readdir(join(this.root, META_DIR)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return [];
      throw err;
    });
    return names.filter((n) => n !== "meta.lock" && n !== "prio.info" && isValidBlockName(n));
  }

  async readRaw(name: string): Promise<string | undefined> {
    return readFile(this.metaPath(name), "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
  }

  /** The parsed journal, or undefined when the block has none. Throws JournalError for a journal that cannot be trusted. */
  async readMeta(name: string): Promise<BlockMeta | undefined> {
    const text = await this.readRaw(name);
    return text === undefined ? undefined : parseJournal(name, text);
  }

  /** Appends journal lines and waits until they are on disk (the original opened with O_APPEND|O_SYNC). */
  async append(name: string, lines: string): Promise<void> {
    if (lines === "") return;
    await this.fence?.();
    const fh = await open(this.metaPath(name), "a", 0o600);
    try {
      await fh.write(lines);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** The journal, its ACL proof first: a proof never outlives its journal (it names the journal's GBID besides). */
  async removeMeta(name: string): Promise<void> {
    await this.removeAclProof(name);
    await this.fencedUnlink(this.metaPath(name));
  }

  /** The block's ACL proof as written, or undefined when it has none. */
  async readAclProof(name: string): Promise<string | undefined> {
    return readFile(this.aclProofPath(name), "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
  }

  /**
   * Replaces the block's ACL proof in place. No tmp and rename: the proof
   * names the journal it was made from, so a write cut short leaves a file
   * that proves nothing (empty, or a prefix that does not parse).
   */
  async writeAclProof(name: string, proof: string): Promise<void> {
    await this.fence?.();
    await mkdir(join(this.root, ACL_PROOF_DIR), { recursive: true });
    const fh = await open(this.aclProofPath(name), "w", 0o600);
    try {
      await fh.write(proof);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async removeAclProof(name: string): Promise<void> {
    await this.fencedUnlink(this.aclProofPath(name));
  }

  /** Removes `path` after the fence check; one already gone is no error. */
  private async fencedUnlink(path: string): Promise<void> {
    await this.fence?.();
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }

  async backingFileSize(gbid: string): Promise<bigint | undefined> {
    const st = await stat(this.storePath(gbid), { bigint: true }).catch(() => undefined);
    return st?.size;
  }

  async listBackingFiles(): Promise<string[]> {
    return readdir(join(this.root, STORE_DIR)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return [];
      throw err;
    });
  }

  /**
   * Creates (or, on a retry, completes) the backing file: sparse at `size`, or
   * allocated on every brick when `prealloc`. Idempotent.
   */
  async createBackingFile(gbid: string, sizeBytes: bigint, prealloc: boolean): Promise<void> {
    await this.fence?.();
    const path = this.storePath(gbid);
    const fh = await open(path, "a", 0o600);
    await fh.close();
    await truncate(path, Number(sizeBytes));
    if (prealloc) await this.allocate(path, 0n, sizeBytes);
  }

  /**
   * Adopts an existing file of the volume (the original's `storage`): a hard
   * link, so it must have no other name. The path is the volume's own: it
   * cannot leave the volume (`..`, an absolute path) nor name the store or the
   * journals. A bad path is the caller's error, never INTERNAL.
   */
  async adoptBackingFile(gbid: string, relativePath: string): Promise<bigint> {
    const src = this.volumeFile(relativePath);
    const dst = this.storePath(gbid);
    // a retry: the file was linked in before; its old name may be gone
    const linked = await stat(dst, { bigint: true }).catch(() => undefined);
    if (linked) return linked.size;
    // lstat: a symbolic link is not adopted (it could point out of the volume)
    const st = await lstat(src, { bigint: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "ENOTDIR") throw new InvalidRequestError(`storage ${relativePath}: no such file on volume ${this.volume}`);
      throw err;
    });
    if (!st.isFile()) throw new InvalidRequestError(`storage ${relativePath}: not a regular file`);
    if (st.nlink !== 1n) throw new PreconditionError(`storage ${relativePath} has ${st.nlink} links; a file in use elsewhere cannot be adopted`);
    await this.fence?.();
    await link(src, dst);
    return st.size;
  }

  /** A file of the volume named by the user, confined to the volume and outside its block-store and block-meta. */
  private volumeFile(relativePath: string): string {
    const inVolume = relative(this.root, resolve(this.root, relativePath));
    const top = inVolume.split("/")[0] ?? "";
    if (relativePath === "" || isAbsolute(relativePath) || inVolume === "" || inVolume.startsWith("..") || isAbsolute(inVolume)) {
      throw new InvalidRequestError(`storage ${JSON.stringify(relativePath)}: give a file's path inside the volume, relative to its root`);
    }
    if (top === "block-store" || top === "block-meta") throw new InvalidRequestError(`storage ${JSON.stringify(relativePath)}: ${top} is gluster-block's own`);
    return join(this.root, inVolume);
  }

  async resizeBackingFile(gbid: string, sizeBytes: bigint, prealloc: boolean): Promise<void> {
    const path = this.storePath(gbid);
    const before = (await stat(path, { bigint: true })).size;
    await this.fence?.();
    await truncate(path, Number(sizeBytes));
    if (prealloc && sizeBytes > before) await this.allocate(path, before, sizeBytes - before);
  }

  async unlinkBackingFile(gbid: string): Promise<void> {
    await this.fencedUnlink(this.storePath(gbid));
  }

  /** Moves a backing file out of /block-store into /block-orphaned (same volume: a rename); returns its new path on the volume. */
  async setAsideBackingFile(gbid: string): Promise<string> {
    await mkdir(join(this.root, ORPHAN_DIR), { recursive: true });
    await rename(this.storePath(gbid), join(this.root, ORPHAN_DIR, gbid));
    return `/${ORPHAN_DIR}/${gbid}`;
  }

  async space(): Promise<VolumeSpaceInfo> {
    const s = await statfs(this.root, { bigint: true });
    return { totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
  }

  /** fallocate(1) through FUSE reserves the range on every brick; where the volume cannot, write zeros. */
  private async allocate(path: string, offset: bigint, length: bigint): Promise<void> {
    if (length <= 0n) return;
    try {
      await this.exec("fallocate", ["-o", String(offset), "-l", String(length), path], { timeoutMs: 30 * 60_000 });
    } catch (err) {
      if (!(err instanceof ExecError && /not supported/i.test(err.stderrTail))) throw err;
      await zeroFill(path, offset, length);
    }
  }
}

async function zeroFill(path: string, offset: bigint, length: bigint): Promise<void> {
  const chunk = Buffer.alloc(4 * 1024 * 1024);
  const fh = await open(path, "r+");
  try {
    let done = 0n;
    while (done < length) {
      const n = Number(length - done < BigInt(chunk.length) ? length - done : BigInt(chunk.length));
      await fh.write(chunk, 0, n, Number(offset + done));
      done += BigInt(n);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}
