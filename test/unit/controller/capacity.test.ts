import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { StatusError } from "../../../src/rpc/errors.js";
import { createSize, expandSize, sizeFits, MiB, GiB } from "../../../src/controller/capacity.js";

const r = (required: bigint | number, limit: bigint | number = 0) => ({ required_bytes: String(required), limit_bytes: String(limit) });
const code = (fn: () => unknown): number => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err));
    return err.code;
  }
  assert.fail("expected an error");
};

describe("createSize", () => {
  const cases: [string, ReturnType<typeof r> | null, bigint][] = [
    ["no range: the default", null, GiB],
    ["both zero: the default", r(0, 0), GiB],
    ["exact MiB kept", r(10n * MiB), 10n * MiB],
    ["one byte rounds up to a MiB", r(1), MiB],
    ["a MiB plus one rounds up", r(MiB + 1n), 2n * MiB],
    ["limit equal to the rounded size", r(MiB + 1n, 2n * MiB), 2n * MiB],
    ["only a limit below the default: the limit, rounded down", r(0, 100n * MiB + 5n), 100n * MiB],
    ["only a limit above the default: the default", r(0, 5n * GiB), GiB],
  ];
  for (const [name, range, want] of cases) test(name, () => assert.equal(createSize(range, GiB), want));

  test("a different default is used", () => assert.equal(createSize(null, 5n * MiB), 5n * MiB));
  test("an xfs volume is never smaller than mkfs.xfs can format (300 MiB), within the limit", () => {
    assert.equal(createSize(r(1), GiB, "xfs"), 300n * MiB, "a 1-byte claim on xfs is made at 300 MiB");
    assert.equal(createSize(r(1, 300n * MiB), GiB, "xfs"), 300n * MiB);
    assert.equal(
      code(() => createSize(r(1, 100n * MiB), GiB, "xfs")),
      status.OUT_OF_RANGE,
      "a limit below 300 MiB cannot hold an xfs filesystem",
    );
    assert.equal(
      code(() => createSize(r(0, 200n * MiB), GiB, "xfs")),
      status.OUT_OF_RANGE,
    );
    assert.equal(createSize(r(1), GiB, "ext4"), MiB, "ext4 formats 1 MiB");
    assert.equal(createSize(r(1), GiB), MiB, "a raw block volume has no filesystem minimum");
  });
  test("required above limit is INVALID_ARGUMENT", () =>
    assert.equal(
      code(() => createSize(r(3n * MiB, 2n * MiB))),
      status.INVALID_ARGUMENT,
    ));
  test("negative numbers are INVALID_ARGUMENT", () => {
    assert.equal(
      code(() => createSize(r(-1))),
      status.INVALID_ARGUMENT,
    );
    assert.equal(
      code(() => createSize(r(0, -5))),
      status.INVALID_ARGUMENT,
    );
  });
  test("no whole MiB inside the range is OUT_OF_RANGE", () =>
    assert.equal(
      code(() => createSize(r(MiB + 1n, MiB + 100n))),
      status.OUT_OF_RANGE,
    ));
  test("a limit under 1 MiB is OUT_OF_RANGE", () =>
    assert.equal(
      code(() => createSize(r(0, 1000))),
      status.OUT_OF_RANGE,
    ));
  test("larger than the largest volume is OUT_OF_RANGE", () =>
    assert.equal(
      code(() => createSize(r((1n << 63n) - 1n))),
      status.OUT_OF_RANGE,
    ));
});

describe("sizeFits (a retried create)", () => {
  test("inside the range", () => assert.equal(sizeFits(2n * MiB, r(MiB + 1n, 2n * MiB)), true));
  test("smaller than required", () => assert.equal(sizeFits(MiB, r(2n * MiB)), false));
  test("larger than the limit", () => assert.equal(sizeFits(4n * MiB, r(MiB, 3n * MiB)), false));
  test("no range fits anything", () => assert.equal(sizeFits(7n * MiB, null), true));
});

describe("expandSize", () => {
  test("rounds up", () => assert.equal(expandSize(r(GiB + 1n)), GiB + MiB));
  test("a range is required", () =>
    assert.equal(
      code(() => expandSize(null)),
      status.INVALID_ARGUMENT,
    ));
  test("required_bytes is required", () =>
    assert.equal(
      code(() => expandSize(r(0, GiB))),
      status.INVALID_ARGUMENT,
    ));
  test("no MiB under the limit is OUT_OF_RANGE", () =>
    assert.equal(
      code(() => expandSize(r(GiB + 1n, GiB + 2n))),
      status.OUT_OF_RANGE,
    ));
});
