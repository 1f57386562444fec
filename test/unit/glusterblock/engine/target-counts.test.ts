import { test } from "node:test";
import assert from "node:assert/strict";
import { TargetCounts } from "../../../../src/glusterblock/engine/target-counts.js";
const GB = "iqn.2016-12.org.gluster-block:";

test("the first snapshot walks LIO once; later ones follow apply/remove without walking", async () => {
  let walks = 0;
  const counts = new TargetCounts({
    walk: () => (
      walks++,
      Promise.resolve(
        new Map([
          [`${GB}aaaa`, true],
          [`${GB}bbbb`, false],
        ]),
      )
    ),
  });
  assert.deepEqual(await Promise.all([counts.snapshot(), counts.snapshot()]), [
    { targets: 2, activePaths: 1 },
    { targets: 2, activePaths: 1 },
  ]);
  assert.equal(walks, 1, "concurrent first snapshots share one walk");
  counts.applied(`${GB}dddd`, true);
  counts.removed(`${GB}bbbb`);
  assert.deepEqual(await counts.snapshot(), { targets: 2, activePaths: 2 });
  assert.equal(walks, 1);
});

test("a stale snapshot is answered at once and re-read in the background, keeping changes made meanwhile", async () => {
  let now = 0;
  let release: (() => void) | undefined;
  let walks = 0;
  const counts = new TargetCounts({
    now: () => now,
    maxAgeMs: 1000,
    walk: async () => {
      walks++;
      if (walks === 2) await new Promise<void>((r) => (release = r));
      return new Map([[`${GB}aaaa`, false]]);
    },
  });
  assert.deepEqual(await counts.snapshot(), { targets: 1, activePaths: 0 });
  now = 5000;
  assert.deepEqual(await counts.snapshot(), { targets: 1, activePaths: 0 }, "stale: answered from the cache");
  assert.equal(walks, 2);
  counts.applied(`${GB}eeee`, true); // lands while the walk is in flight
  release?.();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(await counts.snapshot(), { targets: 2, activePaths: 1 });
});

test("a failed first walk is reported to the caller and retried next time", async () => {
  let fail = true;
  const counts = new TargetCounts({ walk: () => (fail ? Promise.reject(new Error("configfs busy")) : Promise.resolve(new Map<string, boolean>())) });
  await assert.rejects(counts.snapshot(), /configfs busy/);
  fail = false;
  assert.deepEqual(await counts.snapshot(), { targets: 0, activePaths: 0 });
});
