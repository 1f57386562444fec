// The build context as .dockerignore selects it, so that the product image's
// recipe hash covers exactly the files buildah sends (a change to a unit test
// or to lab/ rebuilds nothing). The subset of .dockerignore's syntax this
// repository uses: `*`, `**`, `?`, `!` exceptions and directory patterns, the
// last matching line deciding, a directory's pattern covering what is below it.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface Rule {
  exception: boolean;
  pattern: string;
  regex: RegExp;
}

function globToRegex(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? "";
    if (c === "*" && glob[i + 1] === "*") {
      const slash = glob[i + 2] === "/";
      re += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

export function parseIgnore(text: string): Rule[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const exception = l.startsWith("!");
      const pattern = (exception ? l.slice(1) : l).replace(/^\/+/, "").replace(/\/+$/, "");
      return { exception, pattern, regex: globToRegex(pattern) };
    });
}

/** Whether `path` (relative, with /) goes into the context: the last rule matching it or a folder above it decides. */
export function included(rules: readonly Rule[], path: string): boolean {
  const parts = path.split("/");
  const selfAndParents = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  let inside = true;
  for (const r of rules) if (selfAndParents.some((p) => r.regex.test(p))) inside = r.exception;
  return inside;
}

/** The context's files under `root`, sorted; symbolic links are not followed (a node_modules link stays out). */
export function contextFiles(root: string): string[] {
  const rules = parseIgnore(readFileSync(join(root, ".dockerignore"), "utf8"));
  const reIncluded = rules.filter((r) => r.exception).map((r) => r.pattern);
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        // descend only where something may be included
        if (included(rules, path) || reIncluded.some((p) => p.startsWith(`${path}/`))) walk(path);
      } else if (e.isFile() && included(rules, path)) out.push(path);
    }
  };
  walk("");
  return out.sort();
}
