// The product image in the lab VMs: built (or found built) on the host by
// `npm run image`'s code, its OCI archive put beside the checkout's dist/ (the
// VMs see the checkout at /lab/repo), and `podman load`ed on a node when the
// node does not hold that build yet. Every program the e2e, the demo and the
// bench start in a VM runs from this image, as the chart runs it.
import { copyFileSync, existsSync, linkSync, mkdirSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { ensureImage } from "../../image/ensure-image.js";
import { ARCHIVE_REF } from "../../image/config.js";
import { LAB_REPO } from "../config.js";
import type { LabNode } from "./lab.js";

/** the image as the chart names it (`gluster-block-csi:<version>`, normalized as the runtime does) */
export const LAB_IMAGE = ARCHIVE_REF;
/** on each VM: the recipe hash of the build it loaded */
const LOADED_MARK = "/var/lib/lab-image/loaded";

export interface HostImage {
  hash: string;
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
  return { hash, guestArchive: `/lab/repo/dist/image/${basename(archive)}` };
}

const loaded = new Map<string, Promise<void>>();

/** Makes sure `n` holds this checkout's image (podman load when it does not). */
export function ensureImageOn(n: LabNode): Promise<void> {
  let p = loaded.get(n.name);
  if (!p) {
    p = (async () => {
      const { hash, guestArchive } = await productArchive();
      await n.must(
        `set -e
        if [ "$(cat ${LOADED_MARK} 2>/dev/null)" = ${hash} ] && podman image exists ${LAB_IMAGE}; then exit 0; fi
        podman load -q -i ${guestArchive} >/dev/null
        podman image exists ${LAB_IMAGE}
        podman image prune -f >/dev/null 2>&1 || true  # the build this one replaced
        mkdir -p "$(dirname ${LOADED_MARK})"; echo ${hash} > ${LOADED_MARK}`,
        { timeoutMs: 600_000 },
      );
    })();
    p.catch(() => loaded.delete(n.name));
    loaded.set(n.name, p);
  }
  return p;
}
