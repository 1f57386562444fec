// `gluster-block adopt` end to end: the CLI's own call (proto-codec.ts) over
// a unix socket to blockd's Blockd service (services.ts) on an engine whose
// three HA hosts are LocalNodes with configfs imitations
// (test/helpers/local-engine.ts), on the a1 journal recorded from 0.5.1.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GrpcServer } from "../../../../src/rpc/server.js";
import { blockdProto } from "../../../../src/rpc/proto.js";
import { wrapService } from "../../../../src/rpc/rpc.js";
import { parseEndpoint } from "../../../../src/rpc/endpoint.js";
import { blockdService } from "../../../../src/glusterblock/blockd/services.js";
import { blockErrorToCsi } from "../../../../src/glusterblock/blockd/error-map.js";
import { Auditor } from "../../../../src/glusterblock/engine/audit.js";
import { ConfigfsLioTargets } from "../../../../src/glusterblock/lio/configfs-lio-targets.js";
import { runCli } from "../../../../src/glusterblock/cli/main.js";
import { parseArgs, CliUsageError } from "../../../../src/glusterblock/cli/args.js";
import { nullLogger } from "../../../../src/util/log.js";
import { CONFIGFS_ROOT, localEngine, seedOriginalBlock, type LocalEngine } from "../../../helpers/local-engine.js";

const VOLUME = "block-test";
const HOSTS = ["10.213.0.11", "10.213.0.12", "10.213.0.13"] as const;
const GBID = "741d7e15-7fc9-4aa3-82b8-bd5c5298b65e";
const IQN = `iqn.2016-12.org.gluster-block:${GBID}`;
const N1 = "iqn.1994-05.com.redhat:node1";
const N2 = "iqn.1994-05.com.redhat:node2";
const A1 = {
  journal: readFileSync(new URL("../../../fixtures/journal/after-create-a1.txt", import.meta.url), "utf8"),
  gbid: GBID,
  prio: "10.213.0.11",
  password: "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f",
  sizeBytes: 1073741824,
  tpgOrder: HOSTS,
};

let local: LocalEngine;
let dir: string;
let sock: string;
let server: GrpcServer;

before(async () => {
  local = await localEngine(VOLUME, HOSTS, "gb-cli-adopt-");
  const first = local.hosts.get(HOSTS[0]) ?? assert.fail("no host");
  const lio = new ConfigfsLioTargets({ root: CONFIGFS_ROOT, fs: first.fs });
  const auditor = new Auditor(local.engine, first.local, lio, local.peers, nullLogger);
  const svc = blockdProto().glusterblock.v1.Blockd.service;
  server = new GrpcServer(nullLogger);
  server.addService(svc, wrapService(svc, blockdService(local.engine, auditor), { log: nullLogger, mapError: blockErrorToCsi }));
  dir = await mkdtemp(join(tmpdir(), "gb-cli-adopt-sock-"));
  sock = join(dir, "blockd.sock");
  await server.listen({ endpoint: parseEndpoint(`unix://${sock}`) });
});

after(async () => {
  await server.stop(1000);
  await rm(dir, { recursive: true, force: true });
  await local.cleanup();
});

const login = (host: string, initiator: string): boolean =>
  (local.hosts.get(host) ?? assert.fail("no host")).fs.login(IQN, HOSTS.indexOf(host as (typeof HOSTS)[number]) + 1, initiator);

test("adopt --dry-run lists the changes in the original's KEY: value style; nothing changes", async () => {
  await seedOriginalBlock(local, "a1", A1);
  login("10.213.0.12", N1);
  const before = await local.store.readRaw("a1");
  const out = await runCli(["adopt", "block-test/a1", "--dry-run"], sock);
  assert.equal(out.exitCode, 0, out.stderr);
  assert.equal(
    out.stdout,
    `NAME: a1\nGBID: ${GBID}\nIQN: ${IQN}\nWWID: 36001405741d7e157fc94aa382b8bd5c5\n` +
      "PORTAL(S):  10.213.0.11:3260 10.213.0.12:3260 10.213.0.13:3260\n" +
      "LOGGED IN ON 10.213.0.11: -\n" +
      `LOGGED IN ON 10.213.0.12: ${N1}\n` +
      "LOGGED IN ON 10.213.0.13: -\n" +
      `INITIATORS: ${N1}\n` +
      "CHANGE: journal: HOSTS 10.213.0.11 10.213.0.12 10.213.0.13 (the TPG order LIO holds)\n" +
      `CHANGE: journal: INITIATORS + ${N1} (logged in to 10.213.0.12)\n` +
      "CHANGE: journal: ACLMODE EXPLICIT (per-initiator ACLs; was generated ACLs)\n" +
      HOSTS.map(
        (h) =>
          `CHANGE: LIO on ${h}: generate_node_acls 1 -> 0 (each TPG made again: LIO keeps a hidden ACL for every initiator generated ACLs let in), ACLs ${N1}\n`,
      ).join("") +
      "OUTCOME: DRY RUN: NOTHING CHANGED\n" +
      "RESULT: SUCCESS\n",
  );
  assert.equal(await local.store.readRaw("a1"), before);
});

test("adopt with initiators, in every JSON form; again, already adopted", async () => {
  await seedOriginalBlock(local, "a1", A1);
  login("10.213.0.11", N1);
  const plain = await runCli(["adopt", "block-test/a1", "initiator", N2, "--json-plain"], sock);
  assert.equal(plain.exitCode, 0, plain.stderr);
  const r = JSON.parse(plain.stdout) as Record<string, unknown>;
  assert.equal(r.OUTCOME, "ADOPTED");
  assert.deepEqual(r.INITIATORS, [N1, N2]);
  assert.deepEqual(r["PORTAL(S)"], ["10.213.0.11:3260", "10.213.0.12:3260", "10.213.0.13:3260"]);
  assert.deepEqual(r["LOGGED IN"], [
    { HOST: "10.213.0.11", INITIATORS: [N1] },
    { HOST: "10.213.0.12", INITIATORS: [] },
    { HOST: "10.213.0.13", INITIATORS: [] },
  ]);
  assert.equal(r.RESULT, "SUCCESS");
  assert.equal(login("10.213.0.13", "iqn.1994-05.com.redhat:stranger"), false, "fenced");

  for (const flag of ["--json", "--json-spaced", "--json-pretty"]) {
    const again = await runCli(["adopt", "block-test/a1", flag], sock);
    assert.equal(again.exitCode, 0, again.stderr);
    const o = JSON.parse(again.stdout) as Record<string, unknown>;
    assert.deepEqual([o.OUTCOME, o.CHANGES, o.RESULT], ["ALREADY ADOPTED", [], "SUCCESS"], flag);
  }
  assert.match((await runCli(["adopt", "block-test/a1", "--json-pretty"], sock)).stdout, /^\{\n {2}"NAME":"a1",\n/);
});

test("a refusal: exit 255 with blockd's reason, plain and JSON; a missing block exits 2", async () => {
  await seedOriginalBlock(local, "a1", A1);
  await local.store.append("a1", "SNAPSHOT: 1\n");
  const plain = await runCli(["adopt", "block-test/a1"], sock);
  assert.equal(plain.exitCode, 255);
  assert.match(plain.stderr, /cannot be adopted: its journal has keys .* \(SNAPSHOT\).*nothing was changed\nRESULT:FAIL\n$/);
  const json = await runCli(["adopt", "block-test/a1", "--json-plain"], sock);
  assert.match(json.stderr, /^\{"RESULT":"FAIL","errCode":255,"errMsg":"block block-test\\\/a1 cannot be adopted: .*"\}\n$/);
  assert.equal((await runCli(["adopt", "block-test/nosuch"], sock)).exitCode, 2);
});

test("its command line: initiators checked before blockd is asked, unknown words refused", () => {
  assert.deepEqual(parseArgs(["adopt", "v/b", "initiator", `${N1},${N2},${N1}`, "--dry-run", "--json"]), {
    command: { kind: "adopt", volume: "v", block: "b", initiators: [N1, N2], dryRun: true },
    json: "spaced",
  });
  assert.deepEqual(parseArgs(["adopt", "v/b"]).command, { kind: "adopt", volume: "v", block: "b", initiators: [], dryRun: false });
  for (const [argv, re] of [
    [["adopt", "v/b", "initiator", "node1"], /"node1" is not an iSCSI initiator name/],
    [["adopt", "v/b", "initiator"], /missing <iqn1\[,iqn2,\.\.\.\]> after initiator/],
    [["adopt", "v/b", "force"], /unknown option "force" for adopt/],
    [["adopt", "v"], /./],
  ] as const) {
    assert.throws(
      () => parseArgs(argv),
      (e: unknown) => e instanceof CliUsageError && re.test(e.message),
      argv.join(" "),
    );
  }
});
