// Where `gluster-block-csi import` takes its blockd and Kubernetes flags
// from: its own command line when it names how to reach blockd, else the
// `gluster-block-csi controller` process beside it in the container (PID 1
// is tini there), read from a /proc laid out in a temp directory.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { controllerFlagsIn, findControllerProcess, importArgv, namesBlockdConnection } from "../../../../src/controller/import/import-flags.js";
import { parseFlags } from "../../../../src/util/flags.js";
import { CONTROLLER_FLAGS, controllerConfig } from "../../../../src/controller/config.js";
import { IMPORT_FLAGS } from "../../../../src/controller/import/import-flags.js";

/** the chart's controller container: tini as PID 1, the controller its child */
const CHART_CONTROLLER = [
  "node",
  "/app/bin/gluster-block-csi.js",
  "controller",
  "--endpoint=unix:///csi/csi.sock",
  "--driver-name=block.csi.gluster.org",
  "--namespace=gluster-block-csi",
  "--log-level=info",
  "--blockd-key-file=/etc/gluster-blockd-key/key",
  "--blockd-tls-cert=/etc/gluster-block-csi-tls/tls.crt",
  "--blockd-tls-key=/etc/gluster-block-csi-tls/tls.key",
  "--blockd-tls-ca=/etc/gluster-block-csi-tls/ca.crt",
  "--metrics-address=:9822",
];

async function fakeProc(procs: Record<string, string[]>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "gb-proc-"));
  for (const [pid, args] of Object.entries(procs)) {
    await mkdir(join(root, pid));
    await writeFile(join(root, pid, "cmdline"), args.map((a) => `${a}\0`).join(""));
  }
  await mkdir(join(root, "self"));
  return root;
}

test("the controller's flags are those after `gluster-block-csi controller`, however the program is named", () => {
  assert.deepEqual(controllerFlagsIn(["/usr/bin/tini", "-s", "--", "gluster-block-csi", "controller", "--a=1"]), ["--a=1"]);
  assert.deepEqual(controllerFlagsIn(["node", "/app/bin/gluster-block-csi.js", "controller"]), []);
  assert.equal(controllerFlagsIn(["node", "/app/bin/gluster-block-csi.js", "node", "--a=1"]), undefined);
  assert.equal(controllerFlagsIn(["/usr/bin/tini", "-s", "--", "gluster-block-csi", "controller"].slice(0, 4)), undefined);
});

test("PID 1 is tini: the controller is found among the others, and the import's own process is skipped", async () => {
  const proc = await fakeProc({
    "1": ["/usr/bin/tini", "-s", "--", "gluster-block-csi", "controller", "--x"].slice(0, 4),
    "7": CHART_CONTROLLER,
    "42": ["node", "/app/bin/gluster-block-csi.js", "controller", "--not-me"],
  });
  assert.deepEqual(await findControllerProcess(proc, 42), { pid: 7, flags: CHART_CONTROLLER.slice(3) });
  assert.equal(await findControllerProcess(await fakeProc({ "1": ["sh"] }), 2), undefined);
});

test("no blockd flag given: the controller's command line, then the import's own, which win; the merged line configures the controller's way", async () => {
  const proc = await fakeProc({ "1": ["/usr/bin/tini", "-s", "--"], "7": CHART_CONTROLLER });
  const own = ["import", "--pv", "pvc-1", "--hosting-volume", "vol1", "--namespace=other", "--dry-run"];
  const r = await importArgv(own, proc, 99);
  assert.deepEqual(r.argv, [...CHART_CONTROLLER.slice(3), ...own]);
  assert.match(
    r.flagsFrom,
    /the controller process's \(pid 7, read from \/proc\/7\/cmdline: --endpoint=unix:\/\/\/csi\/csi.sock .*\), then this command line's/,
  );
  const f = parseFlags(r.argv, {
    ...CONTROLLER_FLAGS,
    ...IMPORT_FLAGS,
    endpoint: { type: "string", help: "" },
    "driver-name": { type: "string", help: "" },
    "log-level": { type: "string", help: "" },
    "metrics-address": { type: "string", help: "" },
  });
  const cfg = controllerConfig(f, "block.csi.gluster.org", {});
  assert.equal(cfg.namespace, "other", "the import's own flag wins");
  assert.equal(cfg.keyFile, "/etc/gluster-blockd-key/key");
  assert.equal(cfg.tls?.ca, "/etc/gluster-block-csi-tls/ca.crt");
});

test("a blockd flag given: the import's own command line alone", async () => {
  const proc = await fakeProc({ "7": CHART_CONTROLLER });
  const own = ["import", "--pv=p", "--blockd-endpoints=10.0.0.1:24010", "--blockd-insecure-no-auth"];
  assert.ok(namesBlockdConnection(own));
  assert.deepEqual(await importArgv(own, proc, 99), { argv: own, flagsFrom: "this command line" });
  assert.equal(namesBlockdConnection(["import", "--blockd-port=1"]), false, "the port alone says nothing of how to authenticate");
});

test("no controller process and no blockd flag: the import's own line, saying why", async () => {
  const r = await importArgv(["import"], await fakeProc({ "1": ["sh"] }), 99);
  assert.deepEqual(r.argv, ["import"]);
  assert.match(r.flagsFrom, /no `gluster-block-csi controller` process found/);
});
