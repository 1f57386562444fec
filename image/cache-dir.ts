// The cache's directories: one per recipe (`<kind>-<hash>`). A recipe that
// was built replaces the older ones of its kind, as lab/ prunes its images;
// a build that fails leaves the last good one in place.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ExecError, type ExecResult } from "../src/util/exec.js";
import { IMAGE_CACHE } from "./config.js";

export function recipeDir(kind: string, hash: string): string {
  return join(IMAGE_CACHE, `${kind}-${hash}`);
}

/** The recipe's directory, empty, for a build of it to fill. */
export function emptyRecipeDir(kind: string, hash: string): string {
  const dir = recipeDir(kind, hash);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** After a build of the recipe: the other recipes' directories of its kind go. */
export function pruneOtherRecipes(kind: string, hash: string): void {
  const keep = `${kind}-${hash}`;
  for (const name of readdirSync(IMAGE_CACHE))
    if (name.startsWith(`${kind}-`) && name !== keep) rmSync(join(IMAGE_CACHE, name), { recursive: true, force: true });
}

/** A long step's output, kept beside what it made: all of it, or the tails the error kept when it failed. */
export async function logged(dir: string, name: string, step: Promise<ExecResult>): Promise<ExecResult> {
  const write = (stdout: string, stderr: string): void =>
    writeFileSync(join(dir, name), `${stdout}${stdout.endsWith("\n") || stdout === "" ? "" : "\n"}${stderr}`);
  try {
    const r = await step;
    write(r.stdout, r.stderr);
    return r;
  } catch (e) {
    if (e instanceof ExecError) write(e.stdout, e.stderrTail);
    throw e;
  }
}
