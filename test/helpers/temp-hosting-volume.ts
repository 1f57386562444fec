// A temp directory laid out as a mounted hosting volume (block-meta/,
// block-store/) behind a fake mountinfo line and a fake FUSE client with our
// mount options, for engine tests that need journals and block files on disk
// but no glusterd.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MOUNT_OPTIONS, VolumeMounts } from "../../src/glusterblock/volume/mounts.js";
import { BlockStore } from "../../src/glusterblock/volume/block-store.js";
import type { Exec } from "../../src/util/exec.js";

export const noExec: Exec = (file) => Promise.reject(new Error(`no ${file} in this test`));

export interface TempHostingVolume {
  /** the temp directory holding it all (remove it when done) */
  dir: string;
  mounts: VolumeMounts;
  store: BlockStore;
}

export async function tempHostingVolume(volume: string, prefix: string): Promise<TempHostingVolume> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const mountRoot = join(dir, "mnt");
  const root = join(mountRoot, volume);
  await mkdir(root, { recursive: true });
  const mountinfoPath = join(dir, "mountinfo");
  await writeFile(mountinfoPath, `36 35 0:40 / ${root} rw,relatime shared:1 - fuse.glusterfs localhost:/${volume} rw\n`);
  const procDir = join(dir, "proc");
  await mkdir(join(procDir, "1"), { recursive: true });
  const client = [
    "/usr/sbin/glusterfs",
    ...MOUNT_OPTIONS.split(",").map((o) => `--${o}`),
    "--process-name",
    "fuse",
    "--volfile-server=localhost",
    `--volfile-id=/${volume}`,
    root,
  ];
  await writeFile(join(procDir, "1", "cmdline"), `${client.join("\0")}\0`);
  const mounts = new VolumeMounts({ exec: noExec, root: mountRoot, volfileServer: "localhost", mountinfoPath, procDir });
  const store = new BlockStore(volume, root, noExec);
  await store.ensureLayout();
  return { dir, mounts, store };
}
