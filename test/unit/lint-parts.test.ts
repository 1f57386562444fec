// `npm run lint` refuses an import that crosses the parts' lines
// (lint/parts.mjs): each forbidden import below is linted with the project's
// own eslint.config.js, as if it stood in a file of that part. The probe
// files do not exist, so the type-aware parser options are turned off and
// only the parts rule runs (the config's rule is what is tested).
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { ESLint } from "eslint";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const eslint = new ESLint({
  cwd: ROOT,
  ruleFilter: ({ ruleId }) => ruleId === "parts/imports",
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
});

async function partProblems(file: string, specifier: string): Promise<string[]> {
  const code = `export * from ${JSON.stringify(specifier)};\n`;
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === "parts/imports").map((m) => m.message);
}

const FORBIDDEN: readonly (readonly [rule: string, file: string, specifier: string])[] = [
  ["util imports nothing of the project", "src/util/probe.ts", "../rpc/errors.js"],
  ["identity knows no service", "src/identity/probe.ts", "../rpc/errors.js"],
  ["rpc knows no service", "src/rpc/probe.ts", "../glusterblock/blockd/services.js"],
  ["rpc knows no CSI service", "src/rpc/probe.ts", "../csi/identity-server.js"],
  ["csi knows no service", "src/csi/probe.ts", "../controller/controller-service.js"],
  ["node imports no engine", "src/node/probe.ts", "../glusterblock/engine/block-engine.js"],
  ["node imports no controller", "src/node/probe.ts", "../controller/create-volume.js"],
  ["controller reaches the engine only through blockd's client", "src/controller/probe.ts", "../glusterblock/engine/block-engine.js"],
  ["the engine knows no CSI part", "src/glusterblock/engine/probe.ts", "../../csi/volume-id.js"],
  ["src imports nothing under test/", "src/node/probe.ts", "../../test/doubles/fake-host.js"],
  ["src imports nothing of the lab", "src/cmd/probe.ts", "../../lab/harness/lab.js"],
  ["demo imports nothing under test/", "demo/probe.ts", "../test/doubles/fake-blockd.js"],
  ["bench imports nothing under test/", "bench/probe.ts", "../test/helpers/tls-pki.js"],
  ["the lab runs no test code", "lab/harness/probe.ts", "../../test/doubles/fake-host.js"],
  ["the image build runs no test code", "image/probe.ts", "../test/helpers/helm.js"],
  ["the image build knows no service", "image/probe.ts", "../src/glusterblock/engine/block-engine.js"],
  ["the image build knows no lab", "image/probe.ts", "../lab/proc.js"],
];

for (const [rule, file, specifier] of FORBIDDEN) {
  test(`lint refuses: ${rule} (${file} importing ${specifier})`, async () => {
    const problems = await partProblems(file, specifier);
    assert.equal(problems.length, 1, `expected one parts/imports error, got ${JSON.stringify(problems)}`);
    assert.match(problems[0] ?? "", / must not import /);
  });
}

test("lint allows the imports the parts are meant to make", async () => {
  for (const [file, specifier] of [
    ["src/node/probe.ts", "../identity/names.js"],
    ["src/controller/probe.ts", "../rpc/unary-client.js"],
    ["src/glusterblock/blockd/probe.ts", "../../rpc/tls.js"],
    ["demo/probe.ts", "../lab/harness/lab.js"],
    ["test/unit/probe.ts", "../doubles/fake-host.js"],
    ["image/probe.ts", "../src/util/exec.js"],
    ["test/image/probe.ts", "../../image/ensure-image.js"],
  ] as const) {
    assert.deepEqual(await partProblems(file, specifier), [], `${file} importing ${specifier}`);
  }
});
