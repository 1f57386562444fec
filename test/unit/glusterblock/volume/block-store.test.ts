// `create ... storage <path>` adopts a file of the volume: the path is
// confined to the volume and its errors are the caller's (INVALID_ARGUMENT or
// FAILED_PRECONDITION), never INTERNAL.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { rm, symlink, writeFile, link } from "node:fs/promises";
import { join } from "node:path";
import { tempHostingVolume, type TempHostingVolume } from "../../../helpers/temp-hosting-volume.js";
import { InvalidRequestError, PreconditionError } from "../../../../src/glusterblock/errors.js";

const GBID = "0d9b6a3e-6a4f-4f59-9a0e-1c2b3d4e5f60";
let v: TempHostingVolume | undefined;
after(async () => {
  if (v) await rm(v.dir, { recursive: true, force: true });
});

test("storage paths outside the volume, into its own folders, missing, linked elsewhere or symbolic are refused as the caller's errors", async () => {
  v = await tempHostingVolume("vol", "block-store-");
  const root = join(v.dir, "mnt", "vol");
  await writeFile(join(v.dir, "outside.img"), "x");
  await writeFile(join(root, "twice.img"), "x");
  await link(join(root, "twice.img"), join(root, "twice-again.img"));
  await symlink(join(v.dir, "outside.img"), join(root, "sneaky.img"));
  const refused: [string, new (...a: never[]) => Error, RegExp][] = [
    ["../outside.img", InvalidRequestError, /inside the volume/],
    ["a/../../outside.img", InvalidRequestError, /inside the volume/],
    [join(v.dir, "outside.img"), InvalidRequestError, /inside the volume/],
    ["", InvalidRequestError, /inside the volume/],
    [".", InvalidRequestError, /inside the volume/],
    ["block-meta/x", InvalidRequestError, /gluster-block's own/],
    ["block-store/../block-store/y", InvalidRequestError, /gluster-block's own/],
    ["nosuch.img", InvalidRequestError, /no such file/],
    ["sneaky.img", InvalidRequestError, /not a regular file/],
    ["twice.img", PreconditionError, /2 links/],
  ];
  for (const [path, type, message] of refused) {
    await assert.rejects(v.store.adoptBackingFile(GBID, path), (e: unknown) => e instanceof type && message.test(e.message), path);
  }
  await writeFile(join(root, "disk.img"), Buffer.alloc(8192));
  assert.equal(await v.store.adoptBackingFile(GBID, "sub/../disk.img"), 8192n);
  assert.equal(await v.store.adoptBackingFile(GBID, "disk.img"), 8192n, "a retry finds the file adopted");
});
