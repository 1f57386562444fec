// debian:12-slim for a build host that reaches no registry: debootstrap's
// minbase from a Debian mirror into an empty container (debian-rootfs.sh),
// committed under the name the Dockerfile's `FROM debian:12-slim` resolves to.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { exec } from "../src/util/exec.js";
import type { Provided } from "./provided.js";
import { buildah, fromScratch, inspectImage, mountContainer, removeContainer } from "./buildah.js";
import { emptyRecipeDir, logged, pruneOtherRecipes } from "./cache-dir.js";
import { DEBIAN_BASE, IMAGE_DIR, IMAGE_MIRROR, RECIPE_LABEL } from "./config.js";
import { say, secondsSince } from "./progress.js";
import { recipeHash } from "./recipe.js";

const SCRIPT = join(IMAGE_DIR, "debian-rootfs.sh");
/** the official image's configuration */
const CONFIG = ["--cmd", '["bash"]', "--env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "--os", "linux", "--arch", "amd64"];

export function debianRecipe(): string {
  return recipeHash(["debian", readFileSync(SCRIPT), ...CONFIG]);
}

export async function ensureDebianBase(): Promise<Provided> {
  const t0 = performance.now();
  const hash = debianRecipe();
  const have = await inspectImage(DEBIAN_BASE);
  if (have?.oci.Labels?.[RECIPE_LABEL] === hash) return { ref: DEBIAN_BASE, hash, cached: true, seconds: secondsSince(t0) };

  say(`building ${DEBIAN_BASE} (recipe ${hash}): debootstrap from ${IMAGE_MIRROR}`);
  const dir = emptyRecipeDir("debian", hash);
  const container = await fromScratch();
  try {
    const root = await mountContainer(container);
    await logged(dir, "rootfs.log", exec("bash", [SCRIPT, root, IMAGE_MIRROR], { timeoutMs: 45 * 60_000 }));
    await buildah(["config", ...CONFIG, "--label", `${RECIPE_LABEL}=${hash}`, container]);
    await buildah(["commit", "--quiet", container, DEBIAN_BASE], { timeoutMs: 15 * 60_000 });
  } finally {
    await removeContainer(container);
  }
  pruneOtherRecipes("debian", hash);
  const seconds = secondsSince(t0);
  say(`${DEBIAN_BASE} built in ${seconds} s`);
  return { ref: DEBIAN_BASE, hash, cached: false, seconds, ...(have ? { superseded: have.id } : {}) };
}
