// Finds programs on PATH without running them (readiness checks).
import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";

export async function which(program: string, path = process.env.PATH ?? ""): Promise<string | undefined> {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, program);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The programs of `list` that are not on PATH. */
export async function missingPrograms(list: readonly string[], path?: string): Promise<string[]> {
  const found = await Promise.all(list.map(async (p) => ((await which(p, path)) ? undefined : p)));
  return found.filter((p): p is string => p !== undefined);
}
