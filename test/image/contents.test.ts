// What the built image ships: in /app the three bundles, bin/ and
// package.json and nothing else; no node_modules and no npm anywhere; bundles
// made from src/ and production dependencies only (their source maps name no
// test double, no test/ or lab/ file and no devDependency); bundles that ask
// node for its built-ins only and run with nothing beside them but
// package.json.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { join, relative } from "node:path";
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

test("/app holds the three bundles (with their source maps), bin/ and package.json: nothing else", () => {
  const expected = [
    "bin/",
    ...PROGRAMS.map((p) => `bin/${p}.js`),
    "dist/",
    "dist/bundle/",
    ...PROGRAMS.flatMap((p) => [`dist/bundle/${p}.js`, `dist/bundle/${p}.js.map`]),
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
  for (const p of PROGRAMS) {
    const map = JSON.parse(readFileSync(join(image.root, "app/dist/bundle", `${p}.js.map`), "utf8")) as { sources: string[] };
    const fromSrc = map.sources.filter((s) => s.startsWith("../../src/"));
    assert.ok(
      fromSrc.some((s) => s === `../../src/cmd/${p}.ts`),
      `${p}: its entry point src/cmd/${p}.ts`,
    );
    for (const source of map.sources) {
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

test("the bundles ask node for its built-in modules only (and the optional packages their dependencies do without)", () => {
  // ws: bufferutil, utf-8-validate; node-fetch: encoding; debug: supports-color (scripts/bundle.mjs)
  const optional = new Set(["bufferutil", "utf-8-validate", "encoding", "supports-color"]);
  for (const p of PROGRAMS) {
    const code = readFileSync(join(image.root, "app/dist/bundle", `${p}.js`), "utf8");
    // static imports and requires, and dynamic import()s (the CLI loads node:http2 only for a command that calls blockd)
    const specifiers = new Set([...code.matchAll(/(?:require\(|^import [^;]*?from |^import |\bimport\()"([^"]+)"/gm)].map((m) => m[1] ?? ""));
    // the CLI's bundle asks for node:http2, node:net and node:async_hooks alone; the daemons' for many more
    assert.ok(specifiers.size >= (p === "gluster-block" ? 3 : 6), `${p}: ${[...specifiers].join(", ")}`);
    for (const spec of specifiers) assert.ok(isBuiltin(spec) || optional.has(spec), `${p} loads ${spec} at run time`);
  }
});

test("each bundle runs with nothing beside it but package.json (copied apart inside the image)", async () => {
  const script = [
    "set -e",
    "mkdir -p /tmp/apart/dist/bundle",
    'for p in "$@"; do cp "/app/dist/bundle/$p.js" /tmp/apart/dist/bundle/; done',
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
