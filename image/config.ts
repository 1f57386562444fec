// What `npm run image` builds, under which names, and where it keeps it.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const IMAGE_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(IMAGE_DIR, "..");
/** bases, node/npm packages and finished images, each under a directory named by its recipe hash */
export const IMAGE_CACHE = process.env.IMAGE_CACHE ?? "/var/tmp/gluster-block-csi-image";
/** where debootstrap fetches Debian from (the image's own apt sources always name deb.debian.org, as the official image's do) */
export const IMAGE_MIRROR = process.env.IMAGE_MIRROR ?? "http://deb.debian.org/debian";

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { name: string; version: string };
export const PRODUCT = pkg.name;
export const VERSION = pkg.version;

/**
 * The Dockerfile's FROM lines, as the names short names resolve to: where no
 * registry is reachable the build provides these two itself, so that the
 * Dockerfile builds unchanged.
 */
export const DEBIAN_BASE = "docker.io/library/debian:12-slim";
export const NODE_BASE = "docker.io/library/node:20-bookworm";
export const NODE_MAJOR = 20;

/** the product image in buildah's storage (`-t gluster-block-csi:<v>` names it so) */
export const PRODUCT_REF = `localhost/${PRODUCT}:${VERSION}`;
/**
 * the name inside the OCI archive: what the chart's `image: gluster-block-csi:<v>`
 * means to containerd and podman, so `ctr images import` and `podman load`
 * give the pods' image without a retag
 */
export const ARCHIVE_REF = `docker.io/library/${PRODUCT}:${VERSION}`;
/** on each image this build makes: the hash of the recipe it was made from */
export const RECIPE_LABEL = "io.github.gluster-block-csi.recipe";
