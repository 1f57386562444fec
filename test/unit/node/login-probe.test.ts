// The probe login over real TCP, against a loopback portal that answers the
// first Login Request as LIO does (test/doubles/fake-iscsi-target.ts).
import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { FakeIscsiTarget } from "../../doubles/fake-iscsi-target.js";
import { decodeLoginResponse, encodeLoginRequest, probeLogin, randomIsid, statusHex } from "../../../src/node/login-probe.js";

const TARGET = "iqn.2016-12.org.gluster-block:7eb27b42-5e5f-5986-b232-b9e08684e58f";
const ME = "iqn.1993-08.org.debian:01:worker1";
const OTHER = "iqn.1993-08.org.debian:01:worker2";

let target: FakeIscsiTarget;
let portal: string;

beforeEach(async () => {
  target = new FakeIscsiTarget();
  portal = await target.start();
});
afterEach(async () => {
  await target.stop();
});

const probe = (over: Partial<Parameters<typeof probeLogin>[0]> = {}) => probeLogin({ portal, targetIqn: TARGET, initiatorIqn: ME, timeoutMs: 2_000, ...over });

test("the request is a first Login Request with our names and AuthMethod=CHAP,None, no credential; an admitted initiator gets 0x0000 and the AuthMethod", async () => {
  target.targets.set(TARGET, { acl: [ME] });
  const s = await probe();
  assert.equal(statusHex(s), "0x0000");
  assert.equal(s.authMethod, "CHAP");
  const [req] = target.received;
  assert.ok(req);
  assert.equal(req.opcode, 0x03, "Login Request");
  assert.equal(req.immediate, true);
  assert.equal(req.flags, 0x81, "T=1, CSG=0 (security), NSG=1");
  assert.equal(req.tsih, 0, "a new session");
  assert.equal((req.isid[0] ?? 0) & 0xc0, 0x80, "ISID of the random type, never open-iscsi's OUI type");
  assert.deepEqual(req.keys, [
    ["InitiatorName", ME],
    ["TargetName", TARGET],
    ["SessionType", "Normal"],
    ["AuthMethod", "CHAP,None"],
  ]);
  assert.ok(!req.keys.some(([k]) => k.startsWith("CHAP_")), "no CHAP exchange");
});

test("an initiator no ACL admits gets 0x0202; an unknown target 0x0203", async () => {
  target.targets.set(TARGET, { acl: [OTHER] });
  assert.equal(statusHex(await probe()), "0x0202");
  assert.equal(statusHex(await probe({ targetIqn: `${TARGET}-gone` })), "0x0203");
});

test("the probe closes the connection once it has the answer: the login goes no further", async () => {
  target.targets.set(TARGET, {});
  await probe();
  for (let i = 0; i < 50 && target.closedByClient === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(target.closedByClient, 1);
  assert.equal(target.received.length, 1, "one PDU sent");
});

test("a target that never answers: rejected after the timeout; a cancelled probe: rejected at once", async () => {
  target.silent = true;
  target.targets.set(TARGET, {});
  await assert.rejects(probe({ timeoutMs: 150 }), /no login response from 127\.0\.0\.1:\d+ within 150 ms/);
  const abort = new AbortController();
  const p = probe({ timeoutMs: 10_000, signal: abort.signal });
  setTimeout(() => abort.abort(), 20);
  await assert.rejects(p, /cancelled/);
});

test("nothing listening, or a portal that is not ip:port: rejected with why", async () => {
  await target.stop();
  await assert.rejects(probe(), /ECONNREFUSED/);
  await assert.rejects(probe({ portal: "host-a" }), /not ip:port/);
});

test("IPv6 portals in brackets", async (t) => {
  const v6 = new FakeIscsiTarget();
  let at: string;
  try {
    at = await v6.start("::1");
  } catch {
    t.skip("no IPv6 loopback here");
    return;
  }
  try {
    v6.targets.set(TARGET, { acl: [OTHER] });
    assert.match(at, /^\[::1\]:\d+$/);
    assert.equal(statusHex(await probe({ portal: at })), "0x0202");
  } finally {
    await v6.stop();
  }
});

test("encode and decode: lengths padded to 4 bytes; a Reject or another PDU is an error", () => {
  const pdu = encodeLoginRequest(ME, TARGET, randomIsid());
  assert.equal(pdu.length % 4, 0);
  assert.equal(pdu.readUIntBE(5, 3), Buffer.byteLength(`InitiatorName=${ME}\0TargetName=${TARGET}\0SessionType=Normal\0AuthMethod=CHAP,None\0`));
  const reject = Buffer.alloc(48);
  reject[0] = 0x3f;
  assert.throws(() => decodeLoginResponse(reject), /Reject/);
  const nop = Buffer.alloc(48);
  nop[0] = 0x20;
  assert.throws(() => decodeLoginResponse(nop), /opcode 0x20/);
  assert.throws(() => decodeLoginResponse(Buffer.alloc(10)), /48 bytes/);
});
