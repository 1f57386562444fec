import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { exec, ExecCancelledError, ExecError, withSignal, type Exec } from "../../../src/util/exec.js";
import { captureLog } from "../../../lab/harness/log-capture.js";

const SECRET = "s3cr3t-chap-Pa55word";

test("a failing command with a secret in its arguments leaks it into no log line and no error message", async () => {
  const captured = captureLog("debug");
  const { log } = captured;
  const text = (): string => captured.text();
  const err = await exec("sh", ["-c", 'echo "login failed for $1" >&2; echo "out $1"; exit 24', "sh", SECRET], {
    secrets: [SECRET],
    logger: log,
  }).then(
    () => assert.fail("should have failed"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ExecError);
  assert.equal(err.exitCode, 24);
  assert.equal(err.timedOut, false);
  assert.ok(err.redactedArgs.includes("***"), "the secret argument is replaced");
  for (const s of [err.message, err.stderrTail, err.stdout, String(err), JSON.stringify(err), err.stack ?? ""]) {
    assert.ok(!s.includes(SECRET), `secret found in: ${s}`);
  }
  assert.match(err.stderrTail, /login failed for \*\*\*/);
  assert.ok(text().length > 0, "the call was logged");
  assert.ok(!text().includes(SECRET), "secret found in the log");
});

test("argument arrays are passed verbatim, never through a shell", async () => {
  const tricky = "$(touch /tmp/never-created-by-exec-test); `id` | ; && echo injected";
  const r = await exec("printf", ["%s", tricky]);
  assert.equal(r.stdout, tricky);
});

test("a timeout sends TERM and reports timedOut", async () => {
  const err = await exec("sleep", ["10"], { timeoutMs: 200 }).catch((e: unknown) => e);
  assert.ok(err instanceof ExecError);
  assert.equal(err.timedOut, true);
  assert.match(err.message, /timed out after 200 ms/);
});

test("a program that ignores TERM is killed", async () => {
  const started = Date.now();
  const err = await exec("sh", ["-c", "trap '' TERM; sleep 30"], { timeoutMs: 200 }).catch((e: unknown) => e);
  assert.ok(err instanceof ExecError);
  assert.equal(err.timedOut, true);
  assert.ok(Date.now() - started < 20_000, "the child did not outlive its kill delay");
});

test("a missing program is a typed error", async () => {
  const err = await exec("no-such-program-here", []).catch((e: unknown) => e);
  assert.ok(err instanceof ExecError);
  assert.equal(err.notFound, true);
});

test("okExitCodes are success", async () => {
  const r = await exec("sh", ["-c", "exit 15"], { okExitCodes: [15] });
  assert.equal(r.exitCode, 15);
});

test("stdin input reaches the program", async () => {
  const r = await exec("cat", [], { input: "hello\n" });
  assert.equal(r.stdout, "hello\n");
});

test("fds: an open file of ours is the child's fd 3, the same open file description (with input, too)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "gbcsi-exec-fds-"));
  const fh = await open(join(dir, "f"), "w+");
  try {
    await fh.write("ours ");
    // the child writes through fd 3 at the shared offset, after our bytes
    const r = await exec("sh", ["-c", 'read -r line; printf "%s" "$line" >&3; echo done'], { fds: [fh.fd], input: "theirs\n" });
    assert.equal(r.stdout, "done\n");
    assert.equal(await readFile(join(dir, "f"), "utf8"), "ours theirs");
    // without input, stdin is closed as before
    assert.equal((await exec("sh", ["-c", "cat; printf x >&3"], { fds: [fh.fd] })).stdout, "");
    assert.equal(await readFile(join(dir, "f"), "utf8"), "ours theirsx");
  } finally {
    await fh.close();
    await rm(dir, { recursive: true, force: true });
  }
});

/** Whether a process with this id is alive (signal 0 probes without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs `sh -c script` that writes its own pid to stdout's file first, and returns the pid once it is there. */
async function pidOf(file: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const text = await readFile(file, "utf8").catch(() => "");
    if (/^\d+\n/.test(text)) return Number(text.trim());
    await delay(10);
  }
  throw new Error("the child never wrote its pid");
}

test("a cancelled call ends the running child with TERM and rejects with ExecCancelledError", async () => {
  const dir = await mkdtemp(join(tmpdir(), "gb-exec-"));
  const pidFile = join(dir, "pid");
  const ac = new AbortController();
  const started = Date.now();
  const p = exec("sh", ["-c", `echo $$ > ${pidFile}; exec sleep 30`], { signal: ac.signal, timeoutMs: 60_000 }).catch((e: unknown) => e);
  const pid = await pidOf(pidFile);
  assert.ok(alive(pid), "the child runs before the cancellation");
  ac.abort(new Error("the caller's deadline passed"));
  const err = await p;
  assert.ok(err instanceof ExecCancelledError, `got ${String(err)}`);
  assert.ok(err instanceof ExecError, "still an ExecError for callers that check exit codes");
  assert.equal(err.timedOut, false);
  assert.equal(err.notFound, false);
  assert.equal(err.signal, "SIGTERM");
  assert.match(err.message, /cancelled after \d+ ms \(the caller's deadline passed\)/);
  assert.ok(Date.now() - started < 10_000, "not the child's 30 s");
  assert.equal(alive(pid), false, "the child is gone");
  await rm(dir, { recursive: true, force: true });
});

test("a cancelled child that ignores TERM is killed after the grace", async () => {
  const ac = new AbortController();
  const started = Date.now();
  const p = exec("sh", ["-c", "trap '' TERM; sleep 30"], { signal: ac.signal }).catch((e: unknown) => e);
  await delay(200);
  ac.abort();
  const err = await p;
  assert.ok(err instanceof ExecCancelledError);
  assert.equal(err.signal, "SIGKILL");
  assert.ok(Date.now() - started < 20_000, "the child did not outlive its kill delay");
});

test("a call whose signal already fired starts nothing", async () => {
  const dir = await mkdtemp(join(tmpdir(), "gb-exec-"));
  const marker = join(dir, "ran");
  const err = await exec("touch", [marker], { signal: AbortSignal.abort() }).catch((e: unknown) => e);
  assert.ok(err instanceof ExecCancelledError);
  assert.match(err.message, /cancelled before it started/);
  assert.equal(
    await readFile(marker).then(
      () => true,
      () => false,
    ),
    false,
    "the program never ran",
  );
  await rm(dir, { recursive: true, force: true });
});

test("a signal that never fires changes nothing", async () => {
  const r = await exec("sh", ["-c", "echo ok"], { signal: new AbortController().signal });
  assert.equal(r.stdout, "ok\n");
});

test("withSignal gives every call of an exec the caller's signal, besides the call's own", async () => {
  const seen: (AbortSignal | undefined)[] = [];
  const fake: Exec = (file, args, opts) => {
    seen.push(opts?.signal);
    return Promise.resolve({ file, redactedArgs: args, stdout: "", stderr: "", exitCode: 0, durationMs: 0 });
  };
  const caller = new AbortController();
  const own = new AbortController();
  const bound = withSignal(fake, caller.signal);
  await bound("true", []);
  await bound("true", [], { signal: own.signal });
  assert.equal(seen[0], caller.signal);
  assert.equal(seen[1]?.aborted, false);
  caller.abort();
  assert.equal(seen[1]?.aborted, true, "the caller's cancellation reaches a call that had its own signal");
});
