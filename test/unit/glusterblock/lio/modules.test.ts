import { test, describe, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { ensureLioModules, resetLioModulesForTest } from "../../../../src/glusterblock/lio/modules.js";
import { LioUnavailableError } from "../../../../src/glusterblock/lio/errors.js";
import type { Exec } from "../../../../src/util/exec.js";
import { ExecError } from "../../../../src/util/exec.js";
import { nullLogger } from "../../../../src/util/log.js";

function fakeExec(failOn?: string): { exec: Exec; calls: string[] } {
  const calls: string[] = [];
  const exec: Exec = (file, args) => {
    const cmd = [file, ...args].join(" ");
    calls.push(cmd);
    if (failOn !== undefined && cmd.includes(failOn)) {
      return Promise.reject(new ExecError(file, args, 1, undefined, false, "modprobe: FATAL: Module not found", "", 1, "exit code 1"));
    }
    return Promise.resolve({ file, redactedArgs: args, stdout: "", stderr: "", exitCode: 0, durationMs: 1 });
  };
  return { exec, calls };
}

const MOUNTED = "sysfs /sys sysfs rw 0 0\nconfigfs /sys/kernel/config configfs rw,relatime 0 0\n";
const NOT_MOUNTED = "sysfs /sys sysfs rw 0 0\n";

describe("ensureLioModules", () => {
  beforeEach(() => resetLioModulesForTest());

  test("loads configfs, tcmu and the iSCSI target once per process", async () => {
    const { exec, calls } = fakeExec();
    const deps = { exec, logger: nullLogger, readMounts: () => Promise.resolve(MOUNTED) };
    await ensureLioModules(deps);
    await ensureLioModules(deps);
    assert.deepEqual(calls, ["modprobe configfs", "modprobe target_core_user", "modprobe iscsi_target_mod"]);
  });

  test("mounts configfs when it is not mounted", async () => {
    const { exec, calls } = fakeExec();
    await ensureLioModules({ exec, logger: nullLogger, readMounts: () => Promise.resolve(NOT_MOUNTED) });
    assert.equal(calls.at(-1), "mount -t configfs configfs /sys/kernel/config");
  });

  test("a missing module is LioUnavailableError, and the next call tries again", async () => {
    const bad = fakeExec("target_core_user");
    await assert.rejects(ensureLioModules({ exec: bad.exec, logger: nullLogger, readMounts: () => Promise.resolve(MOUNTED) }), LioUnavailableError);
    const good = fakeExec();
    await ensureLioModules({ exec: good.exec, logger: nullLogger, readMounts: () => Promise.resolve(MOUNTED) });
    assert.equal(good.calls.length, 3);
  });
});
