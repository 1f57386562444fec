import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { blockNameFor, MAX_PLAIN_BLOCK_NAME } from "../../../src/identity/block-name.js";
import { InvalidNameError, validateBlockName } from "../../../src/identity/names.js";

test("the provisioner's pvc-<uid> names are used as they are", () => {
  assert.equal(blockNameFor("pvc-2f1c9a52-6f2e-4b8e-9a55-0c1d2e3f4a5b"), "pvc-2f1c9a52-6f2e-4b8e-9a55-0c1d2e3f4a5b");
  assert.equal(blockNameFor("My_Vol-1"), "My_Vol-1");
});

test("other names are sanitised, cut and hashed, deterministically", () => {
  const a = blockNameFor("team.a/volume one");
  assert.match(a, /^team-a-volume-one-[0-9a-f]{12}$/);
  assert.equal(blockNameFor("team.a/volume one"), a, "the same name maps to the same block");
  assert.notEqual(blockNameFor("team.a/volume.one"), a, "names that sanitise alike stay distinct");
  const long = "x".repeat(300);
  assert.equal(blockNameFor(long).length, MAX_PLAIN_BLOCK_NAME);
  assert.match(blockNameFor("..."), /^vol-[0-9a-f]{12}$/);
});

test("an empty name is INVALID_ARGUMENT", () => {
  assert.throws(
    () => blockNameFor(""),
    (e: unknown) => e instanceof InvalidNameError && /name is required/.test(e.message),
  );
});

test("every name maps to a valid block name of at most 64 characters", () => {
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 400 }), (name) => {
      const b = blockNameFor(name);
      validateBlockName(b);
      assert.ok(b.length <= MAX_PLAIN_BLOCK_NAME);
      assert.equal(blockNameFor(name), b);
    }),
  );
});
