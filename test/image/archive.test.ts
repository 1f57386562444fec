// The OCI archive `npm run image` writes is the image, under the name the
// chart's `image: gluster-block-csi:<version>` resolves to, and it loads:
// containers/image (what podman load uses) reads it back into the storage.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { buildah, inspectImage, removeImage } from "../../image/buildah.js";
import { ARCHIVE_REF } from "../../image/config.js";
import { exec } from "../../src/util/exec.js";
import { openImage, type ImageContainer } from "../helpers/image-container.js";

let image: ImageContainer;
before(async () => {
  image = await openImage();
});
after(async () => image?.remove());

async function member(archive: string, name: string): Promise<unknown> {
  return JSON.parse((await exec("tar", ["-xOf", archive, name], { timeoutMs: 120_000 })).stdout) as unknown;
}

interface Descriptor {
  digest: string;
  annotations?: Record<string, string>;
}

test("the archive's index names the image docker.io/library/gluster-block-csi:<version>; its manifest holds the image's layers and config", async () => {
  const { archive } = image.build.product.record;
  const index = (await member(archive, "index.json")) as { manifests: Descriptor[] };
  assert.equal(index.manifests.length, 1);
  const [top] = index.manifests;
  assert.equal(top?.annotations?.["org.opencontainers.image.ref.name"], ARCHIVE_REF);
  const manifest = (await member(archive, `blobs/sha256/${top?.digest.replace("sha256:", "") ?? ""}`)) as { config: Descriptor; layers: Descriptor[] };
  const config = (await member(archive, `blobs/sha256/${manifest.config.digest.replace("sha256:", "")}`)) as {
    config: Record<string, unknown>;
    rootfs: { diff_ids: string[] };
  };
  const stored = JSON.parse((await buildah(["inspect", "--type", "image", image.build.product.ref])).stdout) as {
    OCIv1: { config: Record<string, unknown>; rootfs: { diff_ids: string[] } };
  };
  assert.deepEqual(config.rootfs.diff_ids, stored.OCIv1.rootfs.diff_ids, "the same layers");
  assert.equal(manifest.layers.length, config.rootfs.diff_ids.length);
  for (const key of ["Entrypoint", "Cmd", "User", "Env", "WorkingDir"]) assert.deepEqual(config.config[key], stored.OCIv1.config[key], key);
});

test("the archive loads (buildah pull oci-archive:, the library podman load uses) as an image with the same layers", async () => {
  const { archive } = image.build.product.record;
  const before = await inspectImage(ARCHIVE_REF);
  const pulled = (await buildah(["pull", "--quiet", `oci-archive:${archive}`], { timeoutMs: 10 * 60_000 })).stdout.trim();
  try {
    const loaded = await inspectImage(ARCHIVE_REF);
    assert.ok(loaded, `${ARCHIVE_REF} after the load`);
    assert.equal(loaded.id, pulled);
    assert.deepEqual(loaded.oci.Entrypoint, ["/usr/bin/tini", "-s", "--"]);
    assert.equal(loaded.oci.User, "10001:10001");
  } finally {
    // leave the storage as it was: the loaded name goes unless it was there before
    if (!before) await removeImage(pulled);
  }
});
