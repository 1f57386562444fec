// The product image: the repository's Dockerfile, unchanged, built by
// `buildah bud`, tagged gluster-block-csi:<version> and written to an OCI
// archive. Rebuilt when its recipe changes: the bases' recipes, the
// Dockerfile, the build context (.dockerignore's selection) and the bud flags.
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BaseSource } from "./base-source.js";
import { buildah, inspectImage, ISOLATION } from "./buildah.js";
import { contextFiles } from "./build-context.js";
import { emptyRecipeDir, logged, pruneOtherRecipes, recipeDir } from "./cache-dir.js";
import { ARCHIVE_REF, PRODUCT, PRODUCT_REF, RECIPE_LABEL, REPO_ROOT, VERSION } from "./config.js";
import type { Provided } from "./provided.js";
import { say, secondsSince } from "./progress.js";
import { fileParts, recipeHash } from "./recipe.js";

export interface BuildRecord {
  hash: string;
  imageId: string;
  builtAt: string;
  /** how long `buildah bud` and writing the archive took when it was built */
  seconds: number;
  /** uncompressed, as `buildah images` reports it */
  size: string;
  archive: string;
  archiveBytes: number;
}

export interface ProductImage extends Provided {
  record: BuildRecord;
}

function budFlags(source: BaseSource): string[] {
  return [
    "--isolation",
    ISOLATION,
    // the local bases carry the exact names the FROM lines resolve to; nothing is pulled
    ...(source === "local" ? ["--pull=never"] : []),
    // Docker's format keeps the Dockerfile's HEALTHCHECK (OCI's has none)
    "--format",
    "docker",
    // one layer per instruction, as docker build makes them: a change to the
    // code rebuilds (and a runtime that holds the previous build pulls or
    // loads) only the layers from the bundle on, not the packages and Node
    "--layers",
    "-f",
    "Dockerfile",
    "-t",
    `${PRODUCT}:${VERSION}`,
  ];
}

export function productRecipe(source: BaseSource, bases: readonly Provided[]): string {
  const files = ["Dockerfile", ".dockerignore", ...contextFiles(REPO_ROOT)];
  return recipeHash(["product", source, ...bases.map((b) => `${b.ref}=${b.hash}`), ...budFlags(source), ...fileParts(REPO_ROOT, files)]);
}

async function writeArchive(dir: string, hash: string, imageId: string, t0: number): Promise<BuildRecord> {
  const archive = join(dir, `${PRODUCT}-${VERSION}.tar`);
  await buildah(["push", "--quiet", PRODUCT_REF, `oci-archive:${archive}:${ARCHIVE_REF}`], { timeoutMs: 30 * 60_000 });
  const images = JSON.parse((await buildah(["images", "--json", PRODUCT_REF])).stdout) as { size: string }[];
  const record: BuildRecord = {
    hash,
    imageId,
    builtAt: new Date().toISOString(),
    seconds: secondsSince(t0),
    size: images[0]?.size ?? "?",
    archive,
    archiveBytes: statSync(archive).size,
  };
  writeFileSync(join(dir, "build.json"), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

export async function ensureProductImage(source: BaseSource, bases: readonly Provided[], rebuild = false): Promise<ProductImage> {
  const t0 = performance.now();
  const hash = productRecipe(source, bases);
  const have = await inspectImage(PRODUCT_REF);
  const recordFile = join(recipeDir("image", hash), "build.json");
  if (!rebuild && have?.oci.Labels?.[RECIPE_LABEL] === hash) {
    const record = existsSync(recordFile) ? (JSON.parse(readFileSync(recordFile, "utf8")) as BuildRecord) : undefined;
    if (record && record.imageId === have.id && existsSync(record.archive)) return { ref: PRODUCT_REF, hash, cached: true, seconds: secondsSince(t0), record };
  }

  say(`building ${PRODUCT_REF} (recipe ${hash}) from the Dockerfile (${source} bases)`);
  const dir = emptyRecipeDir("image", hash);
  const iidfile = join(dir, "image-id");
  const bud = ["bud", ...budFlags(source), "--label", `${RECIPE_LABEL}=${hash}`, "--iidfile", iidfile, REPO_ROOT];
  await logged(dir, "build.log", buildah(bud, { cwd: REPO_ROOT, timeoutMs: 90 * 60_000 }));
  const imageId = readFileSync(iidfile, "utf8")
    .trim()
    .replace(/^sha256:/, "");
  const record = await writeArchive(dir, hash, imageId, t0);
  pruneOtherRecipes("image", hash);
  say(`${PRODUCT_REF} built in ${record.seconds} s`);
  const superseded = have && have.id !== imageId ? { superseded: have.id } : {};
  return { ref: PRODUCT_REF, hash, cached: false, seconds: secondsSince(t0), record, ...superseded };
}
