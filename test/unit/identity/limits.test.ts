// One rule each: the CLI and the CSI controller accept and refuse the same
// values of ha, ring-buffer, block size and io-timeout, and every layer the
// same initiator names, so nothing one layer accepts is refused by the next
// after the journal recorded it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseArgs } from "../../../src/glusterblock/cli/args.js";
import { parseParameters } from "../../../src/controller/params.js";
import { parseNodeId } from "../../../src/csi/node-id.js";
import { validateSpec } from "../../../src/glusterblock/lio/validate-spec.js";
import { isInitiatorName } from "../../../src/identity/initiator-name.js";
import { BLOCK_SIZES, HA_COUNT, IO_TIMEOUT_SEC, RING_BUFFER_MB } from "../../../src/identity/limits.js";
import { IQN_PREFIX } from "../../../src/identity/names.js";

const HOSTS = Array.from({ length: 20 }, (_v, i) => `10.0.0.${i + 1}`).join(",");
const accepts = (f: () => unknown): boolean => {
  try {
    f();
    return true;
  } catch {
    return false;
  }
};
const cli = (opt: string, v: number): boolean => accepts(() => parseArgs(["create", "v/b", opt, String(v), HOSTS, "1GiB"]));
const csi = (param: string, v: number): boolean => accepts(() => parseParameters({ hostingVolume: "v", [param]: String(v) }));

test("the CLI and the controller take the same ha, ring-buffer, block size and io-timeout", () => {
  const cases: [string, string, number[]][] = [
    ["ha", "haCount", [HA_COUNT.min - 1, HA_COUNT.min, HA_COUNT.max, HA_COUNT.max + 1, 1024]],
    ["ring-buffer", "ringBuffer", [0, RING_BUFFER_MB.min, RING_BUFFER_MB.max, RING_BUFFER_MB.max + 1]],
    ["io-timeout", "ioTimeout", [0, IO_TIMEOUT_SEC.min, IO_TIMEOUT_SEC.max, IO_TIMEOUT_SEC.max + 1, 4294967295]],
    ["block-size", "blockSize", [256, ...BLOCK_SIZES, 1536, 8192]],
  ];
  for (const [opt, param, values] of cases) {
    for (const v of values) assert.equal(cli(opt, v), csi(param, v), `${opt}/${param} ${v}: CLI ${cli(opt, v)}, controller ${csi(param, v)}`);
  }
  assert.equal(cli("ha", HA_COUNT.max + 1), false);
  assert.equal(cli("io-timeout", IO_TIMEOUT_SEC.max + 1), false);
});

test("an initiator name is accepted by the node ID, the engine's rule and the LIO writer alike, or by none", () => {
  const gbid = "0d9b6a3e-6a4f-4f59-9a0e-1c2b3d4e5f60";
  const lio = (acl: string): boolean =>
    accepts(() =>
      validateSpec({
        name: "b",
        gbid,
        iqn: `${IQN_PREFIX}${gbid}`,
        cfgstring: `v@localhost/block-store/${gbid}`,
        sizeBytes: 1048576,
        hosts: ["10.0.0.1"],
        localHost: "10.0.0.1",
        generateNodeAcls: false,
        acls: [acl],
      }),
    );
  for (const name of [
    "iqn.1994-05.com.redhat:n1",
    "iqn.2020-01.a:b",
    "iqn.2020-01.a/b",
    "iqn.2020-01.a:b/c",
    "iqn.2020-01.a",
    "eui.0123456789abcdef",
    "naa.0123456789abcdef",
    "naa.0123456789abcdef0123456789abcdef",
    "iqn.20-01.a:b",
    `iqn.2020-01.a:${"x".repeat(240)}`,
    "iqn.2020-01.a:b c",
  ]) {
    const node = accepts(() => parseNodeId(`n1/${name}`));
    assert.equal(node, isInitiatorName(name), name);
    assert.equal(lio(name), isInitiatorName(name), name);
  }
  assert.equal(isInitiatorName("iqn.2020-01.a/b"), false, "LIO cannot make an ACL directory with a '/'");
});
