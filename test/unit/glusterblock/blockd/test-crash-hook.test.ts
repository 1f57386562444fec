// The test-only crash hook: off unless GLUSTER_BLOCKD_TEST_HOOKS=1, loud when
// on, crashes after the named step's n-th occurrence (fixed spec) or once per
// arming (spec file, removed before the kill), and logs every step.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import {
  parseCrashSpec,
  testCrashHook,
  CrashSpecError,
  TEST_HOOKS_ENV,
  CRASH_AFTER_ENV,
  CRASH_FILE_ENV,
  type CrashHookDeps,
} from "../../../../src/glusterblock/blockd/test-crash-hook.js";
import { UsageError } from "../../../../src/util/flags.js";
import type { Logger } from "../../../../src/util/log.js";

interface Line {
  level: string;
  msg: string;
  meta?: Record<string, unknown>;
}

function recorder(): { log: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at =
    (level: string) =>
    (msg: string, meta?: Record<string, unknown>): void =>
      void lines.push({ level, msg, ...(meta ? { meta } : {}) });
  const log: Logger = { error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug"), child: () => log };
  return { log, lines };
}

function setup(env: NodeJS.ProcessEnv, files: Map<string, string> = new Map()) {
  const { log, lines } = recorder();
  const kills: string[] = [];
  const deps: CrashHookDeps = {
    log,
    kill: (step) => void kills.push(step),
    readSpec: (p) => Promise.resolve(files.get(p)),
    removeSpec: (p) => Promise.resolve(void files.delete(p)),
  };
  return { hook: testCrashHook(env, deps), lines, kills, files };
}

describe("parseCrashSpec", () => {
  test("a step, optionally #n", () => {
    assert.deepEqual(parseCrashSpec("journal:create-done"), { step: "journal:create-done", occurrence: 1 });
    assert.deepEqual(parseCrashSpec(" lio-apply:10.213.0.12#2\n"), { step: "lio-apply:10.213.0.12", occurrence: 2 });
  });
  test("anything else is refused", () => {
    for (const bad of ["", "#2", "a b", "step#0", "step#x", "step#1#2"]) assert.throws(() => parseCrashSpec(bad), CrashSpecError, bad);
  });
});

describe("testCrashHook", () => {
  test("off without GLUSTER_BLOCKD_TEST_HOOKS=1, and says the crash variable is ignored", () => {
    const a = setup({ [CRASH_AFTER_ENV]: "file:created" });
    assert.equal(a.hook, undefined);
    assert.match(a.lines[0]?.msg ?? "", /ignored: test hooks are off/);
    const b = setup({ [TEST_HOOKS_ENV]: "true", [CRASH_AFTER_ENV]: "file:created" });
    assert.equal(b.hook, undefined);
    const c = setup({});
    assert.equal(c.hook, undefined);
    assert.deepEqual(c.lines, []);
  });

  test("on: a loud warning at start, every step logged at debug, no crash when nothing is armed", async () => {
    const { hook, lines, kills } = setup({ [TEST_HOOKS_ENV]: "1" });
    assert.ok(hook);
    assert.equal(lines[0]?.level, "warn");
    assert.match(lines[0]?.msg ?? "", /TEST HOOKS ARE ON/);
    await hook.afterStep("journal:create-intent");
    await hook.afterStep("file:created");
    assert.deepEqual(
      lines.filter((l) => l.level === "debug").map((l) => l.meta?.step),
      ["journal:create-intent", "file:created"],
    );
    assert.deepEqual(kills, []);
  });

  test("a fixed spec kills after the n-th occurrence of its step, not before", async () => {
    const { hook, kills } = setup({ [TEST_HOOKS_ENV]: "1", [CRASH_AFTER_ENV]: "lio-apply:10.0.0.2#2" });
    assert.ok(hook);
    await hook.afterStep("lio-apply:10.0.0.1");
    await hook.afterStep("lio-apply:10.0.0.2");
    assert.deepEqual(kills, []);
    await hook.afterStep("journal:access-result");
    await hook.afterStep("lio-apply:10.0.0.2");
    assert.deepEqual(kills, ["lio-apply:10.0.0.2"]);
  });

  test("a malformed fixed spec is a usage error at start", () => {
    assert.throws(() => setup({ [TEST_HOOKS_ENV]: "1", [CRASH_AFTER_ENV]: "two words" }), UsageError);
  });

  test("a spec file arms one crash: read at each step, removed before the kill", async () => {
    const files = new Map<string, string>();
    const { hook, kills } = setup({ [TEST_HOOKS_ENV]: "1", [CRASH_FILE_ENV]: "/run/crash" }, files);
    assert.ok(hook);
    await hook.afterStep("file:created");
    assert.deepEqual(kills, []);
    files.set("/run/crash", "journal:size\n");
    await hook.afterStep("file:resized");
    assert.deepEqual(kills, []);
    await hook.afterStep("journal:size");
    assert.deepEqual(kills, ["journal:size"]);
    assert.equal(files.has("/run/crash"), false, "disarmed: the restarted daemon runs on");
    await hook.afterStep("journal:size");
    assert.deepEqual(kills, ["journal:size"]);
  });

  test("a spec file's #n counts from its arming; a bad file is logged and ignored", async () => {
    const files = new Map<string, string>();
    const { hook, kills, lines } = setup({ [TEST_HOOKS_ENV]: "1", [CRASH_FILE_ENV]: "/run/crash" }, files);
    assert.ok(hook);
    await hook.afterStep("lio-apply:h1");
    files.set("/run/crash", "lio-apply:h1#2");
    await hook.afterStep("lio-apply:h1");
    assert.deepEqual(kills, []);
    await hook.afterStep("lio-apply:h1");
    assert.deepEqual(kills, ["lio-apply:h1"]);
    files.set("/run/crash", "not a spec");
    await hook.afterStep("lio-apply:h1");
    assert.deepEqual(kills, ["lio-apply:h1"]);
    assert.ok(lines.some((l) => l.level === "error" && /no valid spec/.test(l.msg)));
  });
});
