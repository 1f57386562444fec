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

async function codeProblems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === "parts/imports").map((m) => m.message);
}

async function partProblems(file: string, specifier: string): Promise<string[]> {
  return codeProblems(file, `export * from ${JSON.stringify(specifier)};\n`);
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
  ["node sees no blockd protocol", "src/node/probe.ts", "../generated/blockd.js"],
  ["node sees no blockd message", "src/node/probe.ts", "../generated/glusterblock/v1/BlockInfo.js"],
  ["csi sees no blockd protocol", "src/csi/probe.ts", "../generated/glusterblock/v1/Blockd.js"],
  ["rpc sees no blockd protocol (proto.ts alone loads it)", "src/rpc/probe.ts", "../generated/blockd.descriptor.json"],
  ["the engine sees no CSI protocol", "src/glusterblock/blockd/probe.ts", "../../generated/csi/v1/Node.js"],
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

// every way TypeScript can name another module goes through the rule
const ENGINE = "../glusterblock/engine/block-engine.js";
const FORMS: readonly (readonly [form: string, code: string])[] = [
  ["typeof import() in a type", `export type E = typeof import("${ENGINE}");\n`],
  ["import().T in a type", `export type E = import("${ENGINE}").BlockEngine;\n`],
  ["dynamic import() of a template without ${}", `export const e = import(\`${ENGINE}\`);\n`],
  ["import x = require()", `import e = require("${ENGINE}");\nexport { e };\n`],
];

for (const [form, code] of FORMS) {
  test(`lint refuses node importing the engine by ${form}`, async () => {
    const problems = await codeProblems("src/node/probe.ts", code);
    assert.equal(problems.length, 1, `expected one parts/imports error, got ${JSON.stringify(problems)}`);
    assert.match(problems[0] ?? "", /^src\/node must not import src\/glusterblock /);
  });
}

test("lint refuses a relative dynamic import it cannot resolve", async () => {
  const problems = await codeProblems("src/node/probe.ts", "export const load = (p: string) => import(`../glusterblock/${p}`);\n");
  assert.equal(problems.length, 1, JSON.stringify(problems));
  assert.match(problems[0] ?? "", /cannot be checked/);
});

test("lint refuses a file under src/ that is in no part", async () => {
  for (const [file, where] of [
    ["src/foo/probe.ts", "src/foo"],
    ["src/probe.ts", "src/probe.ts"],
  ] as const) {
    const problems = await partProblems(file, "./util/log.js");
    assert.deepEqual(problems, [`${where} is in no part: add it to lint/parts.mjs`], file);
  }
});

test("lint allows the imports the parts are meant to make", async () => {
  for (const [file, specifier] of [
    ["src/node/probe.ts", "../identity/names.js"],
    ["src/controller/probe.ts", "../rpc/unary-client.js"],
    ["src/glusterblock/blockd/probe.ts", "../../rpc/tls.js"],
    ["demo/probe.ts", "../lab/harness/lab.js"],
    ["test/unit/probe.ts", "../doubles/fake-host.js"],
    ["src/node/probe.ts", "../generated/csi/v1/Node.js"],
    ["src/csi/probe.ts", "../generated/google/protobuf/Int64Value.js"],
    ["src/controller/probe.ts", "../generated/glusterblock/v1/BlockInfo.js"],
    ["src/controller/probe.ts", "../generated/csi.js"],
    ["src/glusterblock/cli/probe.ts", "../../generated/blockd.js"],
    ["src/rpc/proto.ts", "../generated/blockd.descriptor.json"],
    ["src/rpc/proto.ts", "../generated/csi.descriptor.json"],
    ["image/probe.ts", "../src/util/exec.js"],
    ["test/image/probe.ts", "../../image/ensure-image.js"],
  ] as const) {
    assert.deepEqual(await partProblems(file, specifier), [], `${file} importing ${specifier}`);
  }
});
