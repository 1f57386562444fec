// The node program, started as kubelet would find it: a unix socket, the
// Identity service, an honest Probe, UNIMPLEMENTED for unknown methods, and a
// clean stop on SIGTERM.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile, chmod, mkdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status, type ServiceError, Metadata } from "@grpc/grpc-js";
import { startProgram, waitForFile, type Running } from "../helpers/spawn-program.js";
import { csiClients, call } from "../../lab/harness/csi-client.js";
import { NODE_PROGRAMS } from "../../src/node/plugin.js";
import { VERSION } from "../../src/util/version.js";

let dir: string;
let program: Running;
let sock: string;
let fakeBin: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "gbcsi-node-"));
  sock = join(dir, "csi.sock");
  // a PATH holding every program the node plugin needs, so Probe can say ready
  fakeBin = join(dir, "bin");
  await mkdir(fakeBin);
  for (const p of NODE_PROGRAMS) {
    await writeFile(join(fakeBin, p), "#!/bin/sh\nexit 0\n");
    await chmod(join(fakeBin, p), 0o755);
  }
  program = startProgram("gluster-block-csi", ["node", "--endpoint", `unix://${sock}`, "--state-dir", join(dir, "state"), "--node-id", "worker-1"], {
    ...process.env,
    PATH: `${fakeBin}:${process.env.PATH ?? ""}`,
  });
  await waitForFile(sock, 20_000, program);
});

after(async () => {
  await program?.stop();
  await rm(dir, { recursive: true, force: true });
});

test("GetPluginInfo names the driver in DNS style with the package version", async () => {
  const c = csiClients(`unix:${sock}`);
  try {
    const info = await call<{ name: string; vendor_version: string }>(c.identity, "GetPluginInfo", {});
    assert.equal(info.name, "block.csi.gluster.org");
    assert.match(info.name, /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    assert.equal(info.vendor_version, VERSION);
  } finally {
    c.close();
  }
});

test("GetPluginCapabilities answers with typed capabilities", async () => {
  const c = csiClients(`unix:${sock}`);
  try {
    const caps = await call<{ capabilities: { volume_expansion?: { type: string } | null }[] }>(c.identity, "GetPluginCapabilities", {});
    assert.ok(caps.capabilities.some((x) => x.volume_expansion?.type === "ONLINE"));
  } finally {
    c.close();
  }
});

test("Probe reports ready when the state dir is writable and the host programs exist", async () => {
  const c = csiClients(`unix:${sock}`);
  try {
    const r = await call<{ ready: { value: boolean } | null }>(c.identity, "Probe", {});
    assert.equal(r.ready?.value, true);
  } finally {
    c.close();
  }
});

test("an unknown method answers UNIMPLEMENTED", async () => {
  const c = csiClients(`unix:${sock}`);
  try {
    const err = await new Promise<ServiceError>((resolve, reject) =>
      c.identity.makeUnaryRequest(
        "/csi.v1.Identity/NoSuchMethod",
        () => Buffer.alloc(0),
        (b: Buffer) => b,
        {},
        new Metadata(),
        (e) => (e ? resolve(e) : reject(new Error("unexpected success"))),
      ),
    );
    assert.equal(err.code, status.UNIMPLEMENTED);
  } finally {
    c.close();
  }
});

test("Probe fails with FAILED_PRECONDITION, naming what is missing, when host programs are absent", async () => {
  const d2 = await mkdtemp(join(tmpdir(), "gbcsi-node2-"));
  const sock2 = join(d2, "csi.sock");
  // PATH with node itself only: iscsiadm and friends are missing
  const p2 = startProgram("gluster-block-csi", ["node", "--endpoint", sock2, "--state-dir", join(d2, "state")], {
    ...process.env,
    PATH: join(process.execPath, ".."),
  });
  try {
    await waitForFile(sock2, 20_000, p2);
    const c = csiClients(`unix:${sock2}`);
    try {
      const err = await call(c.identity, "Probe", {}).then(
        () => assert.fail("Probe should fail"),
        (e: ServiceError) => e,
      );
      assert.equal(err.code, status.FAILED_PRECONDITION);
      assert.match(err.details, /iscsiadm/);
    } finally {
      c.close();
    }
  } finally {
    await p2.stop();
    await rm(d2, { recursive: true, force: true });
  }
});

test("SIGTERM drains and removes the socket", async () => {
  const code = await program.stop("SIGTERM");
  assert.equal(code, 0);
  assert.equal(existsSync(sock), false);
});
