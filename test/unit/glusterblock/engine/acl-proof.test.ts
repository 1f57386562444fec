// The ACL proof (engine/acl-sync.ts): what lets ControllerUnpublish answer a
// repeated unpublish from GetBlock alone. The journal's lists are written
// before the hosts converge, so only the proof says no exporting host lets
// in an initiator they leave out. Each test here would fail if the proof
// could be stale: an ACL still on a host while GetBlock says acl_synced.
// The engine over three LocalNodes (test/helpers/local-engine.ts), its steps
// seen by a faults hook that can stop it where a crash would.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { readdir, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BlockEngine } from "../../../../src/glusterblock/engine/block-engine.js";
import { aclProofFor, aclSynced } from "../../../../src/glusterblock/engine/acl-sync.js";
import { extLine } from "../../../../src/glusterblock/engine/extensions.js";
import { PartialFailureError } from "../../../../src/glusterblock/errors.js";
import { ACL_PROOF_DIR, META_DIR, type BlockStore } from "../../../../src/glusterblock/volume/block-store.js";
import { createDoneLines, createIntentLines, hostLine, parseJournal } from "../../../../src/glusterblock/journal/index.js";
import { iqnFor } from "../../../../src/identity/names.js";
import { gbidFor } from "../../../doubles/names.js";
import { CONFIGFS_ROOT as ROOT, localEngine, seedCsiBlock, type LocalEngine, type LocalHost } from "../../../helpers/local-engine.js";

const VOLUME = "block-test";
const BLOCK = "b0";
const HOSTS = ["10.213.0.11", "10.213.0.12", "10.213.0.13"] as const;
const GBID = gbidFor(VOLUME, BLOCK);
const IQN = iqnFor(GBID);
const WRITER = "iqn.2004-10.com.ubuntu:01:writer1";
const READER = "iqn.2004-10.com.ubuntu:01:reader1";

class Crash extends Error {}

let local: LocalEngine;
let store: BlockStore;
let engine: BlockEngine;
let hosts: Map<string, LocalHost>;
/** every step the engine reported since the test began */
let steps: string[] = [];
/** the step after which the engine stops, as a crashed coordinator would */
let crashAfter: string | undefined;

before(async () => {
  local = await localEngine(VOLUME, HOSTS, "gb-aclproof-", {
    faults: {
      afterStep(step) {
        steps.push(step);
        if (step === crashAfter) throw new Crash(`crashed after ${step}`);
      },
    },
  });
  ({ store, engine, hosts } = local);
});

after(async () => {
  await local.cleanup();
});

beforeEach(async () => {
  steps = [];
  crashAfter = undefined;
  local.peers.down.clear();
  // a CSI block (explicit ACLs) exported on all three hosts, no initiator let in yet
  await seedCsiBlock(local, { volume: VOLUME, block: BLOCK, gbid: GBID });
});

const journal = async (): Promise<string> => (await store.readRaw(BLOCK)) ?? "";
const synced = async (): Promise<boolean> => (await engine.details(VOLUME, BLOCK)).aclSynced;
const allow = (initiator: string, on = true) => engine.setInitiatorAccess({ volume: VOLUME, block: BLOCK, initiator, allow: on });

/** whether each host's own TPG has an ACL for the initiator */
async function letIn(initiator: string): Promise<boolean[]> {
  return Promise.all(
    HOSTS.map(async (host, t) => {
      const h = hosts.get(host);
      assert.ok(h);
      return (await h.fs.kind(`${ROOT}/iscsi/${IQN}/tpgt_${t + 1}/acls/${initiator}`)) === "dir";
    }),
  );
}

/** What GetBlock's answer claims must be true of LIO: an initiator the lists leave out is in no exporting host's ACL. */
async function assertNotFalselyProven(initiator: string): Promise<void> {
  const d = await engine.details(VOLUME, BLOCK);
  if (d.aclSynced && !d.initiators.includes(initiator)) assert.deepEqual(await letIn(initiator), [false, false, false], "proven, so no host may let it in");
}

test("an access change that converged every host writes the proof beside the journal, never in it; a repeat writes nothing", async () => {
  assert.equal(await synced(), false, "a new block: no access change converged yet");
  const before = await journal();
  await allow(WRITER);
  assert.equal(await synced(), true);
  // the journal got the intent and nothing else: the original reads no new key as a host
  assert.equal(await journal(), before + extLine("INITIATORS", WRITER));
  assert.deepEqual(await readdir(join(store.root, ACL_PROOF_DIR)), [BLOCK]);
  assert.deepEqual(await store.listNames(), [BLOCK], "the proofs' directory is no block (the original skips dot names too)");
  assert.ok((await readdir(join(store.root, META_DIR))).includes(".acl-synced"));

  await allow(WRITER, false);
  assert.equal(await synced(), true);
  assert.deepEqual(await letIn(WRITER), [false, false, false]);
  steps = [];
  const proof = await store.readAclProof(BLOCK);
  const j = await journal();
  await allow(WRITER, false);
  await engine.reload({ volume: VOLUME, block: BLOCK });
  assert.equal(await journal(), j, "a repeated unpublish and a reload append nothing");
  assert.equal(await store.readAclProof(BLOCK), proof);
  assert.ok(!steps.includes("acl-proof:written"), "nor write the proof again");
});

test("a host that cannot be reached during an unpublish: the journal no longer names the initiator, that host's LIO still does, and nothing is proven until a retry converges it", async () => {
  await allow(WRITER);
  assert.equal(await synced(), true, "the publish is proven");
  local.peers.down.add(HOSTS[1]);
  await assert.rejects(allow(WRITER, false), PartialFailureError);
  local.peers.down.clear();
  const d = await engine.details(VOLUME, BLOCK);
  assert.deepEqual(d.initiators, [], "the journal's intent: revoked");
  assert.deepEqual(await letIn(WRITER), [false, true, false], "the unreachable host still lets it in");
  assert.equal(d.aclSynced, false, "so the publish's proof no longer holds");
  await assertNotFalselyProven(WRITER);
  await allow(WRITER, false);
  assert.deepEqual(await letIn(WRITER), [false, false, false]);
  assert.equal(await synced(), true);
});

test("a coordinator that dies after the intent, before any host converged: every host still lets the initiator in, and the publish's proof is void", async () => {
  await allow(WRITER);
  assert.equal(await synced(), true);
  crashAfter = "journal:initiators";
  await assert.rejects(allow(WRITER, false), Crash);
  crashAfter = undefined;
  assert.deepEqual((await engine.details(VOLUME, BLOCK)).initiators, []);
  assert.deepEqual(await letIn(WRITER), [true, true, true]);
  assert.equal(await synced(), false);
  await assertNotFalselyProven(WRITER);
  // the retry (the attacher's) finishes it
  await allow(WRITER, false);
  assert.deepEqual(await letIn(WRITER), [false, false, false]);
  assert.equal(await synced(), true);
});

test("a coordinator that dies after one host converged, or after all of them but before the proof: nothing proven", async () => {
  for (const step of [`lio-apply:${HOSTS[0]}`, "access:converged"]) {
    await allow(WRITER);
    crashAfter = step;
    await assert.rejects(allow(WRITER, false), Crash, step);
    crashAfter = undefined;
    assert.equal(await synced(), false, `crash after ${step}`);
    await assertNotFalselyProven(WRITER);
    await allow(WRITER, false);
    assert.equal(await synced(), true, `retried after ${step}`);
  }
});

test("a proof write cut short proves nothing: empty, or any prefix of the proof", async () => {
  await allow(WRITER);
  await allow(WRITER, false);
  const proof = (await store.readAclProof(BLOCK)) ?? assert.fail("no proof");
  const meta = (await store.readMeta(BLOCK)) ?? assert.fail("no journal");
  assert.equal(aclSynced(meta, proof), true);
  for (let n = 0; n < proof.trimEnd().length; n++) assert.equal(aclSynced(meta, proof.slice(0, n)), false, `the first ${n} bytes`);
  for (const junk of ["", "\0\0\0\0", "null", "[]", "{}", '"x"']) {
    await writeFile(store.aclProofPath(BLOCK), junk);
    assert.equal(await synced(), false, JSON.stringify(junk));
  }
});

test("any line appended after the proof voids it, whoever wrote it: an older blockd changing the lists and back, the original's host lines", async () => {
  await allow(WRITER);
  await allow(WRITER, false);
  assert.equal(await synced(), true);
  // an older blockd lets READER in and dies before any host converged; another revokes it: the lists as they were
  await store.append(BLOCK, extLine("ROINITIATORS", READER));
  assert.equal(await synced(), false);
  await store.append(BLOCK, extLine("ROINITIATORS", ""));
  assert.equal(await synced(), false, "by the journal's lines, not the lists' value");
  await engine.reload({ volume: VOLUME, block: BLOCK });
  assert.equal(await synced(), true, "a reload that converged every host proves it again");
  // the original 0.5.1's modify auth (it neither knows nor takes our lock)
  await store.append(BLOCK, hostLine(HOSTS[0], "AUTHENFORCEING"));
  assert.equal(await synced(), false);
  // a torn append: someone was writing
  await engine.reload({ volume: VOLUME, block: BLOCK });
  assert.equal(await synced(), true);
  await store.append(BLOCK, "INITIATORS: iqn.2004-10.com.ubuntu:01:wri");
  assert.equal(await synced(), false);
});

test("a proof written late, by a coordinator whose lock was lost, names the journal it converged to and proves nothing of a later one", async () => {
  await allow(WRITER);
  const converged = (await store.readMeta(BLOCK)) ?? assert.fail("no journal");
  // another coordinator: the unpublish's intent, then a host it could not reach
  local.peers.down.add(HOSTS[2]);
  await assert.rejects(allow(WRITER, false), PartialFailureError);
  local.peers.down.clear();
  assert.deepEqual(await letIn(WRITER), [false, false, true]);
  // the first one wakes and writes its proof
  await store.writeAclProof(BLOCK, aclProofFor(converged, [...HOSTS]));
  assert.equal(await synced(), false);
  await assertNotFalselyProven(WRITER);
});

test("a proof that does not name every host exporting the block proves nothing", async () => {
  await allow(WRITER);
  const meta = (await store.readMeta(BLOCK)) ?? assert.fail("no journal");
  await store.writeAclProof(BLOCK, aclProofFor(meta, [HOSTS[0], HOSTS[2]]));
  assert.equal(await synced(), false);
  await store.writeAclProof(BLOCK, aclProofFor(meta, [...HOSTS]));
  assert.equal(await synced(), true);
});

test("a proof of another block of the same name (deleted and made again) proves nothing; a delete removes the proof with the journal", async () => {
  await allow(WRITER);
  const old = (await store.readAclProof(BLOCK)) ?? assert.fail("no proof");
  await engine.delete({ volume: VOLUME, block: BLOCK, unlinkStorage: true, force: false, missingOk: false });
  assert.equal(await store.readAclProof(BLOCK), undefined, "gone with its journal");
  // made again under the same name, with its own GBID, the initiator let in again, and the old proof put back
  assert.equal(await store.readRaw(BLOCK), undefined);
  const gbid2 = gbidFor(VOLUME, "b0-again");
  await store.append(
    BLOCK,
    createIntentLines({ volume: VOLUME, gbid: gbid2, ha: 3, prioPath: HOSTS[0] }) + extLine("HOSTS", HOSTS.join(" ")) + extLine("ACLMODE", "EXPLICIT"),
  );
  await store.append(BLOCK, createDoneLines({ sizeBytes: 16n * 1024n * 1024n }) + HOSTS.map((h) => hostLine(h, "CONFIGSUCCESS")).join(""));
  await store.append(BLOCK, extLine("INITIATORS", WRITER));
  await store.writeAclProof(BLOCK, old);
  assert.equal(await synced(), false);
  // the GBID is checked apart from the digest
  const meta = parseJournal(BLOCK, await journal());
  const otherGbid = JSON.stringify({ ...(JSON.parse(aclProofFor(meta, [...HOSTS])) as object), gbid: GBID });
  assert.equal(aclSynced(meta, aclProofFor(meta, [...HOSTS])), true);
  assert.equal(aclSynced(meta, otherGbid), false);
  // a journal removed by another hand (the original's delete): our delete of the missing block still takes the proof away
  await unlink(store.metaPath(BLOCK));
  assert.ok(await store.readAclProof(BLOCK));
  await engine.delete({ volume: VOLUME, block: BLOCK, unlinkStorage: true, force: false, missingOk: true });
  assert.equal(await store.readAclProof(BLOCK), undefined);
});

test("generated ACLs (a CLI block) are never proven and get no proof: there are no per-initiator ACLs to speak of", async () => {
  await store.append(BLOCK, extLine("ACLMODE", "GENERATED"));
  await allow(WRITER, false);
  await engine.reload({ volume: VOLUME, block: BLOCK });
  assert.equal(await synced(), false);
  assert.equal(await store.readAclProof(BLOCK), undefined);
  // a proof made while the ACLs were explicit, for this very journal, still proves nothing
  const meta = (await store.readMeta(BLOCK)) ?? assert.fail("no journal");
  assert.equal(aclSynced(meta, aclProofFor(meta, [...HOSTS])), false);
});

test("ListBlocks' details do not read the proofs (acl_synced false there); GetBlock does", async () => {
  await allow(WRITER);
  const listed = await engine.listDetails(VOLUME);
  assert.deepEqual(
    listed.details.map((d) => [d.meta.name, d.aclSynced]),
    [[BLOCK, false]],
  );
  assert.equal(await synced(), true);
});
