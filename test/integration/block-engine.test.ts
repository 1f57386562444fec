// The gluster-block engine against real glusterd: journals and backing files
// on a real replica-3 volume, three storage nodes whose LIO is the configfs
// imitation. Compatibility with the original's journal format, idempotent
// retries, crash resume, rollback, and bad input that changes nothing.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { readFile, stat, writeFile, readdir, mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { startEngineCluster, type EngineCluster } from "./harness/engine-cluster.js";
import { BlockEngine } from "../../src/glusterblock/engine/block-engine.js";
import { readExtensions } from "../../src/glusterblock/engine/extensions.js";
import { VolumeMounts } from "../../src/glusterblock/volume/mounts.js";
import { GlusterCli } from "../../src/glusterblock/gluster/gluster-cli.js";
import { nullLogger } from "../../src/util/log.js";
import type { CreateRequest } from "../../src/glusterblock/engine/requests.js";
import {
  BlockExistsError,
  BlockNotFoundError,
  HostUnreachableError,
  InvalidRequestError,
  PartialFailureError,
  PreconditionError,
  VolumeNotFoundError,
} from "../../src/glusterblock/errors.js";
import { InvalidNameError, iqnFor } from "../../src/identity/names.js";
import { gbidFor } from "../doubles/names.js";
import { SizeError } from "../../src/identity/size.js";
import { parseJournal } from "../../src/glusterblock/journal/index.js";
import { exec } from "../../src/util/exec.js";

let c: EngineCluster;
let e: BlockEngine;
let root: string;
/** the GBID sample-block's create drew (random per create) */
let sampleGbid = "";
const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MiB = 1024n * 1024n;

const req = (block: string, over: Partial<CreateRequest> = {}): CreateRequest => ({
  volume: c.volume,
  block,
  ha: 3,
  hosts: c.hosts,
  auth: false,
  prealloc: false,
  sizeBytes: 64n * MiB,
  aclMode: "GENERATED",
  owner: "",
  ...over,
});

/** What the volume and every node's LIO hold: to prove that a failed call changed nothing. */
async function snapshot(): Promise<string> {
  const meta = (await readdir(join(root, "block-meta"))).filter((n) => !n.startsWith(".")).sort();
  const journals = await Promise.all(meta.map(async (n) => `${n}:${await readFile(join(root, "block-meta", n), "utf8")}`));
  const store = (await readdir(join(root, "block-store"))).sort();
  const lio = await Promise.all([...c.nodes.values()].map(async (n) => JSON.stringify(await n.lio.list())));
  return JSON.stringify({ journals, store, lio });
}

before(async () => {
  c = await startEngineCluster();
  e = c.engine(1);
  root = await c.mounts.ensure(c.volume);
});

after(async () => {
  await c?.down();
});

describe("create, info, modify, delete on a real volume", () => {
  test("create ha 3 with auth writes the original's journal, the file and a target on every node", async () => {
    const r = await e.create(req("sample-block", { auth: true }));
    const gbid = r.gbid;
    sampleGbid = gbid;
    assert.match(gbid, V4, "a random GBID (uuid v4), drawn per create");
    assert.equal(r.iqn, iqnFor(gbid));
    assert.deepEqual(
      r.portals,
      c.hosts.map((h) => `${h}:3260`),
    );
    assert.equal(r.username, gbid);
    assert.match(r.password ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(r.alreadyExisted, false);

    const text = await readFile(join(root, "block-meta", "sample-block"), "utf8");
    const lines = text.trimEnd().split("\n");
    // the original's order: intent, sizes, ENTRYCREATE SUCCESS, PASSWORD, then per-host lines
    assert.deepEqual(lines.slice(0, 4), [`VOLUME: ${c.volume}`, `GBID: ${gbid}`, "HA: 3", "ENTRYCREATE: INPROGRESS"]);
    assert.match(lines[4] ?? "", /^PRIOPATH: 10\.214\.0\.[123]$/);
    assert.ok(lines.includes("SIZE: 67108864") && lines.includes("ENTRYCREATE: SUCCESS") && lines.includes(`PASSWORD: ${r.password}`));
    for (const h of c.hosts) {
      assert.ok(lines.includes(`${h}: CONFIGINPROGRESS`) && lines.includes(`${h}: CONFIGSUCCESS`) && lines.includes(`${h}: AUTHENFORCED`), h);
    }
    const meta = parseJournal("sample-block", text);
    assert.equal(meta.password, r.password);

    assert.equal((await stat(join(root, "block-store", gbid))).size, 64 * 1024 * 1024);
    for (const [host, n] of c.nodes) {
      const s = await n.lio.get(r.iqn);
      assert.ok(s?.backstore?.enabled, `backstore on ${host}`);
      assert.equal(s.backstore.cfgstring, `${c.volume}@localhost/block-store/${gbid};tcmur_cmd_time_out=43`);
      assert.equal(s.target?.tpgs.length, 3);
      const enabled = s.target.tpgs.filter((t) => t.enabled);
      assert.equal(enabled.length, 1, "only the node's own TPG is enabled");
      assert.deepEqual(enabled[0]?.portals, [`${host}:3260`]);
      assert.equal(enabled[0]?.authentication, true);
      assert.equal(enabled[0]?.generateNodeAcls, true);
    }
  });

  test("a retried create with the same parameters returns the same block and changes nothing", async () => {
    const before = await snapshot();
    const r = await e.create(req("sample-block", { auth: true }));
    assert.equal(r.alreadyExisted, true);
    assert.equal(r.gbid, sampleGbid, "the GBID the journal recorded");
    // a retry may append nothing but re-convergence; the journal's state is the same
    const after = await snapshot();
    const storeOf = (s: string): string[] => (JSON.parse(s) as { store: string[] }).store;
    assert.equal(storeOf(after).length, storeOf(before).length);
  });

  test("the same name with another size is ALREADY_EXISTS", async () => {
    await assert.rejects(e.create(req("sample-block", { auth: true, sizeBytes: 128n * MiB })), BlockExistsError);
  });

  test("a create coordinated from another node finds the block made by node 1", async () => {
    const r = await c.engine(2).create(req("sample-block", { auth: true }));
    assert.equal(r.alreadyExisted, true);
  });

  test("list and details", async () => {
    assert.ok((await e.list(c.volume)).includes("sample-block"));
    const d = await e.details(c.volume, "sample-block");
    assert.deepEqual([...d.info.exportedOn].sort(), [...c.hosts].sort());
    assert.deepEqual(d.hosts, c.hosts);
    assert.equal(d.info.ha, 3);
  });

  test("modify auth disable, then enable with a new password", async () => {
    const off = await e.modifyAuth({ volume: c.volume, block: "sample-block", enable: false });
    assert.equal(off.failedOn.length, 0);
    for (const n of c.nodes.values()) assert.equal((await n.lio.get(off.iqn))?.target?.tpgs.find((t) => t.enabled)?.authentication, false);
    const old = (await e.details(c.volume, "sample-block")).meta.password;
    assert.equal(old, "");
    const on = await e.modifyAuth({ volume: c.volume, block: "sample-block", enable: true });
    assert.match(on.password ?? "", /^[0-9a-f-]{36}$/);
    for (const n of c.nodes.values()) assert.equal((await n.lio.get(on.iqn))?.target?.tpgs.find((t) => t.enabled)?.authentication, true);
    const text = await readFile(join(root, "block-meta", "sample-block"), "utf8");
    assert.match(text, /AUTHCLEARENFORCEING\n[\s\S]*AUTHCLEARENFORCED\n[\s\S]*AUTHENFORCEING\n[\s\S]*AUTHENFORCED\n/);
  });

  test("modify size grows the file and every backstore; shrinking needs force", async () => {
    const r = await e.resize({ volume: c.volume, block: "sample-block", sizeBytes: 128n * MiB, force: false });
    assert.equal(r.failedOn.length, 0);
    const gbid = sampleGbid;
    assert.equal((await stat(join(root, "block-store", gbid))).size, 128 * 1024 * 1024);
    for (const n of c.nodes.values()) assert.equal((await n.lio.get(r.iqn))?.backstore?.sizeBytes, 128 * 1024 * 1024);
    assert.match(await readFile(join(root, "block-meta", "sample-block"), "utf8"), /RSSUCCESS-134217728/);
    await assert.rejects(e.resize({ volume: c.volume, block: "sample-block", sizeBytes: 64n * MiB, force: false }), InvalidRequestError);
  });

  test("delete removes every target, the file and the journal; a second delete is NOT_FOUND, or OK when missing is allowed", async () => {
    const gbid = sampleGbid;
    const r = await e.delete({ volume: c.volume, block: "sample-block", unlinkStorage: true, force: false, missingOk: false });
    assert.deepEqual([...r.successfulOn].sort(), [...c.hosts].sort());
    await assert.rejects(stat(join(root, "block-store", gbid)), /ENOENT/);
    await assert.rejects(stat(join(root, "block-meta", "sample-block")), /ENOENT/);
    for (const n of c.nodes.values()) assert.deepEqual(await n.lio.list(), []);
    await assert.rejects(e.delete({ volume: c.volume, block: "sample-block", unlinkStorage: true, force: false, missingOk: false }), BlockNotFoundError);
    assert.equal((await e.delete({ volume: c.volume, block: "sample-block", unlinkStorage: true, force: false, missingOk: true })).notFound, true);
  });
});

describe("failures converge", () => {
  test("an unreachable host is refused before anything is written", async () => {
    const before = await snapshot();
    const n3 = c.nodes.get(c.hosts[2] ?? "");
    assert.ok(n3);
    n3.down = true;
    try {
      await assert.rejects(e.create(req("blk-down")), HostUnreachableError);
    } finally {
      n3.down = false;
    }
    assert.equal(await snapshot(), before);
  });

  test("a node whose LIO fails mid-create makes the create roll back completely", async () => {
    const before = await snapshot();
    const n2 = c.nodes.get(c.hosts[1] ?? "");
    assert.ok(n2);
    n2.configfs.crashAt = n2.configfs.ops.length + 5;
    n2.recoverAfterCrash = true;
    try {
      await assert.rejects(e.create(req("blk-crash", { ha: 3 })), PartialFailureError);
    } finally {
      n2.configfs.crashAt = undefined;
      n2.recoverAfterCrash = false;
    }
    assert.equal(await snapshot(), before, "nothing left: no journal, no file, no LIO object on any node");
    // and the same create now succeeds
    const r = await e.create(req("blk-crash"));
    assert.equal(r.portals.length, 3);
    await e.delete({ volume: c.volume, block: "blk-crash", unlinkStorage: true, force: false, missingOk: false });
  });

  test("a re-issued create of a block that exists, while one host's LIO fails, removes nothing: journal, file, data and targets intact", async () => {
    const made = await e.create(req("blk-keep", { ha: 3 }));
    const file = join(root, "block-store", made.gbid);
    await writeFile(file, Buffer.alloc(4096, 0x5a), { flag: "r+" });
    const data = (): Promise<string> => exec("sha256sum", [file], { timeoutMs: 10_000 }).then((r) => r.stdout.split(" ")[0] ?? "");
    const sum = await data();
    const before = await snapshot();
    const n2 = c.nodes.get(c.hosts[1] ?? "");
    assert.ok(n2);
    // every LIO write on n2 fails from now on, as with its tcmu-runner stopped
    n2.configfs.crashAt = n2.configfs.ops.length;
    try {
      // CSI's retry: the block is answered as it is
      const again = await e.create(req("blk-keep", { ha: 3 }));
      assert.equal(again.alreadyExisted, true);
      assert.equal(again.gbid, made.gbid);
      // the CLI's: refused as the original, nothing touched
      await assert.rejects(e.create(req("blk-keep", { ha: 3, failIfExists: true })), BlockExistsError);
    } finally {
      n2.configfs.crashAt = undefined;
    }
    assert.equal(await snapshot(), before, "the journal, the file and every node's LIO objects are as they were");
    assert.equal(await data(), sum, "the block's data is intact");
    await e.delete({ volume: c.volume, block: "blk-keep", unlinkStorage: true, force: false, missingOk: false });
  });

  test("a retry of a create begun earlier whose configuration fails on a host leaves the block for the next retry", async () => {
    const gbid = gbidFor(c.volume, "blk-begun");
    await writeFile(
      join(root, "block-meta", "blk-begun"),
      `VOLUME: ${c.volume}\nGBID: ${gbid}\nHA: 3\nENTRYCREATE: INPROGRESS\nPRIOPATH: ${c.hosts[0]}\nHOSTS: ${c.hosts.join(" ")}\nACLMODE: GENERATED\nPREALLOC: NO\n`,
    );
    const n3 = c.nodes.get(c.hosts[2] ?? "");
    assert.ok(n3);
    n3.configfs.crashAt = n3.configfs.ops.length;
    try {
      await assert.rejects(e.create(req("blk-begun")), PartialFailureError);
    } finally {
      n3.configfs.crashAt = undefined;
    }
    // not made by that call: neither its journal nor its file was removed
    assert.ok((await readFile(join(root, "block-meta", "blk-begun"), "utf8")).includes(`GBID: ${gbid}`));
    await stat(join(root, "block-store", gbid));
    const r = await e.create(req("blk-begun"));
    assert.equal(r.portals.length, 3);
    await e.delete({ volume: c.volume, block: "blk-begun", unlinkStorage: true, force: false, missingOk: false });
  });

  test("a create cut short after the journal's first lines is finished by the retry", async () => {
    // a GBID as earlier builds derived it from the name (v5): such half-made blocks are finished too
    const gbid = gbidFor(c.volume, "blk-resume");
    // what a coordinator that died right after its first append leaves behind
    await writeFile(
      join(root, "block-meta", "blk-resume"),
      `VOLUME: ${c.volume}\nGBID: ${gbid}\nHA: 3\nENTRYCREATE: INPROGRESS\nPRIOPATH: ${c.hosts[0]}\nHOSTS: ${c.hosts.join(" ")}\nACLMODE: GENERATED\nPREALLOC: NO\n`,
    );
    const r = await e.create(req("blk-resume"));
    assert.equal(r.gbid, gbid);
    assert.equal(r.portals.length, 3);
    const d = await e.details(c.volume, "blk-resume");
    assert.equal(d.meta.entryCreate, "SUCCESS");
    await e.delete({ volume: c.volume, block: "blk-resume", unlinkStorage: true, force: false, missingOk: false });
  });

  test("a create cut short after the journal's first lines keeps the GBID the journal recorded (a random v4 one)", async () => {
    const gbid = randomUUID();
    const files = new Set(await readdir(join(root, "block-store")));
    await writeFile(
      join(root, "block-meta", "blk-resume-v4"),
      `VOLUME: ${c.volume}\nGBID: ${gbid}\nHA: 3\nENTRYCREATE: INPROGRESS\nPRIOPATH: ${c.hosts[0]}\nHOSTS: ${c.hosts.join(" ")}\nACLMODE: GENERATED\nPREALLOC: NO\n`,
    );
    const r = await e.create(req("blk-resume-v4"));
    assert.equal(r.gbid, gbid);
    assert.equal(r.iqn, iqnFor(gbid));
    assert.equal((await stat(join(root, "block-store", gbid))).size, 64 * 1024 * 1024, "the file is made under the recorded GBID");
    assert.deepEqual(
      (await readdir(join(root, "block-store"))).filter((f) => f !== gbid && !files.has(f)),
      [],
      "no second file",
    );
    await e.delete({ volume: c.volume, block: "blk-resume-v4", unlinkStorage: true, force: false, missingOk: false });
  });

  test("a block deleted and created again under the same name gets a new GBID, IQN and WWID", async () => {
    const first = await e.create(req("blk-again", { auth: true }));
    await e.delete({ volume: c.volume, block: "blk-again", unlinkStorage: true, force: false, missingOk: false });
    const second = await e.create(req("blk-again", { auth: true }));
    assert.equal(second.alreadyExisted, false);
    assert.notEqual(second.gbid, first.gbid);
    assert.notEqual(second.iqn, first.iqn);
    assert.notEqual(second.wwid, first.wwid);
    assert.equal(second.username, second.gbid, "the CHAP user is the new GBID");
    assert.match(await readFile(join(root, "block-meta", "blk-again"), "utf8"), new RegExp(`^GBID: ${second.gbid}$`, "m"));
    for (const n of c.nodes.values()) assert.equal(await n.lio.get(first.iqn), undefined, "no target answers to the old IQN");
    await assert.rejects(stat(join(root, "block-store", first.gbid)), /ENOENT/);
    // a force delete (a host unreachable) then a create: a new identity too
    await e.delete({ volume: c.volume, block: "blk-again", unlinkStorage: true, force: true, missingOk: false });
    const third = await e.create(req("blk-again", { auth: true }));
    assert.ok(![first.gbid, second.gbid].includes(third.gbid));
    await e.delete({ volume: c.volume, block: "blk-again", unlinkStorage: true, force: false, missingOk: false });
  });

  test("concurrent creates of one block: both succeed, one block exists", async () => {
    const [a, b] = await Promise.all([e.create(req("blk-race")), c.engine(2).create(req("blk-race"))]);
    assert.equal(a.gbid, b.gbid);
    assert.equal([a.alreadyExisted, b.alreadyExisted].filter(Boolean).length, 1);
    await e.delete({ volume: c.volume, block: "blk-race", unlinkStorage: true, force: false, missingOk: false });
  });

  test("per-initiator ACLs for explicit blocks", async () => {
    const acl = await e.create(req("blk-acl", { aclMode: "EXPLICIT", auth: true }));
    const iqn = "iqn.2004-10.com.ubuntu:01:worker1";
    await e.setInitiatorAccess({ volume: c.volume, block: "blk-acl", initiator: iqn, allow: true });
    for (const n of c.nodes.values()) {
      const t = (await n.lio.get(acl.iqn))?.target?.tpgs.find((x) => x.enabled);
      assert.equal(t?.generateNodeAcls, false);
      assert.deepEqual(
        t?.acls.map((a) => a.initiator),
        [iqn],
      );
    }
    await e.setInitiatorAccess({ volume: c.volume, block: "blk-acl", initiator: iqn, allow: false });
    for (const n of c.nodes.values()) {
      const t = (await n.lio.get(acl.iqn))?.target?.tpgs.find((x) => x.enabled);
      assert.deepEqual(t?.acls, []);
    }
    await assert.rejects(e.setInitiatorAccess({ volume: c.volume, block: "blk-acl", initiator: "not an iqn; rm -rf /", allow: true }), InvalidRequestError);
    await e.delete({ volume: c.volume, block: "blk-acl", unlinkStorage: true, force: false, missingOk: false });
  });
});

describe("bad input is refused with a clear error and changes nothing", () => {
  const cases: [string, () => Partial<CreateRequest>, new (...a: never[]) => Error][] = [
    ["ha greater than hosts", () => ({ ha: 4 }), InvalidRequestError],
    ["zero size", () => ({ sizeBytes: 0n }), SizeError],
    ["unaligned size", () => ({ sizeBytes: 1000n }), SizeError],
    ["bad block name", () => ({ block: "bad/name" }), InvalidNameError],
    ["name too long", () => ({ block: "x".repeat(300) }), InvalidNameError],
    ["host name instead of an IP", () => ({ hosts: ["storage-1", ...c.hosts.slice(1)] }), InvalidNameError],
    ["duplicate hosts", () => ({ hosts: [c.hosts[0] ?? "", c.hosts[0] ?? "", c.hosts[1] ?? ""] }), InvalidRequestError],
    ["host not in the pool", () => ({ hosts: ["10.214.0.99", ...c.hosts.slice(1)] }), PreconditionError],
    ["ring buffer out of range", () => ({ ringBufferMb: 2048 }), InvalidRequestError],
    ["unknown volume", () => ({ volume: "no-such-volume" }), VolumeNotFoundError],
  ];
  for (const [name, over, type] of cases) {
    test(name, async () => {
      const before = await snapshot();
      await assert.rejects(e.create(req("bad-input", over())), type);
      assert.equal(await snapshot(), before);
    });
  }

  test("a journal the original would not write is refused, not misread", async () => {
    await mkdir(join(root, "block-meta"), { recursive: true });
    await writeFile(join(root, "block-meta", "corrupt"), "VOLUME: block-test\nthis is not a journal line\n");
    await assert.rejects(e.details(c.volume, "corrupt"));
    await writeFile(join(root, "block-meta", "corrupt"), "");
    const { unlink } = await import("node:fs/promises");
    await unlink(join(root, "block-meta", "corrupt"));
  });
});

describe("the gluster-block CLI through a blockd socket", () => {
  test("create, info, list, modify, delete print the original's output", async () => {
    const { GrpcServer } = await import("../../src/rpc/server.js");
    const { blockdProto } = await import("../../src/rpc/proto.js");
    const { wrapService } = await import("../../src/rpc/rpc.js");
    const { blockdService } = await import("../../src/glusterblock/blockd/services.js");
    const { blockErrorToCsi } = await import("../../src/glusterblock/blockd/error-map.js");
    const { Auditor } = await import("../../src/glusterblock/engine/audit.js");
    const { runCli } = await import("../../src/glusterblock/cli/main.js");
    const { nullLogger } = await import("../../src/util/log.js");
    const { mkdtemp, stat: st } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const n1 = c.nodes.get(c.hosts[0] ?? "");
    assert.ok(n1);
    const sock = join(await mkdtemp(join(tmpdir(), "gb-cli-")), "blockd.sock");
    const server = new GrpcServer(nullLogger);
    const svc = blockdProto().glusterblock.v1.Blockd.service;
    server.addService(
      svc,
      wrapService(svc, blockdService(e, new Auditor(e, n1.local, n1.lio, c.peers, nullLogger)), { log: nullLogger, mapError: blockErrorToCsi }),
    );
    await server.listen({ endpoint: { kind: "unix", path: sock }, socketMode: 0o600 });
    try {
      assert.equal((await st(sock)).mode & 0o777, 0o600, "the CLI socket is root only");
      const hosts = c.hosts.join(",");
      const created = await runCli(["create", `${c.volume}/cli-blk`, "ha", "3", hosts, "64MiB"], sock);
      assert.equal(created.exitCode, 0, created.stderr);
      const gbid = /^GBID: (\S+)$/m.exec(await readFile(join(root, "block-meta", "cli-blk"), "utf8"))?.[1] ?? "";
      assert.match(gbid, V4);
      assert.equal(created.stdout, `IQN: ${iqnFor(gbid)}\nPORTAL(S):  ${c.hosts.map((h) => `${h}:3260`).join(" ")}\nRESULT: SUCCESS\n`);

      const again = await runCli(["create", `${c.volume}/cli-blk`, "ha", "3", hosts, "128MiB", "--json-plain"], sock);
      assert.equal(again.exitCode, 17);
      assert.equal((JSON.parse(again.stderr) as { errCode: number }).errCode, 17);

      const info = await runCli(["info", `${c.volume}/cli-blk`, "--json-pretty"], sock);
      assert.equal(info.exitCode, 0, info.stderr);
      const o = JSON.parse(info.stdout) as Record<string, unknown>;
      assert.equal(o.SIZE, "64.0 MiB");
      assert.equal(o.HA, 3);
      assert.equal(o.PASSWORD, "");

      assert.ok((await runCli(["list", c.volume], sock)).stdout.split("\n").includes("cli-blk"));
      const missing = await runCli(["info", `${c.volume}/nosuch`, "--json-pretty"], sock);
      assert.equal(missing.exitCode, 2);
      assert.equal(missing.stderr, `{\n  "RESULT":"FAIL",\n  "errCode":2,\n  "errMsg":"block ${c.volume}\\/nosuch doesn't exist"\n}\n`);

      const auth = await runCli(["modify", `${c.volume}/cli-blk`, "auth", "enable"], sock);
      assert.equal(auth.exitCode, 0, auth.stderr);
      assert.match(auth.stdout, new RegExp(`^IQN: ${iqnFor(gbid)}\nUSERNAME: ${gbid}\nPASSWORD: [0-9a-f-]{36}\nSUCCESSFUL ON:  .+\nRESULT: SUCCESS\n$`));

      const size = await runCli(["modify", `${c.volume}/cli-blk`, "size", "128MiB"], sock);
      assert.equal(size.exitCode, 0, size.stderr);
      assert.match(size.stdout, /^SIZE: 128\.0 MiB$/m);

      const del = await runCli(["delete", `${c.volume}/cli-blk`, "--json"], sock);
      assert.equal(del.exitCode, 0, del.stderr);
      assert.deepEqual((JSON.parse(del.stdout) as { "SUCCESSFUL ON": string[] })["SUCCESSFUL ON"].sort(), [...c.hosts].sort());
      assert.equal((await runCli(["list", c.volume], sock)).stdout, "*Nil*\n", "the original prints *Nil* for an empty volume");
    } finally {
      await server.stop(1000);
    }
  });
});

describe("replace", () => {
  test("the target moves from the old node to the new one; the other node's portal follows; a retry is skipped", async () => {
    const [h1, h2, h3] = c.hosts as [string, string, string];
    const r0 = await e.create(req("blk-move", { ha: 2, hosts: [h1, h2], auth: true }));
    const iqn = r0.iqn;
    const r = await e.replace({ volume: c.volume, block: "blk-move", oldNode: h2, newNode: h3, force: false });
    assert.deepEqual(r, { outcome: "done", created: true, deleted: true, portalSuccessOn: [h1], portalFailedOn: [], force: false });
    const lio = (h: string) => c.nodes.get(h)?.lio.get(iqn);
    assert.equal(await lio(h2), undefined, "nothing left on the old node");
    const t3 = (await lio(h3))?.target?.tpgs;
    assert.deepEqual(t3?.find((t) => t.enabled)?.portals, [`${h3}:3260`], "the new node serves its own TPG");
    assert.equal(t3?.find((t) => t.enabled)?.authentication, true);
    const t1 = (await lio(h1))?.target?.tpgs;
    assert.deepEqual(
      t1?.map((t) => t.portals[0]),
      [`${h1}:3260`, `${h3}:3260`],
      "the other node's TPG 2 now names the new node",
    );
    const d = await e.details(c.volume, "blk-move");
    assert.deepEqual([...d.info.exportedOn].sort(), [h1, h3].sort());
    assert.deepEqual(d.hosts, [h1, h3]);
    assert.equal((await e.replace({ volume: c.volume, block: "blk-move", oldNode: h2, newNode: h3, force: false })).outcome, "skipped");
    assert.equal((await e.replace({ volume: c.volume, block: "blk-move", oldNode: h1, newNode: h3, force: false })).outcome, "new-node-in-use");
    await e.delete({ volume: c.volume, block: "blk-move", unlinkStorage: true, force: false, missingOk: false });
    for (const n of c.nodes.values()) assert.deepEqual(await n.lio.list(), []);
  });

  test("an unreachable new node changes nothing", async () => {
    const [h1, h2, h3] = c.hosts as [string, string, string];
    await e.create(req("blk-move2", { ha: 2, hosts: [h1, h2] }));
    const before = await snapshot();
    const n3 = c.nodes.get(h3);
    assert.ok(n3);
    n3.down = true;
    try {
      await assert.rejects(e.replace({ volume: c.volume, block: "blk-move2", oldNode: h2, newNode: h3, force: false }), HostUnreachableError);
    } finally {
      n3.down = false;
    }
    assert.equal(await snapshot(), before);
    await e.delete({ volume: c.volume, block: "blk-move2", unlinkStorage: true, force: false, missingOk: false });
  });
});

describe("hosting volume mounts", () => {
  test("a mount whose FUSE client died (a restarted blockd's) is mounted again, not handed out dead", async () => {
    const dir = c.mounts.dirOf(c.volume);
    const ps = await exec("pgrep", ["-f", `glusterfs.*--volfile-id=/?${c.volume} ${dir}$`], { okExitCodes: [1] });
    const pids = ps.stdout.split("\n").filter(Boolean);
    assert.equal(pids.length, 1, `one FUSE client serves ${dir}: ${ps.stdout}`);
    await exec("kill", ["-9", pids[0] ?? ""]);
    let dead: unknown;
    for (let i = 0; i < 50 && !dead; i++) {
      dead = await stat(dir).then(
        () => undefined,
        (err: unknown) => err,
      );
      if (!dead) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(String(dead), /ENOTCONN|ECONNABORTED/, "the mount is dead once its client is killed");
    assert.equal(await c.mounts.isMounted(c.volume), true, "the dead mount is still in mountinfo");
    const again = await c.mounts.ensure(c.volume);
    assert.equal(again, dir);
    await writeFile(join(dir, ".remount-probe"), "alive");
    assert.equal(await readFile(join(dir, ".remount-probe"), "utf8"), "alive");
    await exec("rm", ["-f", join(dir, ".remount-probe")]);
  });

  test("a block's next holder on another node reads every line its previous holder just wrote (the mount caches no attributes)", async () => {
    await e.create(req("blk-fresh", { aclMode: "EXPLICIT" }));
    // node 2's engine, through a mount of its own
    const mounts2 = new VolumeMounts({ exec, root: await mkdtemp(join(tmpdir(), "gb-mnt2-")), volfileServer: c.gluster.address(2) });
    const e2 = new BlockEngine({
      host: c.hosts[1] ?? "",
      mounts: mounts2,
      gluster: new GlusterCli({ exec, glusterdSocket: c.gluster.socket(2) }),
      peers: c.peers,
      exec,
      log: nullLogger,
      lockWaitMs: 5_000,
    });
    const initiator = (who: string): string => `iqn.2024-01.test.fresh:${who}`;
    try {
      const expected: string[] = [];
      for (let round = 0; round < 3; round++) {
        // node 2 has just read the journal (a status, an info); node 1 changes the block, node 2 right after
        await e2.details(c.volume, "blk-fresh");
        await e.setInitiatorAccess({ volume: c.volume, block: "blk-fresh", initiator: initiator(`n1-${round}`), allow: true });
        await e2.setInitiatorAccess({ volume: c.volume, block: "blk-fresh", initiator: initiator(`n2-${round}`), allow: true });
        expected.push(initiator(`n1-${round}`), initiator(`n2-${round}`));
        // as the bricks hold it (no mount's cache between)
        const meta = parseJournal("blk-fresh", await readFile(join(c.gluster.dir, "n3", "bricks", `${c.volume}-b1`, "block-meta", "blk-fresh"), "utf8"));
        assert.deepEqual(
          readExtensions(meta).initiators.sort(),
          [...expected].sort(),
          `round ${round}: node 2 read a journal without node 1's last line and wrote over its update`,
        );
      }
    } finally {
      await mounts2.unmount(c.volume).catch(() => undefined);
      await e.delete({ volume: c.volume, block: "blk-fresh", unlinkStorage: true, force: false, missingOk: false });
    }
  });
});
