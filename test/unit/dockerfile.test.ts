// The Dockerfile as far as a machine without a Docker engine can check it:
// parsed into stages; base images pinned by tag; every COPY source exists in
// the repository (and is not excluded by .dockerignore); the runtime's
// entry points exist in dist/ after `npm run build` (tsconfig.build.json
// compiles src/cmd/*.ts there); the runtime ships the bundles and no
// node_modules, and the bundles run with nothing beside them but
// package.json; the commands the chart runs exist in the image.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ROOT } from "../helpers/spawn-program.js";
import { renderChart } from "../helpers/helm.js";

interface Instruction {
  op: string;
  args: string;
  line: number;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const joined: Instruction[] = [];
  let buf = "";
  let start = 0;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (buf === "" && (line === "" || line.startsWith("#"))) return;
    if (buf !== "" && line.startsWith("#")) return; // comment inside a continuation
    if (buf === "") start = i + 1;
    buf += (buf ? " " : "") + line.replace(/\\$/, "").trim();
    if (!line.endsWith("\\")) {
      const m = /^(\w+)\s+(.*)$/s.exec(buf);
      if (m) joined.push({ op: (m[1] ?? "").toUpperCase(), args: m[2] ?? "", line: start });
      buf = "";
    }
  });
  const stages: Stage[] = [];
  for (const ins of joined) {
    if (ins.op === "FROM") {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      assert.ok(m, `line ${ins.line}: bad FROM`);
      stages.push({ from: m[1] ?? "", ...(m[2] ? { name: m[2] } : {}), instructions: [] });
    } else if (stages.length > 0) stages.at(-1)?.instructions.push(ins);
    else assert.ok(ins.op === "ARG", `line ${ins.line}: ${ins.op} before FROM`);
  }
  return stages;
}

const stages = parseDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
const stage = (name: string): Stage => {
  const s = stages.find((x) => x.name === name);
  assert.ok(s, `no stage ${name}`);
  return s;
};
const runs = (s: Stage): string =>
  s.instructions
    .filter((i) => i.op === "RUN")
    .map((i) => i.args)
    .join("\n");

test("multi-stage: build on node:20-bookworm, runtime on debian:12-slim, all pinned by tag", () => {
  assert.deepEqual(
    stages.map((s) => s.name),
    ["build", "runtime"],
  );
  assert.equal(stage("build").from, "node:20-bookworm");
  assert.equal(stage("runtime").from, "debian:12-slim");
  for (const s of stages) assert.match(s.from, /^[\w./-]+:[\w.-]+$/, `${s.from} must name a tag, not latest`);
  for (const s of stages) assert.doesNotMatch(s.from, /:latest$/);
});

test("build runs npm ci + npm run build; the runtime ships the bundles and no node_modules", () => {
  assert.match(runs(stage("build")), /npm ci\b/);
  assert.match(runs(stage("build")), /npm run build/);
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  assert.ok(pkg.scripts.build, "package.json has a build script");
  // one way to ship the code: the bundles (each program with its dependencies inside), not node_modules beside them
  const runtime = stage("runtime").instructions;
  for (const ins of runtime) assert.doesNotMatch(ins.args, /node_modules/, `line ${ins.line}: ${ins.op} ${ins.args}`);
  assert.doesNotMatch(runs(stage("runtime")), /\bnpm\b/, "no npm install in the runtime");
  const fromBuild = runtime.filter((i) => i.op === "COPY" && i.args.startsWith("--from=")).map((i) => i.args);
  assert.deepEqual(fromBuild, ["--from=build /usr/local/bin/node /usr/local/bin/node", "--from=build /src/dist/bundle ./dist/bundle"]);
  // nothing left external: scripts/bundle.mjs bundles every dependency
  const bundler = readFileSync(join(ROOT, "scripts/bundle.mjs"), "utf8");
  assert.match(bundler, /bundle: true/);
  assert.doesNotMatch(bundler, /packages:/);
  assert.match(bundler, /external: \["supports-color"\]/, "only debug's optional supports-color, which only devDependencies install");
});

test("every COPY source from the build context exists and is not excluded by .dockerignore", () => {
  const ignore = readFileSync(join(ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  assert.equal(ignore[0], "*", ".dockerignore starts from nothing and lists what goes in");
  const included = new Set(ignore.filter((l) => l.startsWith("!")).map((l) => l.slice(1).replace(/\/$/, "")));
  let n = 0;
  for (const s of stages) {
    for (const ins of s.instructions.filter((i) => i.op === "COPY" && !i.args.startsWith("--from="))) {
      const parts = ins.args.split(/\s+/);
      for (const src of parts.slice(0, -1)) {
        n++;
        assert.ok(existsSync(join(ROOT, src)), `line ${ins.line}: COPY ${src}: not in the repository`);
        assert.ok(included.has(src.replace(/\/$/, "")), `line ${ins.line}: COPY ${src} is excluded by .dockerignore`);
      }
    }
  }
  assert.ok(n >= 6);
  // the stages copied from exist
  for (const s of stages)
    for (const ins of s.instructions.filter((i) => i.args.startsWith("--from="))) {
      const from = /^--from=(\S+)/.exec(ins.args)?.[1] ?? "";
      assert.ok(
        stages.some((x) => x.name === from),
        `line ${ins.line}: no stage ${from}`,
      );
    }
});

test("the runtime's entry points exist after npm run build", () => {
  const build = JSON.parse(readFileSync(join(ROOT, "tsconfig.build.json"), "utf8")) as { compilerOptions: { rootDir: string; outDir: string } };
  assert.equal(build.compilerOptions.rootDir, "src");
  assert.equal(build.compilerOptions.outDir, "dist");
  const runtime = runs(stage("runtime"));
  for (const program of ["gluster-block-csi", "gluster-blockd", "gluster-block"]) {
    // the symlink /usr/local/bin/<program> -> /app/bin/<program>.js, which imports ../dist/bundle/<program>.js
    assert.match(runtime, new RegExp(`ln -s /app/bin/${program}\\.js /usr/local/bin/${program}(\\s|$)`));
    const bin = readFileSync(join(ROOT, "bin", `${program}.js`), "utf8");
    assert.match(bin, new RegExp(`import "\\.\\./dist/bundle/${program}\\.js"`));
    assert.ok(existsSync(join(ROOT, "src/cmd", `${program}.ts`)), `src/cmd/${program}.ts compiles to dist/cmd/${program}.js, bundled into dist/bundle/`);
    if (existsSync(join(ROOT, "dist/bundle")))
      assert.ok(existsSync(join(ROOT, "dist/bundle", `${program}.js`)), `dist/bundle/${program}.js (run npm run build)`);
  }
  assert.match(readFileSync(join(ROOT, "package.json"), "utf8"), /"build": "tsc -p tsconfig.build.json && node scripts\/bundle.mjs"/);
  // package.json at the package root, where src/util/package-dir.ts looks from any depth; the proto
  // descriptors are JSON modules of src/generated/, inside the bundles: no csi-proto/ at run time
  const proto = readFileSync(join(ROOT, "src/rpc/proto.ts"), "utf8");
  for (const p of ["csi", "blockd"]) {
    assert.match(proto, new RegExp(`from "\\.\\./generated/${p}\\.descriptor\\.json" with \\{ type: "json" \\}`));
    assert.ok(readdirSync(join(ROOT, "src/generated")).includes(`${p}.descriptor.json`));
  }
  assert.doesNotMatch(proto, /loadSync|PACKAGE_DIR|csi-proto"/, "the programs read no .proto file");
  const copied = stage("runtime")
    .instructions.filter((i) => i.op === "COPY")
    .map((i) => i.args);
  assert.ok(copied.includes("package.json ./") && copied.includes("--from=build /src/dist/bundle ./dist/bundle"));
  assert.ok(!copied.some((c) => c.includes("csi-proto")), "csi-proto/ is not needed in the image");
});

const PROGRAMS = ["gluster-block-csi", "gluster-blockd", "gluster-block"] as const;

function run(cmd: string, args: readonly string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, [...args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.once("close", (code) => resolve({ code, out }));
  });
}

test("the bundles run with nothing beside them but package.json and bin/ (no node_modules, no csi-proto/), as in the image", async () => {
  const app = mkdtempSync(join(tmpdir(), "bundles-only-"));
  try {
    // the image's /app: dist/bundle/ (made here by scripts/bundle.mjs, as npm run build makes it), package.json, bin/
    const made = await Promise.all(
      PROGRAMS.map((p) =>
        run(process.execPath, [join(ROOT, "scripts/bundle.mjs"), join(ROOT, "src/cmd", `${p}.ts`), join(app, "dist/bundle", `${p}.js`)], { cwd: ROOT }),
      ),
    );
    for (const m of made) assert.equal(m.code, 0, m.out);
    cpSync(join(ROOT, "package.json"), join(app, "package.json"));
    cpSync(join(ROOT, "bin"), join(app, "bin"), { recursive: true });
    for (let d = app; ; d = dirname(d)) {
      assert.ok(!existsSync(join(d, "node_modules")), `${d}/node_modules would be found by the bundles`);
      if (dirname(d) === d) break;
    }
    // what a bundle still asks node for: its built-in modules, and packages its dependencies try and do without
    // (ws: bufferutil, utf-8-validate; node-fetch: encoding; debug: supports-color)
    const optional = new Set(["bufferutil", "utf-8-validate", "encoding", "supports-color"]);
    for (const p of PROGRAMS) {
      const code = readFileSync(join(app, "dist/bundle", `${p}.js`), "utf8");
      const specifiers = new Set([...code.matchAll(/(?:require\(|^import [^;]*?from |^import )"([^"]+)"/gm)].map((m) => m[1] ?? ""));
      assert.ok(specifiers.size > 5, `${p}: ${[...specifiers].join(", ")}`);
      for (const spec of specifiers) assert.ok(isBuiltin(spec) || optional.has(spec), `${p} loads ${spec} at run time`);
    }
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" }; // no NODE_OPTIONS, no NODE_PATH
    for (const p of PROGRAMS) {
      const r = await run(process.execPath, [join(app, "bin", `${p}.js`), "--help"], { cwd: app, env });
      assert.equal(r.code, 0, `${p} --help: ${r.out}`);
    }
    // an RPC through grpc-js and the blockd descriptor: the CLI asks a blockd that is not there
    const cli = await run(process.execPath, [join(app, "bin/gluster-block.js"), "list", "hv"], {
      cwd: app,
      env: { ...env, GB_CLI_SOCKET: join(app, "no-blockd.sock") },
    });
    assert.equal(cli.code, 255, cli.out);
    assert.match(cli.out, /failed to connect to gluster-blockd at .*no-blockd\.sock: is it running\?/);
    // the controller serves CSI (the csi descriptor) on its socket, and stops on SIGTERM
    const sock = join(app, "csi.sock");
    mkdirSync(join(app, "state"));
    const ctl = spawn(
      process.execPath,
      [
        join(app, "bin/gluster-block-csi.js"),
        "controller",
        "--endpoint",
        `unix://${sock}`,
        "--kube-api",
        "off",
        "--blockd-endpoints",
        "127.0.0.1:9",
        "--blockd-insecure-no-auth",
      ],
      { cwd: app, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    ctl.stdout.on("data", (d: Buffer) => (out += d.toString()));
    ctl.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => ctl.once("exit", (code) => resolve(code)));
    const end = Date.now() + 60_000;
    while (!existsSync(sock) && ctl.exitCode === null && Date.now() < end) await sleep(50);
    const listening = existsSync(sock);
    ctl.kill("SIGTERM");
    assert.equal(await exited, 0, out);
    assert.ok(listening, out);
    assert.match(out, /"message":"listening"/);
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
});

test("the runtime has the tools each mode runs, and the commands the chart starts", () => {
  const runtime = runs(stage("runtime"));
  for (const pkg of ["open-iscsi", "multipath-tools", "xfsprogs", "e2fsprogs", "util-linux", "glusterfs-client", "glusterfs-cli", "kmod", "tini"])
    assert.match(runtime, new RegExp(`\\b${pkg}\\b`), pkg);
  const objs = renderChart();
  const commands = objs.flatMap((o) =>
    ((o.spec as { template?: { spec: { containers: { image: string; command?: string[] }[] } } } | undefined)?.template?.spec.containers ?? [])
      .filter((c) => c.image.startsWith("gluster-block-csi:"))
      .map((c) => c.command ?? []),
  );
  assert.equal(commands.length, 3);
  for (const cmd of commands) {
    assert.equal(cmd[0], "/usr/bin/tini");
    assert.match(runtime, new RegExp(`/usr/local/bin/${cmd[2] ?? "?"}(\\s|$)`));
  }
});

test("non-root by default, with a healthcheck and an init", () => {
  const ins = stage("runtime").instructions;
  const user = ins.filter((i) => i.op === "USER").at(-1);
  assert.ok(user && !/^(0|root)\b/.test(user.args), "the image runs as a non-root user unless the pod says otherwise");
  assert.ok(ins.some((i) => i.op === "HEALTHCHECK" && i.args.includes("/healthz")));
  assert.match(ins.find((i) => i.op === "ENTRYPOINT")?.args ?? "", /tini/);
});
