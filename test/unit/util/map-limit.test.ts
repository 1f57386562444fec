import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { mapLimit } from "../../../src/util/map-limit.js";

test("keeps the order, never runs more than the limit at once", async () => {
  let running = 0;
  let most = 0;
  const r = await mapLimit([30, 5, 20, 1, 10, 2, 8], 3, async (ms, i) => {
    most = Math.max(most, ++running);
    await sleep(ms);
    running--;
    return `${i}:${ms}`;
  });
  assert.deepEqual(r, ["0:30", "1:5", "2:20", "3:1", "4:10", "5:2", "6:8"]);
  assert.equal(most, 3);
});

test("an empty list, and a rejection rejects the whole", async () => {
  assert.deepEqual(await mapLimit([], 4, () => Promise.resolve(1)), []);
  await assert.rejects(
    mapLimit([1, 2, 3], 2, async (n) => (n === 2 ? Promise.reject(new Error("two")) : n)),
    /two/,
  );
});
