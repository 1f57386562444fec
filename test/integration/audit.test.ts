// The orphan audit (issue 9) on a volume dirtied by hand, for real: each kind
// of orphan made the way it happens (files and journals removed on the
// volume, LIO objects removed or left half-made on a node, operations stopped
// part-way by the engine's fault hook), beside healthy blocks. A dry run
// finds each and changes nothing; a fix repairs each with one log line; the
// next audit finds nothing; the healthy blocks are untouched.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { appendFile, readFile, rm, writeFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { startEngineCluster, type EngineCluster, type EngineNode } from "./harness/engine-cluster.js";
import { auditEveryNode, blockState, volumeSnapshot } from "./harness/volume-state.js";
import { ProcessPeers, SimulatedCrash, stopAfter } from "./harness/process-peers.js";
import { captureLog } from "../../lab/harness/log-capture.js";
import type { CreateRequest } from "../../src/glusterblock/engine/requests.js";
import type { Finding } from "../../src/glusterblock/engine/audit.js";
import { QUARANTINE_DIR } from "../../src/glusterblock/engine/audit.js";
import { iqnFor } from "../../src/identity/names.js";
import { META_DIR, STORE_DIR, ORPHAN_DIR } from "../../src/glusterblock/volume/block-store.js";

const MiB = 1024n * 1024n;
let c: EngineCluster;
let root: string;
let h1: string, h2: string, h3: string;

const req = (block: string, over: Partial<CreateRequest> = {}): CreateRequest => ({
  volume: c.volume,
  block,
  ha: 3,
  hosts: c.hosts,
  auth: false,
  prealloc: false,
  sizeBytes: 16n * MiB,
  aclMode: "GENERATED",
  owner: "",
  ...over,
});
const node = (h: string): EngineNode => {
  const n = c.nodes.get(h);
  if (!n) throw new Error(`no node ${h}`);
  return n;
};
const journal = (block: string): string => join(root, META_DIR, block);
/** block -> its GBID (random per create): read from its journal once, kept for after the journal is gone */
const gbids = new Map<string, string>();
async function gbidOf(block: string): Promise<string> {
  const known = gbids.get(block);
  if (known) return known;
  const g = /^GBID: (\S+)$/m.exec(await readFile(journal(block), "utf8"))?.[1];
  if (!g) throw new Error(`journal of ${block} names no GBID`);
  gbids.set(block, g);
  return g;
}
const file = async (block: string): Promise<string> => join(root, STORE_DIR, await gbidOf(block));
const key = (f: { kind: string; host: string; block: string }): string => `${f.kind} ${f.host || "-"} ${f.block}`;
const keys = (fs: Finding[]): string[] => [...new Set(fs.map(key))].sort();

/** One block's journal state, file, CHAP secret and LIO objects on each node (but `except`). */
async function stateOf(block: string, except?: string): Promise<unknown> {
  const s = await blockState(c, root, block);
  const gbid = await gbidOf(block);
  const lio: Record<string, unknown> = {};
  for (const [h, list] of Object.entries(s.lio as Record<string, { name?: string; gbid?: string }[]>)) {
    if (h !== except) lio[h] = list.filter((b) => b.name === block || b.gbid === gbid);
  }
  return { journal: s.journal, chap: s.chap, file: (s.files as Record<string, number>)[gbid], lio };
}

before(async () => {
  c = await startEngineCluster("audit-test");
  root = await c.mounts.ensure(c.volume);
  [h1, h2, h3] = c.hosts as [string, string, string];
});

after(async () => {
  await c?.down();
});

test("audit finds each kind of orphan, fixes each with one log line, then finds nothing; healthy blocks are untouched", { timeout: 10 * 60_000 }, async () => {
  const e = c.engine(1);
  const healthy = ["healthy-a", "healthy-b", "corrupt-live", "lost-target"];
  // healthy blocks: CSI-like (CHAP, explicit ACL with an initiator) and CLI-like (ha 2, generated ACLs)
  await e.create(req("healthy-a", { auth: true, aclMode: "EXPLICIT" }));
  await e.setInitiatorAccess({ volume: c.volume, block: "healthy-a", initiator: "iqn.2004-10.com.ubuntu:01:worker1", allow: true });
  await e.create(req("healthy-b", { ha: 2, hosts: [h2, h3] }));
  await e.create(req("corrupt-live", { auth: true }));
  await e.create(req("lost-target"));
  const before: Record<string, unknown> = {};
  for (const b of healthy) before[b] = await stateOf(b);
  assert.deepEqual(await auditEveryNode(c, false), [], "a clean volume");

  // 1. LIO objects with no journal: the journal and the file removed on the volume
  await e.create(req("orphan-lio"));
  const orphanFile = await file("orphan-lio");
  await rm(journal("orphan-lio"));
  await rm(orphanFile);
  // 2. a journal whose target is missing on one node
  await node(h2).lio.remove({ name: "lost-target", iqn: iqnFor(await gbidOf("lost-target")) });
  // 3. a backing file no journal names
  const stray = randomUUID();
  await writeFile(join(root, STORE_DIR, stray), "");
  // 4. a journal whose file is gone
  await e.create(req("lost-file"));
  await rm(await file("lost-file"));
  // 5. a create cut short after its first append and the file (the journal's first lines only)
  const halfGbid = randomUUID();
  gbids.set("half-created", halfGbid);
  await writeFile(
    journal("half-created"),
    `VOLUME: ${c.volume}\nGBID: ${halfGbid}\nHA: 3\nENTRYCREATE: INPROGRESS\nPRIOPATH: ${h1}\nHOSTS: ${c.hosts.join(" ")}\nACLMODE: GENERATED\nPREALLOC: NO\n`,
  );
  await writeFile(await file("half-created"), "");
  // 6. a create stopped after the first node's target was made (ENTRYCREATE: SUCCESS, hosts CONFIGINPROGRESS)
  {
    const peers = new ProcessPeers(c.peers);
    await assert.rejects(c.engine(1, { peers, faults: stopAfter(peers, `lio-apply:${h1}`) }).create(req("half-configured")), SimulatedCrash);
    await peers.idle();
  }
  // 7. a delete stopped after the first node's target was removed
  await e.create(req("half-deleted"));
  {
    const peers = new ProcessPeers(c.peers);
    await assert.rejects(
      c
        .engine(1, { peers, faults: stopAfter(peers, `lio-remove:${h1}`) })
        .delete({ volume: c.volume, block: "half-deleted", unlinkStorage: true, force: false, missingOk: true }),
      SimulatedCrash,
    );
    await peers.idle();
  }
  // 8. a journal that is not a journal, with no data
  await writeFile(journal("garbage"), "\u0000\u0000this is not a journal\n");
  // 9. a live block whose journal got a line no writer writes: reported, never "repaired"
  const liveText = await readFile(journal("corrupt-live"), "utf8");
  await appendFile(journal("corrupt-live"), "not a journal line\n");
  // 10. a backstore left half-made on node 3 (its LIO writes stopped before the WWN), no journal
  const n3 = node(h3);
  const crashGbid = randomUUID();
  n3.configfs.crashAt = n3.configfs.ops.length + 3;
  await assert.rejects(
    n3.lio.apply({
      name: "lio-crash",
      gbid: crashGbid,
      cfgstring: `${c.volume}@localhost/block-store/${crashGbid}`,
      sizeBytes: 16 * 1024 * 1024,
      iqn: iqnFor(crashGbid),
      hosts: [h3],
      localHost: h3,
      generateNodeAcls: true,
      acls: [],
    }),
    /simulated crash/,
  );
  n3.configfs.crashAt = undefined;
  assert.ok(
    (await n3.lio.list()).some((b) => b.name === "lio-crash" && !b.gbid),
    "a backstore with no WWN is left",
  );
  // 11. a target left on a node that is no longer a host: a replace whose clean-up of the old node failed
  await e.create(req("moved-away", { ha: 2, hosts: [h1, h2] }));
  node(h2).down = true;
  try {
    const r = await e.replace({ volume: c.volume, block: "moved-away", oldNode: h2, newNode: h3, force: false });
    assert.equal(r.outcome, "done");
    if (r.outcome === "done") assert.deepEqual([r.created, r.deleted], [true, false], "moved, but the old node's objects stayed");
  } finally {
    node(h2).down = false;
  }
  healthy.push("moved-away");
  before["moved-away"] = await stateOf("moved-away", h2);

  const expected = [
    ...c.hosts.map((h) => ({ kind: "lio-without-metadata", host: h, block: "orphan-lio" }) as const),
    { kind: "metadata-without-target", host: h2, block: "lost-target" },
    { kind: "file-without-metadata", host: "", block: stray },
    { kind: "metadata-without-file", host: "", block: "lost-file" },
    { kind: "create-incomplete", host: "", block: "half-created" },
    { kind: "create-incomplete", host: "", block: "half-configured" },
    { kind: "delete-incomplete", host: "", block: "half-deleted" },
    { kind: "journal-corrupt", host: "", block: "garbage" },
    { kind: "journal-corrupt", host: "", block: "corrupt-live" },
    { kind: "lio-without-metadata", host: h3, block: "lio-crash" },
    { kind: "lio-without-metadata", host: h2, block: "moved-away" },
  ] as const;

  // dry run: each found, with its kind, host and block; nothing changed
  const snap = await volumeSnapshot(c, root);
  const dry = await auditEveryNode(c, false);
  assert.deepEqual(keys(dry), expected.map(key).sort());
  assert.ok(dry.every((f) => !f.fixed));
  assert.equal(await volumeSnapshot(c, root), snap, "a dry run changes nothing");
  const liveFinding = dry.find((f) => f.block === "corrupt-live");
  assert.match(liveFinding?.detail ?? "", /kept/);

  // fix: each repaired or removed, one log line each; the live block with a corrupt journal is left for a human
  const cap = captureLog("info");
  const fixed = await auditEveryNode(c, true, cap.log);
  assert.deepEqual(keys(fixed), expected.map(key).sort(), "the fix run reports what it found");
  const done = fixed.filter((f) => f.fixed);
  assert.deepEqual(
    keys(done),
    expected
      .filter((f) => f.block !== "corrupt-live")
      .map(key)
      .sort(),
  );
  assert.equal(done.length, new Set(done.map(key)).size, "each fixed once");
  assert.ok(fixed.filter((f) => f.block === "corrupt-live").every((f) => !f.fixed));
  const fixLines = cap.lines
    .map((l) => JSON.parse(l) as { message: string; kind: string; host: string; block: string })
    .filter((l) => l.message === "audit fixed");
  assert.deepEqual(fixLines.map((l) => key(l)).sort(), done.map(key).sort(), "one log line per fix");

  // audit again: only the corrupt live journal, which waits for a human; repaired by hand, nothing
  assert.deepEqual(keys(await auditEveryNode(c, false)), ["journal-corrupt - corrupt-live"]);
  await writeFile(journal("corrupt-live"), liveText);
  assert.deepEqual(await auditEveryNode(c, false), [], "nothing left to find");

  // what was fixed is gone, or whole again
  for (const b of ["orphan-lio", "lost-file", "half-created", "half-configured", "half-deleted", "garbage"]) {
    const s = await blockState(c, root, b);
    assert.equal(s.journal, undefined, `${b}: no journal`);
  }
  const quarantined = await readdir(join(root, QUARANTINE_DIR));
  assert.equal(quarantined.filter((n) => n.startsWith("garbage.")).length, 1, "the unreadable journal is kept aside, not destroyed");
  const names = new Set<string>();
  for (const n of c.nodes.values()) for (const b of await n.lio.list()) names.add(`${b.name ?? "-"}@${n.host}`);
  assert.deepEqual(
    [...names].sort(),
    [
      ...c.hosts.flatMap((h) => [`healthy-a@${h}`, `corrupt-live@${h}`, `lost-target@${h}`]),
      `healthy-b@${h2}`,
      `healthy-b@${h3}`,
      `moved-away@${h1}`,
      `moved-away@${h3}`,
    ].sort(),
    "only the healthy blocks' LIO objects are left, on their hosts",
  );
  const files = (await readdir(join(root, STORE_DIR))).sort();
  assert.deepEqual(files, (await Promise.all([...healthy].map((b) => gbidOf(b)))).sort(), "only the healthy blocks' files are left");
  assert.deepEqual(await readdir(join(root, ORPHAN_DIR)), [stray], "the file no journal named is set aside, not deleted (it may be kept on purpose)");
  for (const b of healthy) {
    assert.deepEqual(await stateOf(b, b === "moved-away" ? h2 : undefined), before[b], `${b} is as it was`);
  }
  // and they still work: a resize converges every host
  for (const b of healthy) {
    const r = await e.resize({ volume: c.volume, block: b, sizeBytes: 32n * MiB, force: false });
    assert.deepEqual(r.failedOn, [], b);
  }
  assert.deepEqual(await auditEveryNode(c, false), []);
});
