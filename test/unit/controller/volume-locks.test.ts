import { test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { StatusError } from "../../../src/rpc/errors.js";
import { VolumeLocks } from "../../../src/controller/volume-locks.js";

const isAborted = (e: unknown): boolean => e instanceof StatusError && e.code === status.ABORTED;

test("a held key makes a second lock ABORTED at once, and release frees it", () => {
  const l = new VolumeLocks();
  const release = l.lock("v1/a/b");
  assert.throws(() => l.lock("v1/a/b"), isAborted);
  assert.doesNotThrow(() => l.lock("v1/a/c")(), "other volumes are independent");
  release();
  release(); // idempotent
  assert.doesNotThrow(() => l.lock("v1/a/b")());
});

test("several keys are taken all or none", () => {
  const l = new VolumeLocks();
  const r = l.lock("name:x");
  assert.throws(() => l.lock("v1/a/x", "name:x"), isAborted);
  assert.equal(l.isHeld("v1/a/x"), false, "nothing is left held by a refused lock");
  r();
});

test("with() releases after a failure", async () => {
  const l = new VolumeLocks();
  await assert.rejects(
    l.with(["k"], () => Promise.reject(new Error("boom"))),
    /boom/,
  );
  assert.equal(l.isHeld("k"), false);
});
