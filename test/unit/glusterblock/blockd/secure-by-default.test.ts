// Secure by default (the safety issue's item 6): gluster-blockd does not
// serve its TCP API unauthenticated, nor take a key without TLS, unless a
// flag that says INSECURE allows it; the controller likewise will not call
// blockd over plain TCP without one. The programs are started for real
// (from source, on loopback, with --no-reconcile and a private configfs
// root: no glusterd, no LIO); a refused start exits 2 before it binds
// anything. The policy itself is a table (tcpAuthRefusal).
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { credentials, Metadata, status } from "@grpc/grpc-js";
import { startProgram, waitForFile, type Running } from "../../../helpers/spawn-program.js";
import { tcpAuthRefusal, serveTcpApi } from "../../../../src/glusterblock/blockd/tcp-api.js";
import { blockdTransportRefusal, CONTROLLER_FLAGS, controllerConfig } from "../../../../src/controller/config.js";
import { parseFlags, UsageError } from "../../../../src/util/flags.js";
import { blockdProto } from "../../../../src/rpc/proto.js";
import { unary } from "../../../../src/rpc/unary-client.js";
import { KEY_HEADER } from "../../../../src/rpc/peer-auth.js";
import { nullLogger } from "../../../../src/util/log.js";

const KEY = "secure-by-default-key-0123456789";
let dir: string;
let keyFile: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "gb-secure-"));
  keyFile = join(dir, "key");
  await writeFile(keyFile, `${KEY}\n`, { mode: 0o600 });
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** a port free on loopback now (never blockd's 24010: others use this machine) */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

let n = 0;
/** gluster-blockd's flags for a private, harmless instance: loopback, its own socket and configfs root, no reconcile */
async function blockdArgs(): Promise<{ args: string[]; socket: string; port: number }> {
  const i = n++;
  const socket = join(dir, `gb-${i}.sock`);
  const port = await freePort();
  const args = [
    "--host",
    "127.0.0.1",
    "--socket",
    socket,
    "--listen",
    `127.0.0.1:${port}`,
    "--no-reconcile",
    "--configfs-root",
    join(dir, `cfs-${i}`),
    "--mount-root",
    join(dir, `mnt-${i}`),
  ];
  return { args, socket, port };
}

/** Runs a program expecting it to refuse at start; one that serves instead (an old build) is killed after 15 s, and the test fails on its exit code. */
async function exitOf(program: "gluster-blockd" | "gluster-block-csi", args: string[]): Promise<{ code: number | null; stderr: string }> {
  const p = startProgram(program, args);
  const exited = new Promise<number | null>((resolve) => p.child.once("exit", (c) => resolve(c)));
  const timer = setTimeout(() => void p.stop("SIGKILL"), 15_000);
  const code = await exited;
  clearTimeout(timer);
  return { code, stderr: p.output() };
}

async function refusedStart(extra: string[]): Promise<{ code: number | null; stderr: string; socket: string }> {
  const { args, socket } = await blockdArgs();
  return { ...(await exitOf("gluster-blockd", [...args, ...extra])), socket };
}

/** GetBlock of a name no block can have: INVALID_ARGUMENT before the engine touches anything, so an answer proves the call was served */
function probe(port: number, key?: string): Promise<{ code: number; details: string }> {
  const c = new (blockdProto().glusterblock.v1.Blockd)(`127.0.0.1:${port}`, credentials.createInsecure());
  const md = new Metadata();
  if (key !== undefined) md.set(KEY_HEADER, key);
  return unary(c, "GetBlock", { volume: "hv", block: "not a block name!" }, { timeoutMs: 10_000, metadata: md })
    .then(
      () => ({ code: status.OK, details: "" }),
      (err: Error & { code?: number; details?: string }) => ({ code: err.code ?? -1, details: err.details ?? err.message }),
    )
    .finally(() => c.close());
}

async function started(extra: string[]): Promise<{ p: Running; port: number }> {
  const { args, socket, port } = await blockdArgs();
  const p = startProgram("gluster-blockd", [...args, ...extra]);
  await waitForFile(socket, 60_000, p);
  // the CLI socket comes first; the TCP listener right after it
  for (let i = 0; i < 100 && !/"endpoint":"tcp:\/\//.test(p.output()); i++) await sleep(50);
  return { p, port };
}

describe("gluster-blockd refuses to start without authentication on TCP", () => {
  test("no TLS and no key: exit 2 with a message naming the TLS flags and --insecure-no-auth; nothing bound", async () => {
    const r = await refusedStart([]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^error: gluster-blockd refuses to serve its TCP API without authentication: anyone who reaches it could create and delete blocks and read every CHAP password\. Configure mutual TLS \(--tls-cert, --tls-key, --tls-ca\), or give --insecure-no-auth to serve every caller anyway\n/,
    );
    assert.ok(!existsSync(r.socket), "not even the CLI socket was made");
  });

  test("a key without TLS: exit 2 with a message naming the TLS flags and --insecure-key-over-plaintext", async () => {
    const r = await refusedStart(["--key-file", keyFile]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^error: gluster-blockd refuses --key-file without TLS: the shared key, and the CHAP passwords blockd answers with, would cross the network in cleartext\. Configure mutual TLS \(--tls-cert, --tls-key, --tls-ca\) \(the key may stay, on top\), or give --insecure-key-over-plaintext to accept cleartext\n/,
    );
    assert.ok(!existsSync(r.socket));
  });

  test("an insecure flag the rest contradicts is refused too (exit 2)", async () => {
    const both = await refusedStart(["--insecure-no-auth", "--key-file", keyFile]);
    assert.equal(both.code, 2, both.stderr);
    assert.match(both.stderr, /^error: --insecure-no-auth serves every caller without authentication, but --tls-\*\/--key-file configure it/);
    const noKey = await refusedStart(["--insecure-key-over-plaintext"]);
    assert.equal(noKey.code, 2, noKey.stderr);
    assert.match(noKey.stderr, /^error: --insecure-key-over-plaintext is only for --key-file without TLS, and there is no --key-file/);
  });
});

describe("gluster-blockd with an explicit insecure flag starts, and says so", () => {
  test("--insecure-no-auth: serves an unauthenticated caller, with an INSECURE warning in its log", async () => {
    const { p, port } = await started(["--insecure-no-auth"]);
    try {
      const r = await probe(port);
      assert.equal(r.code, status.INVALID_ARGUMENT, `served: ${r.details}\n${p.output()}`);
      assert.match(p.output(), /"level":"warn".*INSECURE \(--insecure-no-auth\): the TCP API serves every caller without authentication/);
    } finally {
      await p.stop();
    }
  });

  test("--insecure-key-over-plaintext with --key-file: a caller without the key is UNAUTHENTICATED, with it served; an INSECURE warning", async () => {
    const { p, port } = await started(["--key-file", keyFile, "--insecure-key-over-plaintext"]);
    try {
      assert.equal((await probe(port)).code, status.UNAUTHENTICATED);
      assert.equal((await probe(port, KEY)).code, status.INVALID_ARGUMENT);
      assert.match(
        p.output(),
        /"level":"warn".*INSECURE \(--insecure-key-over-plaintext\): the TCP API runs without TLS; the shared key and the CHAP passwords cross the network in cleartext/,
      );
    } finally {
      await p.stop();
    }
  });
});

describe("the policy", () => {
  const c = (tls: boolean, key: boolean, insecureNoAuth = false, insecureKeyOverPlaintext = false) => ({ tls, key, insecureNoAuth, insecureKeyOverPlaintext });

  test("blockd: TLS (with or without the key) is enough; without TLS only the matching insecure flag allows it", () => {
    assert.equal(tcpAuthRefusal(c(true, false)), undefined);
    assert.equal(tcpAuthRefusal(c(true, true)), undefined);
    assert.equal(tcpAuthRefusal(c(false, false, true)), undefined);
    assert.equal(tcpAuthRefusal(c(false, true, false, true)), undefined);
    assert.match(tcpAuthRefusal(c(false, false)) ?? "", /without authentication/);
    assert.match(tcpAuthRefusal(c(false, true)) ?? "", /--key-file without TLS/);
    // the wrong insecure flag does not do
    assert.match(tcpAuthRefusal(c(false, false, false, true)) ?? "", /there is no --key-file/);
    assert.match(tcpAuthRefusal(c(false, true, true)) ?? "", /--insecure-no-auth serves every caller/);
    // and an insecure flag beside TLS says something that is not so
    assert.match(tcpAuthRefusal(c(true, false, true)) ?? "", /--insecure-no-auth serves every caller/);
    assert.match(tcpAuthRefusal(c(true, true, false, true)) ?? "", /TLS is configured: drop --insecure-key-over-plaintext/);
  });

  test("blockd's listener refuses the same, whoever builds it", async () => {
    const common = { listen: { kind: "tcp", host: "127.0.0.1", port: 0 } as const, blockd: {}, peer: {}, wrap: { log: nullLogger }, log: nullLogger };
    await assert.rejects(serveTcpApi(common), /refuses to serve its TCP API without authentication/);
    await assert.rejects(serveTcpApi({ ...common, key: KEY }), /refuses --key-file without TLS/);
  });

  test("the controller: the same rule for its side, in its flags' words", () => {
    assert.equal(blockdTransportRefusal(c(true, true)), undefined);
    assert.equal(blockdTransportRefusal(c(false, false, true)), undefined);
    assert.equal(blockdTransportRefusal(c(false, true, false, true)), undefined);
    assert.match(blockdTransportRefusal(c(false, false)) ?? "", /refuses to call gluster-blockd without TLS.*--blockd-insecure-no-auth/);
    assert.match(blockdTransportRefusal(c(false, true)) ?? "", /refuses to send --blockd-key-file without TLS.*--blockd-insecure-key-over-plaintext/);
    assert.match(blockdTransportRefusal(c(true, false, false, true)) ?? "", /TLS is configured/);
    const cfg = (argv: string[]) =>
      controllerConfig(parseFlags(["--blockd-endpoints", "127.0.0.1:24010", ...argv], CONTROLLER_FLAGS), "block.csi.gluster.org", {});
    assert.throws(() => cfg([]), UsageError);
    assert.throws(() => cfg(["--blockd-key-file", keyFile]), /refuses to send --blockd-key-file without TLS/);
    assert.equal(cfg(["--blockd-key-file", keyFile, "--blockd-insecure-key-over-plaintext"]).insecure, "key-over-plaintext");
    assert.equal(cfg(["--blockd-insecure-no-auth"]).insecure, "no-auth");
    assert.equal(cfg(["--blockd-tls-cert", "/c", "--blockd-tls-key", "/k", "--blockd-tls-ca", "/a"]).insecure, undefined);
  });

  test("blockd and the controller refuse exactly the same settings (one rule, two vocabularies)", () => {
    for (let i = 0; i < 16; i++) {
      const choice = c(Boolean(i & 1), Boolean(i & 2), Boolean(i & 4), Boolean(i & 8));
      assert.equal(tcpAuthRefusal(choice) === undefined, blockdTransportRefusal(choice) === undefined, JSON.stringify(choice));
    }
  });
});

test("gluster-block-csi controller with a key and no TLS exits 2 before it serves", async () => {
  const socket = join(dir, "csi.sock");
  const r = await exitOf("gluster-block-csi", [
    "controller",
    "--endpoint",
    `unix://${socket}`,
    "--kube-api",
    "off",
    "--blockd-endpoints",
    "127.0.0.1:1",
    "--blockd-key-file",
    keyFile,
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /^error: the controller refuses to send --blockd-key-file without TLS: the key, and the CHAP passwords blockd answers with, would cross the network in cleartext\./,
  );
  assert.ok(!existsSync(socket));
});
