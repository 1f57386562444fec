// Adoption of blocks made by the original gluster-block 0.5.1: its journals
// (test/fixtures/journal, recorded in the lab) and its LIO as it leaves it
// (generated ACLs, TPG per HA host in the create's host order, tpg-auth with
// userid = GBID: shared/research/gluster-block-samples/targetcli-ls-a1.txt),
// turned into per-initiator ACLs without refusing a live session. Three
// LocalNodes over a temp directory laid out as a hosting volume, each with
// its own configfs imitation, whose login() admits as the kernel does.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { extLine, readExtensions } from "../../../../src/glusterblock/engine/extensions.js";
import { ConfigfsLioTargets } from "../../../../src/glusterblock/lio/configfs-lio-targets.js";
import { iqnFor, wwidFor } from "../../../../src/identity/names.js";
import { BlockNotFoundError, HostUnreachableError, InvalidRequestError, PartialFailureError, PreconditionError } from "../../../../src/glusterblock/errors.js";
import { hostLine } from "../../../../src/glusterblock/journal/index.js";
import { gbidFor } from "../../../doubles/names.js";
import { CONFIGFS_ROOT as ROOT, localEngine, seedCsiBlock, seedOriginalBlock, type LocalEngine } from "../../../helpers/local-engine.js";

const VOLUME = "block-test";
/** the create's host order: the original's TPG order (tpg1 = .11); its journal's host lines are in thread order */
const TPG_ORDER = ["10.213.0.11", "10.213.0.12", "10.213.0.13"] as const;
const PASSWORD = "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f";
const N1 = "iqn.1994-05.com.redhat:node1";
const N2 = "iqn.1994-05.com.redhat:node2";
const N3 = "iqn.1994-05.com.redhat:node3";
const STRANGER = "iqn.1994-05.com.redhat:stranger";

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/journal/${name}.txt`, import.meta.url), "utf8");
/** t1: no auth, PRIOPATH .13, host lines 13, 12, 11; a1: CHAP, PRIOPATH .11 */
const SAMPLES = {
  t1: { journal: fixture("after-create-t1"), gbid: "1bcc8980-5c86-4fc6-a2bb-b185786f3a5f", prio: "10.213.0.13", password: "" },
  a1: { journal: fixture("after-create-a1"), gbid: "741d7e15-7fc9-4aa3-82b8-bd5c5298b65e", prio: "10.213.0.11", password: PASSWORD },
} as const;
type Sample = keyof typeof SAMPLES;

let local: LocalEngine;
let crashAfter: string | undefined;
let onStep: ((step: string) => void | Promise<void>) | undefined;
const steps: string[] = [];

class Crash extends Error {}

before(async () => {
  local = await localEngine(VOLUME, TPG_ORDER, "gb-adopt-", {
    faults: {
      async afterStep(step) {
        steps.push(step);
        await onStep?.(step);
        if (step === crashAfter) {
          crashAfter = undefined;
          throw new Crash(`stopped after ${step}`);
        }
      },
    },
  });
});

after(async () => {
  await local.cleanup();
});

beforeEach(() => {
  crashAfter = undefined;
  onStep = undefined;
  steps.length = 0;
  local.peers.down.clear();
});

const seedOriginal = (name: Sample): Promise<{ gbid: string; iqn: string }> =>
  seedOriginalBlock(local, name, { ...SAMPLES[name], sizeBytes: 1073741824, tpgOrder: TPG_ORDER });

const fsOf = (host: string) => local.hosts.get(host)?.fs ?? assert.fail(`no host ${host}`);
const tagOf = (host: string): number => TPG_ORDER.indexOf(host as (typeof TPG_ORDER)[number]) + 1;
/** an initiator's login to one host's own TPG */
const login = (iqn: string, host: string, initiator: string): boolean => fsOf(host).login(iqn, tagOf(host), initiator);
/** what a host's LIO holds, the random names of LUN links aside */
const lioOf = (host: string): string =>
  fsOf(host)
    .userObjects()
    .map((p) => p.replace(/\/[0-9a-f]{10}@$/, "/<link>@"))
    .join("\n");
const mutations = (): number => [...local.hosts.values()].reduce((n, h) => n + h.fs.ops.length, 0);
const journal = async (name: string): Promise<string> => (await local.store.readRaw(name)) ?? "";
const attrib = async (host: string, iqn: string, attr: string): Promise<string> =>
  (await fsOf(host).read(`${ROOT}/iscsi/${iqn}/tpgt_${tagOf(host)}/attrib/${attr}`)).trim();

test("a 0.5.1 block with CHAP: the initiators logged in go into INITIATORS, generated ACLs go, identity and credentials stay", async () => {
  const { gbid, iqn } = await seedOriginal("a1");
  assert.equal(login(iqn, "10.213.0.11", N1), true, "0.5.1's generated ACLs admit anyone (with the CHAP secret)");
  assert.equal(login(iqn, "10.213.0.12", N1), true);
  assert.equal(login(iqn, "10.213.0.13", N2), true);
  const r = await local.engine.adopt({ volume: VOLUME, block: "a1", initiators: [N3], dryRun: false });

  assert.equal(r.outcome, "adopted");
  assert.deepEqual([r.gbid, r.iqn, r.wwid, r.sizeBytes, r.auth], [gbid, iqn, wwidFor(gbid), 1073741824n, true]);
  assert.deepEqual(r.hosts, [...TPG_ORDER]);
  assert.deepEqual(
    r.portals,
    TPG_ORDER.map((h) => `${h}:3260`),
  );
  assert.deepEqual(r.initiators, [N1, N2, N3]);
  assert.deepEqual(r.sessions, [
    { host: "10.213.0.11", initiators: [N1] },
    { host: "10.213.0.12", initiators: [N1] },
    { host: "10.213.0.13", initiators: [N2] },
  ]);
  const meta = (await local.store.readMeta("a1")) ?? assert.fail("no journal");
  const ext = readExtensions(meta);
  assert.deepEqual([ext.aclMode, ext.hosts, ext.initiators], ["EXPLICIT", [...TPG_ORDER], [N1, N2, N3]]);
  assert.deepEqual([meta.gbid, meta.password, meta.prioPath], [gbid, PASSWORD, "10.213.0.11"], "identity and CHAP secret unchanged");
  // the journal's original lines are all still there, ours appended after them
  assert.ok((await journal("a1")).startsWith(SAMPLES.a1.journal.replace("PASSWORD: <PASSWORD>", `PASSWORD: ${PASSWORD}`)));

  for (const host of TPG_ORDER) {
    assert.equal(await attrib(host, iqn, "generate_node_acls"), "0", `${host}: generated ACLs off`);
    assert.equal(await attrib(host, iqn, "cache_dynamic_acls"), "0", `${host}: no dynamic ACL kept`);
    // the switch made each TPG again (LIO keeps a hidden ACL for every initiator generated ACLs let in): its sessions closed
    assert.deepEqual(fsOf(host).sessionsOn(iqn, tagOf(host)), []);
    assert.deepEqual(fsOf(host).dynamicAclsOn(iqn, tagOf(host)), []);
    // every initiator let in logs in again after a path failure; anyone else is refused
    for (const i of [N1, N2, N3]) assert.equal(login(iqn, host, i), true, `${i} on ${host}`);
    assert.equal(login(iqn, host, STRANGER), false, `a stranger with the CHAP secret is refused on ${host}`);
    const userid = await fsOf(host).read(`${ROOT}/iscsi/${iqn}/tpgt_${tagOf(host)}/acls/${N1}/auth/userid`);
    assert.equal(userid.trim(), gbid, "the ACLs keep CHAP with userid = GBID");
  }
  assert.equal((await local.engine.details(VOLUME, "a1")).aclSynced, true, "the ACL proof names this journal");
});

test("the TPG order is LIO's, not the journal's host order: no TPG moves to another portal", async () => {
  const { iqn } = await seedOriginal("t1");
  assert.equal(login(iqn, "10.213.0.11", N1), true);
  const r = await local.engine.adopt({ volume: VOLUME, block: "t1", initiators: [], dryRun: false });
  assert.deepEqual(r.hosts, [...TPG_ORDER], "t1's journal lists .13 first; its tpg1 is .11");
  assert.equal(r.auth, false);
  assert.match(await journal("t1"), /^HOSTS: 10\.213\.0\.11 10\.213\.0\.12 10\.213\.0\.13$/m);
  for (const host of TPG_ORDER)
    assert.deepEqual(await fsOf(host).readdir(`${ROOT}/iscsi/${iqn}/tpgt_1/np`), ["10.213.0.11:3260"], `${host}: tpg1 is still .11`);
  assert.equal(login(iqn, "10.213.0.11", N1), true, "the initiator logged in at the survey logs in again through its ACL");
});

test("adopting an adopted block changes nothing and asks no host", async () => {
  await seedOriginal("a1");
  await local.engine.adopt({ volume: VOLUME, block: "a1", initiators: [N1], dryRun: false });
  const before = await journal("a1");
  const ops = mutations();
  local.peers.calls.length = 0;
  const again = await local.engine.adopt({ volume: VOLUME, block: "a1", initiators: [N1], dryRun: false });
  assert.equal(again.outcome, "already-adopted");
  assert.deepEqual(again.initiators, [N1]);
  assert.deepEqual(again.changes, []);
  assert.equal(await journal("a1"), before);
  assert.equal(mutations(), ops);
  assert.deepEqual(local.peers.calls, []);
  // a dry run of it says the same
  assert.equal((await local.engine.adopt({ volume: VOLUME, block: "a1", initiators: [], dryRun: true })).outcome, "already-adopted");
});

test("a dry run lists every change and makes none", async () => {
  const { iqn } = await seedOriginal("a1");
  login(iqn, "10.213.0.12", N1);
  const before = await journal("a1");
  const ops = mutations();
  const r = await local.engine.adopt({ volume: VOLUME, block: "a1", initiators: [N2], dryRun: true });
  assert.equal(r.outcome, "dry-run");
  assert.deepEqual(r.initiators, [N1, N2]);
  assert.deepEqual(r.changes, [
    "journal: HOSTS 10.213.0.11 10.213.0.12 10.213.0.13 (the TPG order LIO holds)",
    `journal: INITIATORS + ${N1} (logged in to 10.213.0.12)`,
    `journal: INITIATORS + ${N2} (named by the caller)`,
    "journal: ACLMODE EXPLICIT (per-initiator ACLs; was generated ACLs)",
    `LIO on 10.213.0.11: generate_node_acls 1 -> 0 (each TPG made again: LIO keeps a hidden ACL for every initiator generated ACLs let in), ACLs ${N1}, ${N2}`,
    `LIO on 10.213.0.12: generate_node_acls 1 -> 0 (each TPG made again: LIO keeps a hidden ACL for every initiator generated ACLs let in), ACLs ${N1}, ${N2}`,
    `LIO on 10.213.0.13: generate_node_acls 1 -> 0 (each TPG made again: LIO keeps a hidden ACL for every initiator generated ACLs let in), ACLs ${N1}, ${N2}`,
  ]);
  assert.equal(await journal("a1"), before);
  assert.equal(mutations(), ops);
  assert.equal(login(iqn, "10.213.0.11", STRANGER), true, "still generated ACLs");
});

/** a refusal: the error, and nothing changed in the journal or any host's LIO */
async function refused(name: Sample, req: { initiators?: string[] }, want: (e: unknown) => boolean): Promise<void> {
  const before = await journal(name);
  const ops = mutations();
  await assert.rejects(local.engine.adopt({ volume: VOLUME, block: name, initiators: req.initiators ?? [], dryRun: false }), want);
  assert.equal(await journal(name), before, "journal unchanged");
  assert.equal(mutations(), ops, "LIO unchanged");
}

const precondition =
  (re: RegExp) =>
  (e: unknown): boolean =>
    e instanceof PreconditionError && re.test(e.message) && /nothing was changed/.test(e.message);

test("refused with the reason and nothing changed: keys neither writer knows, unsettled hosts, a host down, LIO that disagrees", async () => {
  await seedOriginal("a1");
  await local.store.append("a1", "SNAPSHOT: 2\n");
  await refused("a1", {}, precondition(/keys neither gluster-block 0\.5\.x nor this driver writes \(SNAPSHOT\)/));

  await seedOriginal("a1");
  await local.store.append("a1", hostLine("10.213.0.12", "AUTHENFORCEFAIL"));
  await refused("a1", {}, precondition(/failed or is in progress on 10\.213\.0\.12 \(AUTHENFORCEFAIL\)/));

  await seedOriginal("a1");
  await local.store.append("a1", "SIZE: 2147483648\n" + hostLine("10.213.0.11", "RSINPROGRESS", 2147483648n));
  await refused("a1", {}, precondition(/in progress on 10\.213\.0\.11 \(RSINPROGRESS\)/));

  await seedOriginal("a1");
  await local.store.append("a1", "ENTRYDELETE: INPROGRESS\n");
  await refused("a1", {}, precondition(/being deleted/));

  await seedOriginal("a1");
  local.peers.down.add("10.213.0.13");
  await refused("a1", {}, (e) => e instanceof HostUnreachableError && /10\.213\.0\.13/.test(e.message) && /nothing was changed/.test(e.message));
  local.peers.down.clear();

  // a host whose LIO lost the target (a reboot not yet reconciled)
  const { iqn } = await seedOriginal("a1");
  await new ConfigfsLioTargets({ root: ROOT, fs: fsOf("10.213.0.12") }).remove({ name: "a1", iqn });
  await refused("a1", {}, precondition(/10\.213\.0\.12's LIO has no target for it; run `gluster-block reload block-test\/a1` first/));

  await seedOriginal("a1");
  await refused("a1", { initiators: ["not-an-iqn"] }, (e) => e instanceof InvalidRequestError && /"not-an-iqn"/.test(e.message));
  await assert.rejects(local.engine.adopt({ volume: VOLUME, block: "nope", initiators: [], dryRun: false }), BlockNotFoundError);
});

test("a block with per-initiator ACLs already: adopt lets no one new in (that is ControllerPublish's)", async () => {
  const gbid = gbidFor(VOLUME, "csi");
  await seedCsiBlock(local, { volume: VOLUME, block: "csi", gbid });
  await local.engine.setInitiatorAccess({ volume: VOLUME, block: "csi", initiator: N1, allow: true });
  const before = await journal("csi");
  await assert.rejects(
    local.engine.adopt({ volume: VOLUME, block: "csi", initiators: [N2], dryRun: false }),
    (e: unknown) => e instanceof PreconditionError && /adopted already, and iqn\.1994-05\.com\.redhat:node2 is not let in/.test(e.message),
  );
  assert.equal(await journal("csi"), before);
  // the initiators it lets in already: nothing to do
  assert.equal((await local.engine.adopt({ volume: VOLUME, block: "csi", initiators: [N1], dryRun: false })).outcome, "already-adopted");

  // an unpublish not converged on one host leaves a session through an ACL the journal no longer names: never let back in
  await local.store.append("csi", extLine("INITIATORS", ""));
  assert.equal(login(iqnFor(gbid), "10.213.0.11", N1), true);
  const r = await local.engine.adopt({ volume: VOLUME, block: "csi", initiators: [], dryRun: false });
  assert.deepEqual(r.initiators, []);
  assert.equal(login(iqnFor(gbid), "10.213.0.11", N1), false, "the revocation converged: N1 is refused");
});

test("a login between the survey and the switch is cut by it and not let in: only the initiators named or surveyed are", async () => {
  const { iqn } = await seedOriginal("a1");
  login(iqn, "10.213.0.11", N1);
  onStep = (step) => {
    // after the intent, before any host converged: the hosts still admit anyone
    if (step === "journal:adopt-intent") assert.equal(login(iqn, "10.213.0.13", N2), true);
  };
  const r = await local.engine.adopt({ volume: VOLUME, block: "a1", initiators: [], dryRun: false });
  assert.deepEqual(r.initiators, [N1]);
  assert.ok(!steps.includes("journal:adopt-late"), "no session outlives the switch: each TPG was made again");
  for (const host of TPG_ORDER) {
    assert.equal(login(iqn, host, N2), false, `${N2} is refused on ${host}: adopt again naming it to let it in`);
    assert.equal(login(iqn, host, N1), true, `${N1} logs in again on ${host}`);
  }
  assert.equal((await local.engine.details(VOLUME, "a1")).aclSynced, true);
});

test("a host that fails to converge: the adoption answers a partial failure, and a retry finishes it", async () => {
  const { iqn } = await seedOriginal("a1");
  login(iqn, "10.213.0.12", N1);
  fsOf("10.213.0.13").crashAt = fsOf("10.213.0.13").ops.length;
  await assert.rejects(local.engine.adopt({ volume: VOLUME, block: "a1", initiators: [], dryRun: false }), PartialFailureError);
  fsOf("10.213.0.13").crashAt = undefined;
  assert.equal(login(iqn, "10.213.0.13", N1), true, "the host not converged still admits the initiator");
  assert.equal((await local.engine.adopt({ volume: VOLUME, block: "a1", initiators: [], dryRun: false })).outcome, "adopted");
  assert.equal(await attrib("10.213.0.13", iqn, "generate_node_acls"), "0");
});

// The fault matrix: the coordinator stopped after each durable step of an
// adoption (as a killed blockd), then adopt run again. At every step the
// initiator logged in can log in again on every host, and the retry ends
// where an adoption never stopped ends.
test("fault matrix: stopped after every step, the retry converges and no live initiator is ever refused", async () => {
  const { iqn } = await seedOriginal("a1");
  login(iqn, "10.213.0.11", N1);
  await local.engine.adopt({ volume: VOLUME, block: "a1", initiators: [N2], dryRun: false });
  const all = [...new Set(steps)];
  assert.ok(all.length >= 5, `steps: ${all.join(", ")}`);
  const want = { journal: await journal("a1"), lio: TPG_ORDER.map(lioOf) };

  for (const step of all) {
    const seeded = await seedOriginal("a1");
    login(seeded.iqn, "10.213.0.11", N1);
    onStep = () => {
      for (const host of TPG_ORDER) assert.equal(login(seeded.iqn, host, N1), true, `after ${step}: ${N1} refused on ${host}`);
    };
    crashAfter = step;
    await assert.rejects(local.engine.adopt({ volume: VOLUME, block: "a1", initiators: [N2], dryRun: false }), Crash, step);
    const r = await local.engine.adopt({ volume: VOLUME, block: "a1", initiators: [N2], dryRun: false });
    assert.ok(r.outcome === "adopted" || r.outcome === "already-adopted", `${step}: ${r.outcome}`);
    assert.equal(await journal("a1"), want.journal, `stopped after ${step}: the journal`);
    assert.deepEqual(TPG_ORDER.map(lioOf), want.lio, `stopped after ${step}: every host's LIO`);
    assert.equal((await local.engine.details(VOLUME, "a1")).aclSynced, true, `stopped after ${step}: the ACL proof`);
    for (const host of TPG_ORDER) assert.equal(login(seeded.iqn, host, STRANGER), false, `stopped after ${step}: fencing on ${host}`);
  }
});
