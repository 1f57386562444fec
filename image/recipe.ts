// Recipe hashes: an image is rebuilt exactly when what goes into it changes.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** 12 hex digits of the SHA-256 of the parts, each prefixed by its length (no two lists hash alike). */
export function recipeHash(parts: readonly (string | Buffer)[]): string {
  const h = createHash("sha256");
  for (const p of parts) {
    h.update(`${Buffer.byteLength(p)}\n`);
    h.update(p);
  }
  return h.digest("hex").slice(0, 12);
}

/** Each file's name and contents, for recipeHash. */
export function fileParts(root: string, files: readonly string[]): (string | Buffer)[] {
  return files.flatMap((f) => [f, readFileSync(join(root, f))]);
}
