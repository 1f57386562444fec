import { test } from "node:test";
import assert from "node:assert/strict";
import { MutationGate } from "../../../../src/glusterblock/lio/mutation-gate.js";

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** runs `name`, noting its start and end around a few event-loop turns */
function step(log: string[], name: string, fail = false): () => Promise<string> {
  return async () => {
    log.push(`+${name}`);
    await tick();
    await tick();
    log.push(`-${name}`);
    if (fail) throw new Error(name);
    return name;
  };
}

test("MutationGate: different keys at once, one key in turn, an exclusive call alone", async () => {
  const gate = new MutationGate();
  const log: string[] = [];
  const runs = [
    gate.shared(["a"], step(log, "a1")),
    gate.shared(["b"], step(log, "b1")),
    gate.shared(["a"], step(log, "a2", true)),
    gate.exclusive(step(log, "x")),
    gate.shared(["c"], step(log, "c1")),
  ];
  const results = await Promise.allSettled(runs);
  assert.deepEqual(
    results.map((r) => r.status),
    ["fulfilled", "fulfilled", "rejected", "fulfilled", "fulfilled"],
  );
  const at = (e: string): number => log.indexOf(e);
  assert.ok(at("+b1") < at("-a1"), "a and b at once");
  assert.ok(at("-a1") < at("+a2"), "a2 after a1");
  for (const e of ["-a1", "-b1", "-a2"]) assert.ok(at(e) < at("+x"), `x after ${e}`);
  assert.ok(at("-x") < at("+c1"), "c1 after x");
});
