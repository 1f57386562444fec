// The product image in the lab VMs: built (or found built) on the host by
// `npm run image`'s code, its OCI archive put beside the checkout's dist/ (the
// VMs see the checkout at /lab/repo), and `podman load`ed on a node when the
// node does not hold that build yet. Every program the e2e, the demo and the
// bench start in a VM runs from this image, as the chart runs it.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, linkSync, mkdirSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { ensureImage } from "../../image/ensure-image.js";
import { ARCHIVE_REF } from "../../image/config.js";
import { LAB_REPO } from "../config.js";
import type { LabNode } from "./lab.js";

/** the image as the chart names it (`gluster-block-csi:<version>`, normalized as the runtime does) */
export const LAB_IMAGE = ARCHIVE_REF;

export interface HostImage {
  hash: string;
  /** the archive's image ID (its config's digest, as podman names what it loads) */
  imageId: string;
  /** the archive as the VMs see it */
  guestArchive: string;
}

let host: Promise<HostImage> | undefined;

/** The product image built (or found built) on the host, its archive where the VMs see it. */
export function productArchive(): Promise<HostImage> {
  host ??= hostImage();
  return host;
}

async function hostImage(): Promise<HostImage> {
  const built = await ensureImage();
  const { archive, hash } = built.product.record;
  const dir = join(LAB_REPO, "dist", "image");
  const target = join(dir, basename(archive));
  const same = existsSync(target) && statSync(target).ino === statSync(archive).ino;
  if (!same) {
    mkdirSync(dir, { recursive: true });
    rmSync(target, { force: true });
    try {
      linkSync(archive, target); // same file system: no copy of 120 MB
    } catch {
      copyFileSync(archive, target);
    }
  }
  return { hash, imageId: archiveImageId(archive), guestArchive: `/lab/repo/dist/image/${basename(archive)}` };
}

/** The ID the archive's image gets where it is loaded: its OCI config's digest (not buildah's: the push converts Docker's config). */
function archiveImageId(archive: string): string {
  const member = (name: string): string => {
    const r = spawnSync("tar", ["-xOf", archive, name], { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`tar -xOf ${archive} ${name}: ${r.stderr}`);
    return r.stdout;
  };
  const digest = (d: unknown): string => {
    if (typeof d !== "string" || !/^sha256:[0-9a-f]{64}$/.test(d)) throw new Error(`${archive}: not a sha256 digest: ${String(d)}`);
    return d.slice("sha256:".length);
  };
  const index = JSON.parse(member("index.json")) as { manifests?: { digest?: unknown }[] };
  const manifest = JSON.parse(member(`blobs/sha256/${digest(index.manifests?.[0]?.digest)}`)) as { config?: { digest?: unknown } };
  return digest(manifest.config?.digest);
}

const loaded = new Map<string, Promise<void>>();

/**
 * Makes sure `n` holds this checkout's image: `podman load` when the VM's
 * store (kept from boot to boot, vm.sh) has another build under the name.
 * The store already holds the layers the builds share (buildah --layers),
 * so a new build of the code loads only its own few layers.
 */
export function ensureImageOn(n: LabNode): Promise<void> {
  let p = loaded.get(n.name);
  if (!p) {
    p = (async () => {
      const { imageId, guestArchive } = await productArchive();
      const held = `[ "$(podman image inspect --format '{{.Id}}' ${LAB_IMAGE} 2>/dev/null)" = ${imageId} ]`;
      await n.must(
        `set -e
        if ${held}; then exit 0; fi
        podman load -q -i ${guestArchive} >/dev/null
        ${held} || { echo "podman load did not give ${LAB_IMAGE} the ID ${imageId}" >&2; exit 1; }
        podman image prune -f >/dev/null 2>&1 || true  # the build this one replaced
        sync  # the store outlives the VM`,
        { timeoutMs: 900_000 },
      );
    })();
    p.catch(() => loaded.delete(n.name));
    loaded.set(n.name, p);
  }
  return p;
}
