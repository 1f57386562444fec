// The three programs of package.json `bin`: usage on --help (exit 0), a clear
// message and exit 2 on bad flags. (The CLI keeps the original's codes: 255.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runProgram, ROOT } from "../helpers/spawn-program.js";

test("package.json names the three programs", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { bin: Record<string, string> };
  assert.deepEqual(Object.keys(pkg.bin).sort(), ["gluster-block", "gluster-block-csi", "gluster-blockd"]);
});

for (const program of ["gluster-block-csi", "gluster-blockd"] as const) {
  test(`${program} --help prints usage and exits 0`, async () => {
    const r = await runProgram(program, ["--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^usage: ${program} `));
    assert.match(r.stdout, /--log-level/);
  });
  test(`${program} exits 2 with a clear message on a bad flag`, async () => {
    const r = await runProgram(program, ["--no-such-flag"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: Unknown option '--no-such-flag'/);
  });
}

test("gluster-block-csi refuses an unknown mode and a bad driver name", async () => {
  const mode = await runProgram("gluster-block-csi", ["sideways"]);
  assert.equal(mode.code, 2);
  assert.match(mode.stderr, /unknown mode "sideways": expected controller, node or import/);
  const name = await runProgram("gluster-block-csi", ["node", "--driver-name", "Not_A_DNS_Name"]);
  assert.equal(name.code, 2);
  assert.match(name.stderr, /--driver-name: driver name must be a DNS subdomain/);
});

test("gluster-blockd requires an IP address for --host", async () => {
  const none = await runProgram("gluster-blockd", []);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--host is required/);
  const bad = await runProgram("gluster-blockd", ["--host", "storage-1"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--host must be an IP address/);
});

test("gluster-block --help prints the original's usage; bad arguments fail with 255, as JSON when asked", async () => {
  const help = await runProgram("gluster-block", ["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^gluster-block \(0\.5\.1\)\nusage:/);
  const bad = await runProgram("gluster-block", ["create", "block-test/x", "ha", "3", "10.0.0.1", "1GiB", "--json-plain"]);
  assert.equal(bad.code, 255);
  const err = JSON.parse(bad.stderr) as { RESULT: string; errCode: number; errMsg: string };
  assert.equal(err.RESULT, "FAIL");
  assert.equal(err.errCode, 255);
  assert.ok(err.errMsg.length > 0);
});

test("gluster-block reports a daemon that is not running clearly", async () => {
  const r = await runProgram("gluster-block", ["list", "block-test"], { ...process.env, GB_CLI_SOCKET: "/nonexistent/gluster-blockd.socket" });
  assert.equal(r.code, 255);
  assert.match(r.stderr, /failed to connect to gluster-blockd at \/nonexistent\/gluster-blockd.socket: is it running\?\nRESULT:FAIL/);
});
