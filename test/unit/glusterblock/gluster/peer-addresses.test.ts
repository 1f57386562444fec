import { test } from "node:test";
import assert from "node:assert/strict";
import { resolvePeerNames } from "../../../../src/glusterblock/gluster/peer-addresses.js";

test("peer names resolve to their addresses; addresses and unknown names add nothing", async () => {
  const got = await resolvePeerNames(["localhost", "10.0.0.1", "no-such-peer.invalid", ""]);
  assert.ok(got.includes("127.0.0.1") || got.includes("::1"), `localhost resolved: ${got.join(", ")}`);
  assert.ok(!got.includes("10.0.0.1"), "an address is not looked up");
});
