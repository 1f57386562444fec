// planFormat, the one decision on formatting: each state a device can be in,
// with and without a format intent of this node.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isFormatIntent, newFormatIntent, planFormat, type FormatIntent, type PlanInput } from "../../../src/node/format-intent.js";
import type { Probe } from "../../../src/node/filesystem.js";

const intent: FormatIntent = newFormatIntent("xfs");
const FOREIGN = "0b7e6a3c-59a4-4d1e-9a0f-3f5c2e1d4b6a";
const blank: Probe = { type: "", ptType: "", uuid: "" };

function input(probe: Probe, o: Partial<PlanInput> & { zero?: boolean } = {}): PlanInput {
  return { device: "/dev/dm-3", fsType: "xfs", readOnly: false, probe, intent: undefined, headIsZero: () => Promise.resolve(o.zero ?? true), ...o };
}

async function outcome(i: PlanInput): Promise<string> {
  try {
    const p = await planFormat(i);
    return p.action === "format" ? `format${p.resume ? " again" : ""}` : "use";
  } catch (e) {
    return e instanceof Error ? e.name : String(e);
  }
}

test("without an intent: only a blank, zero device is formatted (as before)", async () => {
  assert.equal(await outcome(input(blank)), "format");
  assert.equal(await outcome(input(blank, { zero: false })), "NotBlankError");
  assert.equal(await outcome(input(blank, { readOnly: true })), "NotBlankError");
  assert.equal(await outcome(input({ type: "xfs", ptType: "", uuid: FOREIGN })), "use");
  assert.equal(await outcome(input({ type: "ext4", ptType: "", uuid: FOREIGN })), "FsTypeMismatchError");
  assert.equal(await outcome(input({ type: "", ptType: "gpt", uuid: "" })), "NotBlankError");
});

test("with an intent: our UUID, or no signature at all, is our unfinished format and is formatted again", async () => {
  assert.equal(await outcome(input({ type: "xfs", ptType: "", uuid: intent.uuid }, { intent })), "format again");
  assert.equal(await outcome(input({ type: "xfs", ptType: "", uuid: intent.uuid.toUpperCase() }, { intent })), "format again");
  // even another type with our UUID: only our mkfs wrote it (a stage as ext4 after an unfinished xfs one)
  assert.equal(await outcome(input({ type: "ext4", ptType: "", uuid: intent.uuid }, { intent })), "format again");
  // mke2fs cut short: no superblock yet, but written blocks
  assert.equal(await outcome(input(blank, { intent, zero: false })), "format again");
  assert.equal(await outcome(input(blank, { intent })), "format again");
});

test("with an intent: anything else is left alone", async () => {
  assert.equal(await outcome(input({ type: "xfs", ptType: "", uuid: FOREIGN }, { intent })), "use");
  assert.equal(await outcome(input({ type: "ext4", ptType: "", uuid: FOREIGN }, { intent })), "FsTypeMismatchError");
  assert.equal(await outcome(input({ type: "", ptType: "dos", uuid: "" }, { intent })), "NotBlankError");
  assert.equal(await outcome(input({ type: "xfs", ptType: "gpt", uuid: intent.uuid }, { intent })), "NotBlankError");
  assert.equal(await outcome(input({ type: "xfs", ptType: "", uuid: intent.uuid }, { intent, readOnly: true })), "NotBlankError");
});

test("a format intent in a record is checked for shape", () => {
  assert.ok(isFormatIntent(intent));
  assert.match(intent.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(!isFormatIntent({ ...intent, uuid: "x; rm -rf /" }));
  assert.ok(!isFormatIntent({ uuid: intent.uuid }));
  assert.ok(!isFormatIntent(null));
});
