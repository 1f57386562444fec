#!/usr/bin/env node
// Runs one layer of tests with node's own test runner (node:test + tsx).
//   unit:        test/unit/**/*.test.ts                     (fake exec, no services)
//   integration: test/integration/**/*.test.ts              (real glusterd on the host)
//   image:       test/image/**/*.test.ts                    (the built product image: npm run image's, built or reused)
//   e2e:         test/e2e/**/*.e2e.test.ts                  (the qemu VM lab)
//   k8s:         test/k8s/**/*.k8s.test.ts                  (Kubernetes in the lab, from K8S_BIN_DIR's binaries)
// Node 20's --test does not expand globs, so the files are listed here.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const layer = process.argv[2] ?? "unit";
const extra = process.argv.slice(3);

function walk(dir, out = []) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(relative(root, p));
  }
  return out;
}

const layers = {
  unit: () => walk(join(root, "test/unit")).filter((f) => f.endsWith(".test.ts")),
  integration: () => walk(join(root, "test/integration")).filter((f) => f.endsWith(".test.ts")),
  image: () => walk(join(root, "test/image")).filter((f) => f.endsWith(".test.ts")),
  e2e: () => walk(join(root, "test/e2e")).filter((f) => f.endsWith(".e2e.test.ts")),
  k8s: () => walk(join(root, "test/k8s")).filter((f) => f.endsWith(".k8s.test.ts")),
};
if (!layers[layer]) {
  console.error(`usage: run-tests.mjs unit|integration|image|e2e|k8s [file filter...]`);
  process.exit(2);
}
// a test under src/ would never run here, and would ship in the image (.dockerignore takes all of src/)
const strays = walk(join(root, "src")).filter((f) => f.endsWith(".test.ts"));
if (strays.length > 0) {
  console.error(`tests live under test/ (unit tests in test/unit/, laid out as src/ is); move:\n  ${strays.join("\n  ")}`);
  process.exit(1);
}
let files = layers[layer]().sort();
if (extra.length > 0) files = files.filter((f) => extra.some((e) => f.includes(e)));
if (files.length === 0) {
  console.error(`no ${layer} test files found`);
  process.exit(1);
}
const concurrency = layer === "unit" ? [] : ["--test-concurrency=1"];
const env = { ...process.env };
if (layer === "e2e" || layer === "k8s") {
  // the programs the VMs run, built once here rather than once per test file (each is its own process)
  const b = spawnSync(process.execPath, ["--import", "tsx", "-e", 'import("./lab/harness/product.ts").then((m) => m.buildProduct())'], {
    cwd: root,
    stdio: "inherit",
  });
  if (b.status !== 0) process.exit(b.status ?? 1);
  env.LAB_PRODUCT_BUILT = "1";
}
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", ...concurrency, ...files], {
  cwd: root,
  stdio: "inherit",
  env,
});
process.exit(r.status ?? 1);
