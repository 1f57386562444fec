// A log call never throws and never shows a secret in force, whatever the
// metadata holds; short registered values do not shred ordinary text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { captureLog } from "../../../lab/harness/log-capture.js";
import { addCallSecrets, newCallSecrets, processSecrets, runWithCallSecrets } from "../../../src/util/secrets.js";

type Line = Record<string, unknown>;

test("no log call throws: short and quoted secrets, circular metadata, BigInt, Errors, throwing getters and toJSON", () => {
  const captured = captureLog("debug");
  const quoted = 'pa"ss\\word-42';
  const circular: Record<string, unknown> = { name: "loop" };
  circular.self = circular;
  const err = Object.assign(new Error(`login failed: ${quoted}`), { code: 24 });
  const getter = Object.defineProperty({}, "boom", {
    enumerable: true,
    get() {
      throw new Error("no");
    },
  });
  const badJson = { toJSON: () => JSON.parse("{") as unknown };
  processSecrets.add("true", "1234");
  try {
    runWithCallSecrets(newCallSecrets(), () => {
      addCallSecrets("true", "1234", quoted);
      assert.doesNotThrow(() => {
        captured.log.info("plain", { ok: true, count: 1234, text: "it is true: 1234 blocks" });
        captured.log.info(`message with ${quoted}`, { quoted, inJson: JSON.stringify({ password: quoted }) });
        captured.log.warn("circular", { circular, list: [circular] });
        captured.log.error("bigint", { size: 123456789012345678901234567890n });
        captured.log.error("error", { err });
        captured.log.debug("getter", { getter, badJson });
        captured.log.child({ requestId: "r1", size: 1n, circular }).info("child");
      });
    });
  } finally {
    processSecrets.delete("true");
    processSecrets.delete("1234");
  }
  const lines = captured.lines.map((l) => JSON.parse(l) as Line);
  const at = (message: string): Line => {
    const l = lines.find((x) => x.message === message);
    assert.ok(l, `"${message}" was logged`);
    return l;
  };
  assert.deepEqual([at("plain").ok, at("plain").count, at("plain").text], [true, 1234, "it is true: 1234 blocks"], "short values left alone");
  assert.equal(at("message with ***").quoted, "***");
  assert.equal(at("message with ***").inJson, '{"password":"***"}', "the JSON-escaped form scrubbed too");
  assert.deepEqual(at("circular").circular, { name: "loop", self: "[circular]" });
  assert.equal(at("bigint").size, "123456789012345678901234567890");
  assert.deepEqual(at("error").err, { name: "Error", message: "login failed: ***", code: 24 });
  assert.deepEqual(at("getter").getter, { boom: "[unreadable]" });
  assert.equal(at("getter").badJson, "[unreadable]");
  assert.equal(at("child").size, "1");
  assert.ok(!captured.text().includes("word-42"), "the quoted secret in a line");
});

test("a call's secrets are scrubbed from its lines, whichever logger writes them, and from no line after it", async () => {
  const captured = captureLog("debug");
  const other = captureLog("debug");
  const password = "call-password-0f9e8d";
  const scope = newCallSecrets();
  await runWithCallSecrets(scope, async () => {
    addCallSecrets(password);
    await Promise.resolve();
    captured.log.info(`in the call ${password}`);
    other.log.child({ part: "engine" }).info("deeper", { detail: `-v ${password}` });
  });
  scope.release();
  captured.log.info(`after the call ${password}`);
  assert.deepEqual(
    captured.lines.map((l) => (JSON.parse(l) as Line).message),
    ["in the call ***", `after the call ${password}`],
  );
  assert.equal((JSON.parse(other.lines[0] ?? "{}") as Line).detail, "-v ***");
});
