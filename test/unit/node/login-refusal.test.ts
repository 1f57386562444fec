// A login refused with iscsiadm exit 24: iscsiadm's recorded words
// (test/fixtures/iscsiadm/login-exit-24.*, the same for a CHAP failure and an
// initiator no ACL admits) through the real exec wrapper, and the target asked
// which it was over real TCP (test/doubles/fake-iscsi-target.ts).
import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeIscsiTarget } from "../../doubles/fake-iscsi-target.js";
import { exec, type Exec } from "../../../src/util/exec.js";
import { addCallSecrets, newCallSecrets, runWithCallSecrets } from "../../../src/util/secrets.js";
import { Iscsiadm } from "../../../src/node/iscsi.js";
import { AuthFailedError, mapNodeError } from "../../../src/node/errors.js";
import { probeLogin } from "../../../src/node/login-probe.js";
import { nullLogger } from "../../../src/util/log.js";
import { captureLog } from "../../../lab/harness/log-capture.js";

const FIXTURES = new URL("../../fixtures/iscsiadm/", import.meta.url).pathname;
const TARGET = "iqn.2016-12.org.gluster-block:7eb27b42-5e5f-5986-b232-b9e08684e58f";
const ME = "iqn.1993-08.org.debian:01:worker1";
const PASSWORD = "chap-Pa55word-never-shown";

let dir: string;
let target: FakeIscsiTarget;
let portal: string;
let stderrLines: string[];

/** iscsiadm as recorded: its stdout and stderr, exit 24; `extraStderr` appended (a secret it might print) */
const recordedIscsiadm =
  (extraStderr = ""): Exec =>
  (_file, _args, opts) =>
    exec(
      "sh",
      [
        "-c",
        'cat "$1"; cat "$2" >&2; printf "%s" "$3" >&2; exit 24',
        "sh",
        join(FIXTURES, "login-exit-24.stdout"),
        join(FIXTURES, "login-exit-24.stderr"),
        extraStderr,
      ],
      opts,
    );

const iscsiadm = (run: Exec, log = nullLogger): Iscsiadm =>
  new Iscsiadm({ exec: run, iscsiDir: dir, initiatorNameFile: join(dir, "initiatorname.iscsi"), dbLockFile: join(dir, "lock"), log });

async function refusal(p: Promise<unknown>): Promise<AuthFailedError> {
  const err = await p.catch((e: unknown) => e);
  assert.ok(err instanceof AuthFailedError, String(err));
  assert.equal(mapNodeError(err)?.code, status.PERMISSION_DENIED);
  return err;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "gbcsi-refusal-"));
  await writeFile(join(dir, "initiatorname.iscsi"), `## DO NOT EDIT\nInitiatorName=${ME}\n`);
  target = new FakeIscsiTarget();
  portal = await target.start();
  stderrLines = (await readFile(join(FIXTURES, "login-exit-24.stderr"), "utf8")).split("\n").filter((l) => l !== "");
});
afterEach(async () => {
  await target.stop();
  await rm(dir, { recursive: true, force: true });
});

test("the recorded stderr is the same three lines for both refusals, exit 24", () => {
  assert.deepEqual(
    stderrLines.map((l) => l.replace(/target: \S+, portal: \S+\]/, "target: T, portal: P]")),
    [
      "iscsiadm: Could not login to [iface: default, target: T, portal: P].",
      "iscsiadm: initiator reported error (24 - iSCSI login failed due to authorization failure)",
      "iscsiadm: Could not log into all portals",
    ],
  );
});

test("not in the target's ACL: the error says so, with iscsiadm's stderr word for word", async () => {
  target.targets.set(TARGET, { acl: ["iqn.1993-08.org.debian:01:worker2"] });
  const err = await refusal(iscsiadm(recordedIscsiadm()).login(TARGET, portal, 5_000));
  assert.equal(err.refusal, "acl");
  assert.match(
    err.message,
    /^iSCSI login to \S+ at 127\.0\.0\.1:\d+ was refused \(iscsiadm exit 24\): this node's initiator iqn\.1993-08\.org\.debian:01:worker1 is not in the target's ACL/,
  );
  assert.ok(err.message.endsWith(`; iscsiadm said: ${stderrLines.join(" ")}`), err.message);
  assert.doesNotMatch(err.message, /Logging in to/, "stdout's progress line is left out");
});

test("admitted by the ACL: CHAP failed, with iscsiadm's stderr word for word", async () => {
  target.targets.set(TARGET, { acl: [ME] });
  const err = await refusal(iscsiadm(recordedIscsiadm()).login(TARGET, portal, 5_000));
  assert.equal(err.refusal, "chap");
  assert.match(
    err.message,
    /: CHAP authentication failed: the target's ACL admits this node's initiator iqn\.1993-08\.org\.debian:01:worker1 \(a probe login offering no credentials was answered 0x0000\)/,
  );
  assert.ok(err.message.endsWith(`; iscsiadm said: ${stderrLines.join(" ")}`), err.message);
});

test("the CHAP password of the call never reaches the error or the log line, even if iscsiadm printed it", async () => {
  target.targets.set(TARGET, { acl: [ME] });
  const captured = captureLog("debug");
  const scope = newCallSecrets();
  const err = await runWithCallSecrets(scope, () => {
    addCallSecrets(PASSWORD);
    return refusal(iscsiadm(recordedIscsiadm(`iscsiadm: node.session.auth.password = ${PASSWORD}\n`), captured.log).login(TARGET, portal, 5_000));
  });
  assert.match(err.message, /node\.session\.auth\.password = \*\*\*/);
  for (const text of [err.message, String(err.cause), JSON.stringify(err), captured.text()]) assert.ok(!text.includes(PASSWORD), `password in: ${text}`);
  assert.match(captured.text(), /iSCSI login refused/);
  assert.match(captured.text(), /"refusal":"chap"/);
  assert.ok(!JSON.stringify(target.received).includes(PASSWORD), "nor in what the probe sent");
});

test("no answer to the probe: both causes named, with why it could not tell", async () => {
  target.silent = true;
  target.targets.set(TARGET, {});
  const run = recordedIscsiadm();
  const adm = new Iscsiadm({
    exec: run,
    iscsiDir: dir,
    initiatorNameFile: join(dir, "initiatorname.iscsi"),
    dbLockFile: join(dir, "lock"),
    log: nullLogger,
    loginProbe: (r) => probeLogin({ ...r, timeoutMs: 100 }),
  });
  const err = await refusal(adm.login(TARGET, portal, 5_000));
  assert.equal(err.refusal, "unknown");
  assert.match(
    err.message,
    /CHAP authentication failed, or no ACL of the target admits this initiator \(is the volume published to this node\?\); a probe login could not tell which: no login response/,
  );
  assert.ok(err.message.endsWith(`; iscsiadm said: ${stderrLines.join(" ")}`));
});

test("another exit code is iscsiadm's own error, no probe", async () => {
  const run: Exec = (_f, _a, opts) => exec("sh", ["-c", "echo 'iscsiadm: connection login retries (reopen_max) 5 exceeded' >&2; exit 8"], opts);
  const err = await iscsiadm(run)
    .login(TARGET, portal, 5_000)
    .catch((e: unknown) => e);
  assert.ok(!(err instanceof AuthFailedError));
  assert.match(String(err), /exit code 8/);
  assert.equal(target.received.length, 0);
});
