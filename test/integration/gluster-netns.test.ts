// The host gluster fixture itself: 3 real glusterd peers in network
// namespaces, a replica-3 volume, FUSE mount, file I/O, --xml output.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../lab/proc.js";
import { startGlusterNetns } from "./harness/gluster-netns.js";

test("gluster netns fixture: 3 peers, replica-3 volume, FUSE mount, xml", { timeout: 300_000 }, async () => {
  const t0 = performance.now();
  const g = await startGlusterNetns({ nodes: 3, volume: "gv-it" });
  const mnt = mkdtempSync(join(tmpdir(), "gln-mnt-"));
  try {
    console.log(`fixture up in ${((performance.now() - t0) / 1000).toFixed(2)}s`);
    const pool = await g.cliMust(1, ["pool", "list"]);
    assert.equal(pool.stdout.match(/Connected/g)?.length, 3, pool.stdout);

    const xml = (await g.cliMust(2, ["--xml", "volume", "info", "gv-it"])).stdout;
    assert.match(xml, /<opRet>0<\/opRet>/);
    assert.match(xml, /<name>gv-it<\/name>/);
    assert.match(xml, /<statusStr>Started<\/statusStr>/);
    assert.match(xml, /<replicaCount>3<\/replicaCount>/);
    const bricks = [...xml.matchAll(/<brick uuid="[^"]+">([^<]+)<name>/g)].map((m) => m[1]);
    assert.equal(bricks.length, 3, xml);
    assert.deepEqual(bricks.map((b) => b?.split(":")[0]).sort(), [g.address(1), g.address(2), g.address(3)]);
    // the gluster-block option group was applied
    assert.match(xml, /<name>features\.shard<\/name>\s*<value>on<\/value>/);

    await g.mount(mnt);
    const data = randomBytes(1 << 20);
    const file = join(mnt, "hello.bin");
    writeFileSync(file, data);
    const fd = openSync(file, "r+");
    fsyncSync(fd);
    closeSync(fd);
    assert.deepEqual(readFileSync(file), data);
    assert.deepEqual(
      readdirSync(mnt).filter((f) => !f.startsWith(".")),
      ["hello.bin"],
    );
    await g.umount(mnt);
    // the file is replicated on every brick; every peer answers --xml status
    for (let i = 1; i <= 3; i++) {
      assert.deepEqual(readFileSync(join(g.dir, `n${i}`, "bricks/gv-it-b1/hello.bin")), data);
      const r = await g.cliMust(i, ["--xml", "volume", "status", "gv-it"]);
      assert.match(r.stdout, /<opRet>0<\/opRet>/);
    }
  } finally {
    await g.down();
    rmSync(mnt, { recursive: true, force: true });
  }
  // nothing of the fixture remains
  assert.ok(!existsSync(g.dir));
  assert.deepEqual(
    readdirSync("/sys/class/net").filter((l) => l === "glnbr0" || l.startsWith("glnh")),
    [],
  );
  assert.doesNotMatch(readFileSync("/proc/self/mountinfo", "utf8"), /fuse\.glusterfs/);
  const ns = await run("ip", ["netns", "list"]);
  assert.doesNotMatch(ns.stdout, /^gln\d/m);
});
