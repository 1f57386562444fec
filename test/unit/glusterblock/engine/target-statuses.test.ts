// GetTargetStatuses (engine.targetStatuses): GetTargetStatus of many blocks
// in one call, as ListVolumes and the controller's health check ask it. The
// same answer per block as targetStatus() gives alone, each HA host asked once
// for all of its blocks, and a block that cannot be judged answers why
// without failing the others.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { extLine } from "../../../../src/glusterblock/engine/extensions.js";
import { createDoneLines, createIntentLines, hostLine } from "../../../../src/glusterblock/journal/index.js";
import { InvalidRequestError } from "../../../../src/glusterblock/errors.js";
import { MAX_STATUS_BLOCKS } from "../../../../src/glusterblock/engine/block-engine.js";
import { iqnFor } from "../../../../src/identity/names.js";
import { gbidFor } from "../../../doubles/names.js";
import { CONFIGFS_ROOT, localEngine, type LocalEngine } from "../../../helpers/local-engine.js";

const VOLUME = "block-test";
const HOSTS = ["10.213.0.11", "10.213.0.12", "10.213.0.13"] as const;
const BLOCKS = ["b0", "b1", "b2", "b3"];

let e: LocalEngine;

before(async () => {
  e = await localEngine(VOLUME, HOSTS, "gb-statuses-");
  for (const [i, name] of BLOCKS.entries()) {
    const gbid = gbidFor(VOLUME, name);
    // b3 is HA-2 on the last two hosts: each host is asked only for its own blocks
    const hosts = i === 3 ? HOSTS.slice(1) : HOSTS;
    await e.store.append(
      name,
      createIntentLines({ volume: VOLUME, gbid, ha: hosts.length, prioPath: hosts[0] ?? "" }) +
        extLine("HOSTS", hosts.join(" ")) +
        extLine("ACLMODE", "EXPLICIT"),
    );
    await e.store.append(name, createDoneLines({ sizeBytes: 16n * 1024n * 1024n }) + hosts.map((h) => hostLine(h, "CONFIGSUCCESS")).join(""));
    for (const h of hosts) await e.hosts.get(h)?.local.apply({ volume: VOLUME, block: name, gbid });
  }
  // b1 lost its target on the second host
  const h2 = e.hosts.get(HOSTS[1]);
  assert.ok(h2);
  await h2.local.remove({ volume: VOLUME, block: "b1", gbid: gbidFor(VOLUME, "b1") });
  // b2's journal is not one
  await e.store.append("b2", "this is not a journal line\n");
});

after(async () => {
  await e.cleanup();
});

test("every block's hosts as targetStatus() answers them alone; each host asked once; a bad block answers why, the others still answer", async () => {
  e.peers.calls.length = 0;
  const many = await e.engine.targetStatuses(VOLUME, [...BLOCKS, "nosuch"]);
  assert.deepEqual(
    [...e.peers.calls].sort(),
    HOSTS.map((h) => `statusMany ${h}`),
    "one call per host for all of its blocks",
  );
  assert.deepEqual(
    many.map((r) => r.block),
    [...BLOCKS, "nosuch"],
    "in the order asked",
  );
  for (const name of ["b0", "b1", "b3"]) {
    const r = many.find((x) => x.block === name);
    assert.ok(r && "hosts" in r, `${name} answers its hosts`);
    assert.deepEqual(r.hosts, await e.engine.targetStatus(VOLUME, name), name);
  }
  const b1 = many.find((x) => x.block === "b1");
  assert.ok(b1 && "hosts" in b1);
  assert.deepEqual(
    b1.hosts.map((h) => [h.host, h.matches]),
    HOSTS.map((h) => [h, h !== HOSTS[1]]),
  );
  const b3 = many.find((x) => x.block === "b3");
  assert.ok(b3 && "hosts" in b3);
  assert.deepEqual(
    b3.hosts.map((h) => h.host),
    HOSTS.slice(1),
    "an HA-2 block: its two hosts",
  );
  const b2 = many.find((x) => x.block === "b2");
  assert.ok(b2 && "error" in b2, "the unreadable journal answers why");
  const none = many.find((x) => x.block === "nosuch");
  assert.ok(none && "error" in none);
  assert.match(none.error, /doesn't exist/);
});

test("a host that cannot be asked answers unreachable for each of its blocks", async () => {
  e.peers.down.add(HOSTS[2]);
  try {
    const r = await e.engine.targetStatuses(VOLUME, ["b0"]);
    const b0 = r[0];
    assert.ok(b0 && "hosts" in b0);
    const down = b0.hosts.find((h) => h.host === HOSTS[2]);
    assert.equal(down?.matches, false);
    assert.match(down?.detail ?? "", /^unreachable: .*ECONNREFUSED/);
  } finally {
    e.peers.down.clear();
  }
});

test("a drifted read-only mapping is a difference here as it is alone", async () => {
  const reader = "iqn.2004-10.com.ubuntu:01:reader1";
  await e.engine.setInitiatorAccess({ volume: VOLUME, block: "b0", initiator: reader, allow: true, readOnly: true });
  const iqn = iqnFor(gbidFor(VOLUME, "b0"));
  await e.hosts.get(HOSTS[0])?.fs.write(`${CONFIGFS_ROOT}/iscsi/${iqn}/tpgt_1/acls/${reader}/lun_0/write_protect`, "0");
  const [b0] = await e.engine.targetStatuses(VOLUME, ["b0"]);
  assert.ok(b0 && "hosts" in b0);
  assert.match(b0.hosts.find((h) => h.host === HOSTS[0])?.detail ?? "", /read-write/);
});

test("more blocks than one call may ask about are refused before anything is read", async () => {
  await assert.rejects(
    e.engine.targetStatuses(
      VOLUME,
      Array.from({ length: MAX_STATUS_BLOCKS + 1 }, (_, i) => `x${i}`),
    ),
    InvalidRequestError,
  );
});
