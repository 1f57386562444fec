// What the gluster-block CLI loads to start (issue 27: its start was most of
// every command in the lab's emulated VMs). Its bundle, made by
// scripts/bundle.mjs as the image's is, carries no grpc-js (beyond its status
// codes), proto-loader, protobufjs or CSI descriptor; help, version and a
// usage error do not load node's HTTP/2; a call does.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../../helpers/spawn-program.js";

let dir: string;
let bundle: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-start-"));
  bundle = join(dir, "gluster-block.js");
  const r = spawnSync(process.execPath, ["scripts/bundle.mjs", "src/cmd/gluster-block.ts", bundle], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("the CLI's bundle carries no grpc-js but its status codes, no proto-loader, protobufjs or CSI descriptor", async () => {
  const map = JSON.parse(await readFile(`${bundle}.map`, "utf8")) as { sources: string[] };
  const fromPackages = map.sources.filter((s) => s.includes("node_modules/"));
  assert.deepEqual(
    fromPackages.filter((s) => /node_modules\/(@grpc\/|protobufjs|@protobufjs|long\/)/.test(s)),
    // (its source map leads esbuild's from build/src/constants.js to src/constants.ts)
    fromPackages.filter((s) => /node_modules\/@grpc\/grpc-js\/(build\/)?src\/constants\.[jt]s$/.test(s)),
  );
  assert.ok(!map.sources.some((s) => s.includes("csi.descriptor.json")));
  assert.ok(
    map.sources.some((s) => s.endsWith("blockd.descriptor.json")),
    "blockd's descriptor is the CLI's protocol",
  );
});

/** One CLI run from the bundle: what it printed, and the built-in modules node loaded for it. */
function run(args: string[]): { out: string; loaded: string[] } {
  const script = [
    `process.on("exit", () => process.stderr.write("\\nLOADED " + JSON.stringify(process.moduleLoadList)));`,
    `process.argv = [process.execPath, ${JSON.stringify(bundle)}, ...${JSON.stringify(args)}];`,
    `await import(${JSON.stringify(bundle)});`,
  ].join("\n");
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    env: { ...process.env, GB_CLI_SOCKET: join(dir, "no-blockd.sock") },
  });
  const [stderr = "", line = ""] = r.stderr.split("\nLOADED ");
  assert.ok(line, r.stderr);
  const loaded = (JSON.parse(line) as string[]).filter((m) => m.startsWith("NativeModule ")).map((m) => m.slice("NativeModule ".length));
  return { out: r.stdout + stderr, loaded };
}

test("help, version and a usage error do not load HTTP/2; a call to blockd does", () => {
  const cases: [string[], RegExp][] = [
    [["--help"], /^gluster-block \(0\.5\.1\)\nusage:/],
    [["version"], /^gluster-block \(0\.5\.1\)\nRepository rev:/],
    [["create"], /^create: missing <volname\/blockname>\n/],
  ];
  for (const [args, out] of cases) {
    const r = run(args);
    assert.match(r.out, out);
    assert.ok(!r.loaded.includes("http2"), `${args.join(" ")}: ${r.loaded.join(", ")}`);
  }
  const list = run(["list", "vol"]);
  assert.match(list.out, /failed to connect to gluster-blockd/);
  assert.ok(list.loaded.includes("http2"), list.loaded.join(", "));
});
