// The secret scopes: bounded, a call's released with it, nothing kept outside one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { addCallSecrets, newCallSecrets, runWithCallSecrets, scrubSecrets, SecretSet, secretsInForce } from "../../../src/util/secrets.js";
import { isIdentityKey, isSecretKey, redactValue, scrubText } from "../../../src/util/redact.js";

test("a SecretSet keeps at most its capacity, the newest, and ignores values too short to scrub", () => {
  const s = new SecretSet(3);
  s.add("short", undefined, "", "secret-1", "secret-2", "secret-3", "secret-4");
  assert.deepEqual([...s], ["secret-2", "secret-3", "secret-4"]);
});

test("a released call scope is empty and accepts nothing more (work the call left behind may still hold it)", () => {
  const scope = newCallSecrets();
  runWithCallSecrets(scope, () => addCallSecrets("before-release"));
  scope.release();
  runWithCallSecrets(scope, () => addCallSecrets("after-release"));
  assert.equal(scope.size, 0);
});

test("outside a call nothing is registered for one", () => {
  addCallSecrets("no-call-to-hold-me");
  assert.ok(!secretsInForce().includes("no-call-to-hold-me"));
  assert.equal(scrubSecrets("no-call-to-hold-me"), "no-call-to-hold-me");
});

test("two calls at once see their own secrets only", async () => {
  const seen: string[] = [];
  await Promise.all(
    ["first-call-secret", "second-call-secret"].map((s) =>
      runWithCallSecrets(newCallSecrets(), async () => {
        addCallSecrets(s);
        await new Promise((r) => setTimeout(r, 5));
        seen.push(scrubSecrets("first-call-secret second-call-secret"));
      }),
    ),
  );
  assert.deepEqual(seen.sort(), ["*** second-call-secret", "first-call-secret ***"]);
});

test("scrubText: values of 8 characters and more, raw and JSON-escaped", () => {
  assert.equal(scrubText("true 1234 abcdefg", ["true", "1234", "abcdefg"]), "true 1234 abcdefg");
  assert.equal(scrubText('x a"b\\c-secret y', ['a"b\\c-secret']), "x *** y");
  assert.equal(scrubText(JSON.stringify({ p: 'a"b\\c-secret' }), ['a"b\\c-secret']), '{"p":"***"}');
});

test("a username is an identity, not a secret; key redaction of structured data is unchanged", () => {
  for (const k of ["username", "node.session.auth.username", "username_in", "user", "csi.storage.k8s.io/node-stage-secret-name"])
    assert.ok(isIdentityKey(k), k);
  for (const k of ["password", "node.session.auth.password", "password_in", "secret"]) assert.ok(!isIdentityKey(k) && isSecretKey(k), k);
  assert.deepEqual(redactValue({ secrets: { username: "u", password: "p" }, volume_context: { gbid: "g" } }), {
    secrets: "***",
    volume_context: { gbid: "g" },
  });
});
