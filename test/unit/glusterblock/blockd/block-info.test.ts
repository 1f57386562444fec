// A block's BlockInfo: its portals are the exporting HA hosts' (in HA order),
// on the iSCSI port the engine is configured with, IPv6 in brackets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { toBlockInfo } from "../../../../src/glusterblock/blockd/block-info.js";
import type { BlockDetails } from "../../../../src/glusterblock/engine/block-engine.js";
import { createDoneLines, createIntentLines, hostLine, parseJournal, toBlockSummary } from "../../../../src/glusterblock/journal/index.js";
import { gbidFor } from "../../../doubles/names.js";

const HOSTS = ["10.0.0.1", "fd00::2", "10.0.0.3"];

function details(exported: readonly string[], initiators: { rw?: string[]; ro?: string[] } = {}): BlockDetails {
  const meta = parseJournal(
    "b1",
    createIntentLines({ volume: "hv", gbid: gbidFor("hv", "b1"), ha: 3 }) +
      createDoneLines({ sizeBytes: 1048576n }) +
      exported.map((h) => hostLine(h, "CONFIGSUCCESS")).join(""),
  );
  const ro = initiators.ro ?? [];
  return {
    meta,
    info: toBlockSummary(meta),
    hosts: HOSTS,
    aclMode: "EXPLICIT",
    initiators: [...(initiators.rw ?? []), ...ro],
    readOnlyInitiators: ro,
    owner: "",
    aclSynced: false,
  };
}

test("initiators: every one let in, and which of them are read-only (a caller that knows only `initiators` sees them all)", () => {
  const i = toBlockInfo(
    details(["10.0.0.1"], { rw: ["iqn.2004-10.com.ubuntu:01:w1"], ro: ["iqn.2004-10.com.ubuntu:01:r1", "iqn.2004-10.com.ubuntu:01:r2"] }),
    3260,
  );
  assert.deepEqual(i.initiators, ["iqn.2004-10.com.ubuntu:01:w1", "iqn.2004-10.com.ubuntu:01:r1", "iqn.2004-10.com.ubuntu:01:r2"]);
  assert.deepEqual(i.read_only_initiators, ["iqn.2004-10.com.ubuntu:01:r1", "iqn.2004-10.com.ubuntu:01:r2"]);
});

test("portals: the exporting hosts in HA order, on the given port", () => {
  const d = details(["10.0.0.3", "fd00::2"]);
  assert.deepEqual(toBlockInfo(d, 3260).portals, ["[fd00::2]:3260", "10.0.0.3:3260"]);
  assert.deepEqual(toBlockInfo(d, 13260).portals, ["[fd00::2]:13260", "10.0.0.3:13260"]);
});

test("acl_synced: the engine's proof that every exporting host's ACLs match the lists, passed on as is", () => {
  assert.equal(toBlockInfo(details(HOSTS), 3260).acl_synced, false);
  assert.equal(toBlockInfo({ ...details(HOSTS), aclSynced: true }, 3260).acl_synced, true);
});
