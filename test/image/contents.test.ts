// What the built image ships: in /app the three bundles and their chunks
// (scripts/bundle.mjs), bin/ and package.json and nothing else; no
// node_modules and no npm anywhere; bundles made from src/ and production
// dependencies only (their source maps name no test double, no test/ or lab/
// file and no devDependency); bundles that ask node for its built-ins only,
// every chunk they load present, and that run with nothing beside them but
// package.json.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, join, relative } from "node:path";
import { REPO_ROOT } from "../../image/config.js";
import { openImage, type ImageContainer } from "../helpers/image-container.js";

const PROGRAMS = ["gluster-block-csi", "gluster-blockd", "gluster-block"] as const;

let image: ImageContainer;
before(async () => {
  image = await openImage();
});
after(async () => image?.remove());

/** Every path under `dir` (files and folders), relative to it; symbolic links are not followed. */
function walk(dir: string, skip: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const rel = relative(dir, p);
      if (skip.has(rel)) continue;
      out.push(e.isDirectory() ? `${rel}/` : rel);
      if (e.isDirectory()) visit(p);
    }
  };
  visit(dir);
  return out.sort();
}

const BUNDLE = (): string => join(image.root, "app/dist/bundle");
/** the chunks the programs share or load with import(), each beside its source map */
const chunkFiles = (): string[] => readdirSync(join(BUNDLE(), "chunks")).sort();
/** every file of code in /app/dist/bundle, relative to it: the programs' bundles and the chunks */
const codeFiles = (): string[] => [
  ...PROGRAMS.map((p) => `${p}.js`),
  ...chunkFiles()
    .filter((f) => f.endsWith(".js"))
    .map((f) => `chunks/${f}`),
];

test("/app holds the three bundles and their chunks (with their source maps), bin/ and package.json: nothing else", () => {
  const chunks = chunkFiles();
  assert.ok(chunks.length >= 4, `chunks: ${chunks.join(", ")}`);
  for (const c of chunks) assert.match(c, /^[\w-]+\.js(\.map)?$/, `chunks/${c}`);
  for (const c of chunks.filter((f) => f.endsWith(".js"))) assert.ok(chunks.includes(`${c}.map`), `chunks/${c} has its source map`);
  const expected = [
    "bin/",
    ...PROGRAMS.map((p) => `bin/${p}.js`),
    "dist/",
    "dist/bundle/",
    ...PROGRAMS.flatMap((p) => [`dist/bundle/${p}.js`, `dist/bundle/${p}.js.map`]),
    "dist/bundle/chunks/",
    ...chunks.map((c) => `dist/bundle/chunks/${c}`),
    "package.json",
  ].sort();
  assert.deepEqual(walk(join(image.root, "app")), expected);
  assert.equal(readFileSync(join(image.root, "app/package.json"), "utf8"), readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
  for (const p of PROGRAMS) assert.equal(readFileSync(join(image.root, "app/bin", `${p}.js`), "utf8"), readFileSync(join(REPO_ROOT, "bin", `${p}.js`), "utf8"));
});

test("no node_modules anywhere in the image, and no npm", () => {
  const all = walk(image.root, new Set(["proc", "sys", "dev"]));
  assert.ok(all.length > 5000, `${all.length} paths: the image's whole file system was read`);
  assert.deepEqual(
    all.filter((p) => /(^|\/)node_modules\/$/.test(p)),
    [],
  );
  assert.ok(!all.includes("usr/local/bin/npm") && !all.includes("usr/local/bin/npx"), "the runtime installs nothing with npm");
});

interface LockEntry {
  dev?: boolean;
}

test("the bundles were made from src/ and production dependencies only: no test double, no test/ or lab/ file, no devDependency", () => {
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
  const installed = Object.keys(lock.packages)
    .filter((k) => k.startsWith("node_modules/"))
    .sort((a, b) => b.length - a.length);
  for (const file of codeFiles()) {
    const p = file;
    const map = JSON.parse(readFileSync(join(BUNDLE(), `${file}.map`), "utf8")) as { sources: string[] };
    // a chunk's map names sources one folder further down
    const sources = map.sources.map((s) => (file.startsWith("chunks/") ? s.replace(/^\.\.\//, "") : s));
    const program = PROGRAMS.find((q) => file === `${q}.js`);
    if (program)
      assert.ok(
        sources.some((s) => s === `../../src/cmd/${program}.ts`),
        `${p}: its entry point src/cmd/${program}.ts`,
      );
    for (const source of sources) {
      assert.doesNotMatch(source, /fake|(^|\/)(test|lab|demo|bench|doubles|fixtures)\//i, `${p}: ${source}`);
      assert.doesNotMatch(source, /\.test\.ts$/, `${p}: ${source}`);
      if (source.startsWith("../../src/") || /^\.\.\/generated\/\w+\.descriptor\.json$/.test(source)) continue;
      assert.ok(source.startsWith("../../node_modules/"), `${p}: ${source} is neither src/ nor a dependency`);
      // the installed package a source belongs to (the deepest); a path no package
      // holds is one a dependency's own source map named (@js-sdsl/ordered-map's .build-data)
      const path = source.slice("../../".length);
      const pkg = installed.find((k) => path.startsWith(`${k}/`));
      assert.ok(pkg === undefined || !lock.packages[pkg]?.dev, `${p}: ${source}: ${pkg} is a devDependency (package-lock.json: dev)`);
    }
  }
});

test("the bundles ask node for its built-in modules only (and the optional packages their dependencies do without), and every chunk they load is there", () => {
  // ws: bufferutil, utf-8-validate; node-fetch: encoding; debug: supports-color (scripts/bundle.mjs)
  const optional = new Set(["bufferutil", "utf-8-validate", "encoding", "supports-color"]);
  // static imports and requires, and dynamic import()s (the CLI loads node:http2 only for a command that calls blockd)
  const specifiersOf = (file: string): Set<string> =>
    new Set(
      [...readFileSync(join(BUNDLE(), file), "utf8").matchAll(/(?:require\(|^import [^;]*?from |^import |\bimport\()"([^"]+)"/gm)].map((m) => m[1] ?? ""),
    );
  for (const p of PROGRAMS) {
    // the program's file and every chunk it reaches, import() included
    const builtins = new Set<string>();
    const seen = new Set<string>();
    const todo = [`${p}.js`];
    for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
      if (seen.has(file)) continue;
      seen.add(file);
      for (const spec of specifiersOf(file)) {
        if (spec.startsWith("./") || spec.startsWith("../")) {
          const target = relative(BUNDLE(), join(BUNDLE(), dirname(file), spec));
          assert.ok(codeFiles().includes(target), `${file} loads ${spec}, which the image lacks`);
          todo.push(target);
        } else {
          assert.ok(isBuiltin(spec) || optional.has(spec), `${file} (of ${p}) loads ${spec} at run time`);
          builtins.add(spec);
        }
      }
    }
    // the CLI asks for node:http2, node:net and node:async_hooks alone; the daemons for many more
    assert.ok(builtins.size >= (p === "gluster-block" ? 3 : 6), `${p}: ${[...builtins].join(", ")}`);
  }
});

test("each bundle runs with nothing beside it but its chunks and package.json (copied apart inside the image)", async () => {
  const script = [
    "set -e",
    "mkdir -p /tmp/apart/dist/bundle/chunks",
    'for p in "$@"; do cp "/app/dist/bundle/$p.js" /tmp/apart/dist/bundle/; done',
    "cp /app/dist/bundle/chunks/*.js /tmp/apart/dist/bundle/chunks/",
    "cp /app/package.json /tmp/apart/",
    "cd /",
    'for p in "$@"; do node "/tmp/apart/dist/bundle/$p.js" --help >/dev/null; echo "ran $p"; done',
  ].join("\n");
  const r = await image.run(["sh", "-c", script, "sh", ...PROGRAMS]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(
    r.stdout.trim().split("\n"),
    PROGRAMS.map((p) => `ran ${p}`),
  );
});
