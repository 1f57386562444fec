// Where the package's own package.json is (version.ts reads the version from
// it), found from this module's location: the same code runs from src/
// (tests), dist/ (tsc) and dist/bundle/ (the single-file programs that bin/
// starts), each at a different depth below the package root.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE_NAME = "gluster-block-csi";

function isOurs(dir: string): boolean {
  const file = join(dir, "package.json");
  if (!existsSync(file)) return false;
  return (JSON.parse(readFileSync(file, "utf8")) as { name?: unknown }).name === PACKAGE_NAME;
}

/** The nearest directory above `from` holding our package.json. */
export function findPackageDir(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (isOurs(dir)) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json of ${PACKAGE_NAME} above ${from}`);
  }
}

export const PACKAGE_DIR: string = findPackageDir(dirname(fileURLToPath(import.meta.url)));
