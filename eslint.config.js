// typescript-eslint with type information: floating promises and unsafe `any`
// flows are errors, since a lost promise in a storage driver is a lost error.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { partsPlugin } from "./lint/parts.mjs";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "src/generated/**", "bin/**", "**/*.mjs", "eslint.config.js", "deploy/**"] },
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
    files: ["src/util/exec.ts", "test/**/*.ts", "lab/**/*.ts", "bench/**/*.ts", "scripts/**/*.ts"],
    rules: { "no-restricted-imports": "off" },
  },
);
