// A block deleted and created again under the same name is another disk to
// every initiator (the safety issue's lab test). n1 holds sessions and a
// multipath map to block X (ha 2 on n2, n3) and wrote pattern A; n1 is cut off
// from the portals (blackhole routes on n1); X is force-deleted and created
// again from n2; n3 writes pattern B to the new X; n1's network comes back.
// The new X has another GBID, IQN and WWID, n1 never logs in to it, and n1's
// old map never reads pattern B (its reads fail or return the old data).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ensureLab, type Lab, type LabNode } from "../../lab/harness/lab.js";
import { buildProduct, startBlockdEverywhere, stopBlockdEverywhere, cli } from "../../lab/harness/product.js";
import { IQN_PREFIX, wwidFor } from "../../src/identity/names.js";

const BLOCK = "recreated-x";
const MiB = 1024 * 1024;
let lab: Lab;
let n1: LabNode;
let n2: LabNode;
let n3: LabNode;
/** the storage nodes that host X (n2, n3): n1 is only an initiator of it */
let hostAddrs: string[] = [];
const made: { iqn: string; wwid: string }[] = [];

const waitFor = (seconds: number, cond: string): string => `for k in $(seq ${seconds * 5}); do ${cond} && exit 0; sleep 0.2; done; exit 1`;

function iqnOf(out: string): string {
  const iqn = /^IQN: (\S+)$/m.exec(out)?.[1] ?? "";
  assert.ok(iqn.startsWith(IQN_PREFIX), `IQN in:\n${out}`);
  return iqn;
}

async function createX(): Promise<{ iqn: string; wwid: string }> {
  const r = await cli(n2, ["create", `block-test/${BLOCK}`, "ha", "2", hostAddrs.join(","), "64MiB"]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const iqn = iqnOf(r.stdout);
  const b = { iqn, wwid: wwidFor(iqn.slice(IQN_PREFIX.length)) };
  made.push(b);
  return b;
}

/** Logs `n` in to X's portals (generated ACLs, no CHAP) and waits for its map with both paths; IO fails at once without paths. */
async function attach(n: LabNode, b: { iqn: string; wwid: string }): Promise<void> {
  for (const a of hostAddrs) {
    await n.must(`set -e
      iscsiadm -m node -T ${b.iqn} -p ${a}:3260 -o new >/dev/null
      iscsiadm -m node -T ${b.iqn} -p ${a}:3260 -o update -n node.startup -v manual
      iscsiadm -m node -T ${b.iqn} -p ${a}:3260 -o update -n node.session.timeo.replacement_timeout -v 10
      iscsiadm -m node -T ${b.iqn} -p ${a}:3260 --login`);
  }
  await n.must(
    `${waitFor(60, `[ "$(multipath -ll ${b.wwid} 2>/dev/null | grep -c 'active ready running')" = 2 ]`)} || { multipath -v2 >/dev/null; multipath -ll; exit 1; }`,
  );
  // no queueing without paths: a read of a map whose target is gone fails instead of hanging
  await n.run(`dmsetup message ${b.wwid} 0 fail_if_no_path`);
}

async function detach(n: LabNode, b: { iqn: string; wwid: string }): Promise<void> {
  await n.run(
    `multipath -f ${b.wwid} 2>/dev/null; iscsiadm -m node -T ${b.iqn} --logout 2>/dev/null; iscsiadm -m node -T ${b.iqn} -o delete 2>/dev/null; true`,
    { timeoutMs: 120_000 },
  );
}

const pattern = (ch: string, file: string): string => `yes ${ch} | tr -d '\\n' | head -c ${MiB} > ${file}`;

async function cutOff(n: LabNode): Promise<void> {
  for (const a of hostAddrs) await n.must(`ip route replace blackhole ${a}/32`);
}

async function reconnect(n: LabNode): Promise<void> {
  for (const a of hostAddrs) await n.run(`ip route del blackhole ${a}/32 2>/dev/null; true`);
}

before(async () => {
  buildProduct();
  lab = await ensureLab({ nodes: 3 });
  [n1, n2, n3] = [lab.node(1), lab.node(2), lab.node(3)];
  hostAddrs = [lab.addresses[1] ?? "", lab.addresses[2] ?? ""];
  await lab.resetState();
  await startBlockdEverywhere(lab);
});

after(async () => {
  if (!lab) return;
  await reconnect(n1);
  for (const b of made) {
    await detach(n1, b);
    await detach(n3, b);
  }
  await n1.run("rm -f /root/gbid-a /root/gbid-b /root/gbid-read");
  await n3.run("rm -f /root/gbid-b");
  await cli(n2, ["delete", `block-test/${BLOCK}`, "force"]).catch(() => undefined);
  await stopBlockdEverywhere(lab);
});

test("a force-deleted block created again is a new disk: n1's old session and map never see its data", { timeout: 1_200_000 }, async () => {
  const old = await createX();
  await attach(n1, old);
  await n1.must(`set -e; ${pattern("A", "/root/gbid-a")}; dd if=/root/gbid-a of=/dev/mapper/${old.wwid} bs=1M count=1 oflag=direct conv=fsync status=none`);

  // n1 unreachable for the storage nodes: its sessions stay, no logout reaches the targets
  await cutOff(n1);
  try {
    const del = await cli(n2, ["delete", `block-test/${BLOCK}`, "force"]);
    assert.equal(del.code, 0, del.stderr + del.stdout);
    const fresh = await createX();
    assert.notEqual(fresh.iqn, old.iqn, "the re-created block has another IQN");
    assert.notEqual(fresh.wwid, old.wwid, "and another WWID");
    assert.notEqual(fresh.iqn.slice(IQN_PREFIX.length), old.iqn.slice(IQN_PREFIX.length), "and another GBID");
    // another initiator writes the new block's data
    await attach(n3, fresh);
    await n3.must(`set -e; ${pattern("B", "/root/gbid-b")}; dd if=/root/gbid-b of=/dev/mapper/${fresh.wwid} bs=1M count=1 oflag=direct conv=fsync status=none`);
    await detach(n3, fresh);
  } finally {
    await reconnect(n1);
  }

  // iscsid's reconnects (every few seconds) now reach the portals: let them run past the replacement timeout
  await new Promise((r) => setTimeout(r, 30_000));
  await n1.must(pattern("B", "/root/gbid-b"));
  const sessions = (await n1.run("iscsiadm -m session 2>/dev/null; true")).stdout;
  assert.ok(!sessions.includes(made[1]?.iqn ?? "-"), `n1 has no session to the new IQN:\n${sessions}`);
  assert.equal((await n1.run(`test -e /dev/mapper/${made[1]?.wwid ?? "-"}`)).code, 1, "n1 has no map of the new WWID");
  // every read of the old map fails or returns the old data, never the new
  for (let i = 0; i < 3; i++) {
    const r = await n1.run(
      `rm -f /root/gbid-read; timeout 60 dd if=/dev/mapper/${old.wwid} of=/root/gbid-read bs=1M count=1 iflag=direct status=none; echo "rc=$?"
       if [ -s /root/gbid-read ]; then cmp -s /root/gbid-read /root/gbid-b && echo READ-NEW; cmp -s /root/gbid-read /root/gbid-a && echo READ-OLD; fi; true`,
      { timeoutMs: 120_000 },
    );
    assert.doesNotMatch(r.stdout, /READ-NEW/, `n1's old map read the new block's data (attempt ${i + 1}):\n${r.stdout}${r.stderr}`);
    if (i < 2) await new Promise((res) => setTimeout(res, 10_000));
  }
  // and no SCSI disk on n1 carries the new WWID (a path of the old session re-attached to the new LUN would)
  const wwids = (await n1.run("for d in /sys/block/sd*; do cat $d/device/wwid 2>/dev/null; echo; done; true")).stdout;
  assert.ok(!wwids.includes(made[1]?.wwid.slice(1) ?? "-"), `a disk on n1 shows the new LUN:\n${wwids}`);
});
