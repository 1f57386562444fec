import { test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { StatusError } from "../../../src/rpc/errors.js";
import { decodeToken, encodeToken, pageOf } from "../../../src/controller/paging.js";

const ids = ["v1/a/b1", "v1/a/b2", "v1/a/b3", "v1/b/c1", "v1/b/c2"];

test("pages through every ID once, in order", () => {
  const seen: string[] = [];
  let token = "";
  let pages = 0;
  do {
    const p = pageOf(ids, token, 2);
    seen.push(...p.ids);
    token = p.nextToken;
    pages++;
  } while (token !== "");
  assert.deepEqual(seen, ids);
  assert.equal(pages, 3);
});

test("max_entries 0 returns everything and no token", () => assert.deepEqual(pageOf(ids, "", 0), { ids, nextToken: "" }));

test("an exact last page has no next token", () => {
  const p = pageOf(ids, encodeToken("v1/a/b3"), 2);
  assert.deepEqual(p, { ids: ["v1/b/c1", "v1/b/c2"], nextToken: "" });
});

test("a volume deleted between pages neither repeats nor shifts the listing", () => {
  const first = pageOf(ids, "", 2);
  const after = ids.filter((i) => i !== "v1/a/b1");
  assert.deepEqual(pageOf(after, first.nextToken, 2).ids, ["v1/a/b3", "v1/b/c1"]);
});

test("a token this plugin did not issue is ABORTED", () => {
  for (const bad of ["garbage", Buffer.from('{"v":2,"after":"x"}').toString("base64url"), Buffer.from('{"v":1}').toString("base64url")]) {
    assert.throws(
      () => pageOf(ids, bad, 2),
      (e: unknown) => e instanceof StatusError && e.code === status.ABORTED,
    );
  }
  assert.equal(decodeToken(encodeToken("v1/x/y")), "v1/x/y");
});

test("negative max_entries is INVALID_ARGUMENT", () => {
  assert.throws(
    () => pageOf(ids, "", -1),
    (e: unknown) => e instanceof StatusError && e.code === status.INVALID_ARGUMENT,
  );
});
