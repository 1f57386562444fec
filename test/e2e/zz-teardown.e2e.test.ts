// Runs last (files run in name order): power the lab off so `npm run test:e2e`
// leaves nothing running.  LAB_KEEP=1 keeps it up for the next run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { down, isClean } from "../../lab/teardown.js";

test("lab teardown", { skip: process.env.LAB_KEEP === "1" ? "LAB_KEEP=1" : false, timeout: 300_000 }, async () => {
  const left = await down();
  assert.ok(isClean(left), `lab leftovers: ${JSON.stringify(left)}`);
  console.log("lab down: no lab qemu process, ssh master, bridge, tap or mount remains");
});
