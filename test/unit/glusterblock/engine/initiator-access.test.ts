// ControllerPublish's engine call, SetInitiatorAccess, with read-only
// initiators: the journal keeps them apart from the read-write ones, and every
// HA host's LIO maps their LUN write protected (lun_0/write_protect in the
// ACL). Three LocalNodes over a temp directory laid out as a hosting volume,
// each with its own configfs imitation (test/helpers/local-engine.ts).
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import type { BlockEngine } from "../../../../src/glusterblock/engine/block-engine.js";
import { extLine, readExtensions } from "../../../../src/glusterblock/engine/extensions.js";
import type { BlockStore } from "../../../../src/glusterblock/volume/block-store.js";
import { iqnFor } from "../../../../src/identity/names.js";
import { gbidFor } from "../../../doubles/names.js";
import { CONFIGFS_ROOT as ROOT, localEngine, seedCsiBlock, type LocalEngine, type LocalHost } from "../../../helpers/local-engine.js";

const VOLUME = "block-test";
const BLOCK = "b0";
const HOSTS = ["10.213.0.11", "10.213.0.12", "10.213.0.13"] as const;
const GBID = gbidFor(VOLUME, BLOCK);
const IQN = iqnFor(GBID);
const READER = "iqn.2004-10.com.ubuntu:01:reader1";
const READER2 = "iqn.2004-10.com.ubuntu:01:reader2";
const WRITER = "iqn.2004-10.com.ubuntu:01:writer1";

let local: LocalEngine;
let store: BlockStore;
let engine: BlockEngine;
let hosts: Map<string, LocalHost>;

before(async () => {
  local = await localEngine(VOLUME, HOSTS, "gb-initiators-");
  ({ store, engine, hosts } = local);
});

after(async () => {
  await local.cleanup();
});

beforeEach(async () => {
  // a CSI block (explicit ACLs) exported on all three hosts, no initiator let in yet
  await seedCsiBlock(local, { volume: VOLUME, block: BLOCK, gbid: GBID });
});

const tpgOf = (host: string): string => `${ROOT}/iscsi/${IQN}/tpgt_${HOSTS.indexOf(host as (typeof HOSTS)[number]) + 1}`;

/** what each host's LIO says of an initiator's ACL on its own TPG: absent, or its write_protect */
async function aclOnEveryHost(initiator: string): Promise<(string | undefined)[]> {
  return Promise.all(
    HOSTS.map(async (host) => {
      const h = hosts.get(host);
      assert.ok(h);
      const ml = `${tpgOf(host)}/acls/${initiator}/lun_0`;
      if ((await h.fs.kind(ml)) !== "dir") return undefined;
      return (await h.fs.read(`${ml}/write_protect`)).trim();
    }),
  );
}

const journal = async (): Promise<string> => (await store.readRaw(BLOCK)) ?? "";
const mutations = (): number => [...hosts.values()].reduce((n, h) => n + h.fs.ops.length, 0);

test("a read-only initiator is journalled apart from the read-write ones and mapped write protected on every HA host", async () => {
  await engine.setInitiatorAccess({ volume: VOLUME, block: BLOCK, initiator: READER, allow: true, readOnly: true });
  assert.deepEqual(await aclOnEveryHost(READER), ["1", "1", "1"]);
  const ext = readExtensions((await store.readMeta(BLOCK)) ?? assert.fail("no journal"));
  assert.deepEqual(ext.readOnlyInitiators, [READER]);
  assert.deepEqual(ext.initiators, [], "never in INITIATORS: a node that does not know ROINITIATORS leaves it out instead of letting it write");
  assert.match(await journal(), new RegExp(`^ROINITIATORS: ${READER}$`, "m"));
  const d = await engine.details(VOLUME, BLOCK);
  assert.deepEqual([d.initiators, d.readOnlyInitiators], [[READER], [READER]]);

  // a writer beside it (the controller decides whether that is allowed): read-write, the reader untouched
  await engine.setInitiatorAccess({ volume: VOLUME, block: BLOCK, initiator: WRITER, allow: true });
  assert.deepEqual(await aclOnEveryHost(WRITER), ["0", "0", "0"]);
  assert.deepEqual(await aclOnEveryHost(READER), ["1", "1", "1"]);
  assert.deepEqual((await engine.details(VOLUME, BLOCK)).initiators, [WRITER, READER]);
  for (const host of HOSTS) assert.deepEqual((await engine.targetStatus(VOLUME, BLOCK)).find((r) => r.host === host)?.matches, true);
});

test("the same access again changes nothing: no journal line, no configfs write", async () => {
  await engine.setInitiatorAccess({ volume: VOLUME, block: BLOCK, initiator: READER, allow: true, readOnly: true });
  await engine.setInitiatorAccess({ volume: VOLUME, block: BLOCK, initiator: READER2, allow: true, readOnly: true });
  const before = await journal();
  const ops = mutations();
  await engine.setInitiatorAccess({ volume: VOLUME, block: BLOCK, initiator: READER, allow: true, readOnly: true });
  assert.equal(await journal(), before);
  assert.equal(mutations(), ops);
  assert.deepEqual(await aclOnEveryHost(READER2), ["1", "1", "1"]);
});

test("a change of mode moves the initiator between the lists in one journal line and rewrites only write_protect", async () => {
  await engine.setInitiatorAccess({ volume: VOLUME, block: BLOCK, initiator: READER, allow: true, readOnly: true });
  const lines = (await journal()).split("\n").length;
  const ops = [...hosts.values()].map((h) => h.fs.ops.length);
  await engine.setInitiatorAccess({ volume: VOLUME, block: BLOCK, initiator: READER, allow: true, readOnly: false });
  assert.deepEqual(await aclOnEveryHost(READER), ["0", "0", "0"]);
  const ext = readExtensions((await store.readMeta(BLOCK)) ?? assert.fail("no journal"));
  assert.deepEqual([ext.initiators, ext.readOnlyInitiators], [[READER], []]);
  assert.equal((await journal()).split("\n").length, lines + 2, "INITIATORS and ROINITIATORS, appended together");
  // every host holds a TPG per HA host (its own enabled): each ACL's mapping stays, only its mode is written
  const want = HOSTS.map((_, t) => `write ${ROOT}/iscsi/${IQN}/tpgt_${t + 1}/acls/${READER}/lun_0/write_protect`);
  [...hosts.values()].forEach((h, i) => assert.deepEqual(h.fs.ops.slice(ops[i]), want, `host ${HOSTS[i]}`));
});

test("revoking removes a read-only initiator from the journal and every host", async () => {
  await engine.setInitiatorAccess({ volume: VOLUME, block: BLOCK, initiator: READER, allow: true, readOnly: true });
  await engine.setInitiatorAccess({ volume: VOLUME, block: BLOCK, initiator: READER, allow: false });
  assert.deepEqual(await aclOnEveryHost(READER), [undefined, undefined, undefined]);
  const d = await engine.details(VOLUME, BLOCK);
  assert.deepEqual([d.initiators, d.readOnlyInitiators], [[], []]);
});

test("a host whose LIO lost the write protection is reported as differing, and its apply protects the LUN again", async () => {
  await engine.setInitiatorAccess({ volume: VOLUME, block: BLOCK, initiator: READER, allow: true, readOnly: true });
  const h2 = hosts.get(HOSTS[1]);
  assert.ok(h2);
  await h2.fs.write(`${tpgOf(HOSTS[1])}/acls/${READER}/lun_0/write_protect`, "0");
  const status = await engine.targetStatus(VOLUME, BLOCK);
  const bad = status.find((r) => r.host === HOSTS[1]);
  assert.equal(bad?.matches, false);
  assert.match(bad?.detail ?? "", new RegExp(`acl ${READER} read-write`));
  assert.ok(status.filter((r) => r.host !== HOSTS[1]).every((r) => r.matches));
  await engine.reload({ volume: VOLUME, block: BLOCK });
  assert.deepEqual(await aclOnEveryHost(READER), ["1", "1", "1"]);
});

test("a journal naming an initiator in both lists (written by hand) maps it read-only", async () => {
  await store.append(BLOCK, extLine("INITIATORS", `${WRITER} ${READER}`) + extLine("ROINITIATORS", READER));
  await engine.reload({ volume: VOLUME, block: BLOCK });
  assert.deepEqual(await aclOnEveryHost(READER), ["1", "1", "1"]);
  assert.deepEqual(await aclOnEveryHost(WRITER), ["0", "0", "0"]);
});
