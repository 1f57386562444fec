import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlockStore } from "../../../../src/glusterblock/volume/block-store.js";
import { noExec } from "../../../helpers/temp-hosting-volume.js";

test("a fenced store runs its fence before every change of a journal, an ACL proof or a backing file, and changes nothing when the fence throws", async () => {
  const root = await mkdtemp(join(tmpdir(), "gbcsi-store-"));
  const plain = new BlockStore("vol", root, noExec);
  await plain.ensureLayout();
  await plain.append("blk", "GBID: 0a1b2c3d-0000-4000-8000-000000000001\n");
  await plain.createBackingFile("g1", 4096n, false);
  await plain.writeAclProof("blk", "proof\n");
  await writeFile(join(root, "adoptme"), "data");
  const snapshot = async (): Promise<string> =>
    JSON.stringify([
      await readdir(join(root, "block-meta")),
      await readdir(join(root, "block-store")),
      await plain.readRaw("blk"),
      await plain.readAclProof("blk"),
      String(await plain.backingFileSize("g1")),
    ]);

  const calls: string[] = [];
  let open = true;
  const store = plain.fenced(() => {
    calls.push("fence");
    return open ? Promise.resolve() : Promise.reject(new Error("lock lost"));
  });
  await store.append("blk", "");
  assert.deepEqual(calls, [], "no fence for nothing to write");
  await store.append("blk", "SIZE: 4096\n");
  assert.equal(calls.length, 1);

  open = false;
  const before = await snapshot();
  const changes: [string, () => Promise<unknown>][] = [
    ["append", () => store.append("blk", "ENTRYDELETE: INPROGRESS\n")],
    ["removeMeta", () => store.removeMeta("blk")],
    ["writeAclProof", () => store.writeAclProof("blk", "{}\n")],
    ["removeAclProof", () => store.removeAclProof("blk")],
    ["createBackingFile", () => store.createBackingFile("g2", 4096n, false)],
    ["resizeBackingFile", () => store.resizeBackingFile("g1", 8192n, false)],
    ["unlinkBackingFile", () => store.unlinkBackingFile("g1")],
    ["adoptBackingFile", () => store.adoptBackingFile("g3", "adoptme")],
  ];
  for (const [name, change] of changes) await assert.rejects(change(), /lock lost/, name);
  assert.equal(calls.length, 1 + changes.length);
  assert.equal(await snapshot(), before, "nothing changed");
  assert.equal(await readFile(join(root, "block-meta", "blk"), "utf8"), "GBID: 0a1b2c3d-0000-4000-8000-000000000001\nSIZE: 4096\n");
  assert.deepEqual(await readdir(join(root, "block-store")), ["g1"]);
  // reads need no fence
  assert.equal(await store.readRaw("blk"), "GBID: 0a1b2c3d-0000-4000-8000-000000000001\nSIZE: 4096\n");
});
