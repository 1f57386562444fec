// typescript-eslint with type information: floating promises and unsafe `any`
// flows are errors, since a lost promise in a storage driver is a lost error.
// The plain JavaScript (scripts/*.mjs, lint/, this file) is linted too, without
// the rules that need TypeScript's types (see the last block).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { partsPlugin } from "./lint/parts.mjs";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "src/generated/**", "bin/**", "deploy/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { parts: partsPlugin(import.meta.dirname) },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        // node:test's test()/describe() return promises the runner itself awaits
        { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "it", "describe", "suite"] }] },
      ],
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      // who may import whom: the parts and their reasons are in lint/parts.mjs
      "parts/imports": "error",
      "no-restricted-syntax": [
        "error",
        { selector: "CallExpression[callee.object.name='it'][callee.property.name='only']", message: "no it.only" },
        { selector: "CallExpression[callee.object.name='test'][callee.property.name='only']", message: "no test.only" },
      ],
      "no-restricted-imports": [
        "error",
        {
          paths: [
            { name: "child_process", message: "run programs through src/util/exec.ts" },
            { name: "node:child_process", message: "run programs through src/util/exec.ts" },
            { name: "execa", message: "run programs through src/util/exec.ts" },
          ],
        },
      ],
    },
  },
  {
    // the one place allowed to spawn processes
    files: ["src/util/exec.ts", "test/**/*.ts", "lab/**/*.ts", "bench/**/*.ts", "scripts/**/*.ts", "scripts/**/*.mjs"],
    rules: { "no-restricted-imports": "off" },
  },
  {
    // plain JavaScript is in no tsconfig, so it has no types to check against:
    // the type-aware rules are off, the others (and the parts rule) stay on
    files: ["**/*.mjs", "**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      sourceType: "module",
      // Node's globals these scripts use (the `globals` package is not a dependency)
      globals: { process: "readonly", console: "readonly", URL: "readonly" },
    },
  },
);
