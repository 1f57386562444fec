// The product image's recipe covers exactly the build context buildah sends:
// .dockerignore's selection as image/build-context.ts reads it, and the
// context itself holding what the Dockerfile copies and nothing else.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { contextFiles, included, parseIgnore } from "../../../image/build-context.js";
import { recipeHash } from "../../../image/recipe.js";
import { ROOT } from "../../helpers/spawn-program.js";

test(".dockerignore's rules: the last match decides, a folder's rule covers what is below it, ** spans folders", () => {
  const rules = parseIgnore("# comment\n*\n!package.json\n!src/\nsrc/**/*.test.ts\n!src/keep.test.ts\n/dist\n");
  assert.ok(included(rules, "package.json"));
  assert.ok(!included(rules, "package-lock.json"));
  assert.ok(included(rules, "src/a/b.ts"));
  assert.ok(!included(rules, "src/a/b.test.ts"));
  assert.ok(!included(rules, "src/b.test.ts"), "**/ also matches no folder at all");
  assert.ok(included(rules, "src/keep.test.ts"));
  assert.ok(!included(rules, "dist/x.js"));
  assert.ok(!included(rules, "test/unit/x.ts"));
  assert.ok(!included(parseIgnore("a?c\n"), "abc") && included(parseIgnore("a?c\n"), "a/c"), "? is one character, never /");
});

test("contextFiles walks only where something may be included and follows no symbolic link", () => {
  const dir = mkdtempSync(join(tmpdir(), "context-"));
  try {
    const files = ["package.json", "src/a.ts", "src/a.test.ts", "lab/x.sh", "deep/src/y.ts"];
    for (const f of files) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      writeFileSync(join(dir, f), f);
    }
    symlinkSync(join(dir, "src"), join(dir, "linked"));
    writeFileSync(join(dir, ".dockerignore"), "*\n!package.json\n!src/\n!linked\nsrc/**/*.test.ts\n");
    assert.deepEqual(contextFiles(dir), ["package.json", "src/a.ts"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("this repository's context: the sources, manifests and bin/ the Dockerfile copies; no tests, lab, docs, node_modules or dist", () => {
  const files = contextFiles(ROOT);
  for (const f of [
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "tsconfig.build.json",
    "scripts/bundle.mjs",
    "bin/gluster-block.js",
    "src/cmd/gluster-block-csi.ts",
  ])
    assert.ok(files.includes(f), f);
  const tops = new Set(files.map((f) => f.split("/")[0]));
  assert.deepEqual([...tops].sort(), ["bin", "package-lock.json", "package.json", "scripts", "src", "tsconfig.build.json", "tsconfig.json"]);
  assert.deepEqual(
    files.filter((f) => f.endsWith(".test.ts")),
    [],
  );
  assert.deepEqual(
    files.filter((f) => f.startsWith("scripts/")),
    ["scripts/bundle.mjs"],
  );
});

test("a recipe hash changes with any part and with where the parts divide", () => {
  const base = recipeHash(["a", "bc"]);
  assert.match(base, /^[0-9a-f]{12}$/);
  assert.equal(recipeHash(["a", "bc"]), base);
  assert.notEqual(recipeHash(["ab", "c"]), base);
  assert.notEqual(recipeHash(["a", "bd"]), base);
  assert.notEqual(recipeHash(["a", Buffer.from("bc"), ""]), base);
});
