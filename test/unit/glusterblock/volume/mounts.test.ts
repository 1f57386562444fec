import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Exec } from "../../../../src/util/exec.js";
import { MOUNT_OPTIONS, VolumeMounts } from "../../../../src/glusterblock/volume/mounts.js";

/** A private root, a mountinfo that `mount` fills in, a /proc with the FUSE clients given, and the calls made. */
async function fixture(clients: Record<string, string[]> = {}, mounted = false) {
  const base = await mkdtemp(join(tmpdir(), "gbcsi-mounts-"));
  const root = join(base, "mnt");
  const mountinfo = join(base, "mountinfo");
  const procDir = join(base, "proc");
  const dir = join(root, "vol1");
  const line = `60 25 0:52 / ${dir} rw,relatime shared:33 - fuse.glusterfs 10.0.0.1:/vol1 rw,user_id=0,group_id=0\n`;
  await writeFile(mountinfo, mounted ? line : "");
  if (mounted) await mkdir(dir, { recursive: true });
  for (const [pid, argv] of Object.entries(clients)) {
    await mkdir(join(procDir, pid), { recursive: true });
    await writeFile(join(procDir, pid, "cmdline"), argv.map((a) => a.replace("$DIR", dir)).join("\0") + "\0");
  }
  const calls: string[][] = [];
  const exec: Exec = async (file, args) => {
    calls.push([file, ...args]);
    if (file === "mount") await writeFile(mountinfo, line);
    return { file, redactedArgs: args, stdout: "", stderr: "", exitCode: 0, durationMs: 0 };
  };
  const mounts = new VolumeMounts({ exec, root, volfileServer: "10.0.0.1", mountinfoPath: mountinfo, procDir });
  return { mounts, calls, dir };
}

const client = (...opts: string[]): string[] => [
  "/usr/sbin/glusterfs",
  ...opts,
  "--process-name",
  "fuse",
  "--volfile-server=10.0.0.1",
  "--volfile-id=/vol1",
  "$DIR",
];

test("a hosting volume is mounted without FUSE attribute or lookup caching", async () => {
  const { mounts, calls, dir } = await fixture();
  assert.equal(await mounts.ensure("vol1"), dir);
  assert.equal(MOUNT_OPTIONS, "attribute-timeout=0,entry-timeout=0");
  assert.deepEqual(calls, [["mount", "-t", "glusterfs", "-o", MOUNT_OPTIONS, "10.0.0.1:/vol1", dir]]);
  assert.equal(await mounts.ensure("vol1"), dir);
  assert.equal(calls.length, 1, "mounted once");
});

test("a live mount left by a predecessor is adopted when its client runs with our options", async () => {
  const { mounts, calls, dir } = await fixture({ "4242": client("--attribute-timeout=0", "--entry-timeout=0"), "77": ["/bin/sleep", "1000"] }, true);
  assert.equal(await mounts.ensure("vol1"), dir);
  assert.deepEqual(calls, []);
});

test("a live mount whose client caches attributes (an older blockd's, or none found) is mounted again", async () => {
  const cases: Record<string, string[]>[] = [{ "4242": client() }, { "4242": client("--attribute-timeout=0") }, {}];
  for (const clients of cases) {
    const { mounts, calls, dir } = await fixture(clients, true);
    assert.equal(await mounts.ensure("vol1"), dir);
    assert.deepEqual(
      calls,
      [
        ["umount", "-l", dir],
        ["mount", "-t", "glusterfs", "-o", MOUNT_OPTIONS, "10.0.0.1:/vol1", dir],
      ],
      JSON.stringify(clients),
    );
    assert.equal(await mounts.ensure("vol1"), dir);
    assert.equal(calls.length, 2, "checked once");
  }
});
