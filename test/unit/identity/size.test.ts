import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MAX_SIZE_BYTES, SizeError, checkDeviceSize, formatSize, parseSize } from "../../../src/identity/size.js";

const KiB = 1024n;
const MiB = KiB * KiB;
const GiB = MiB * KiB;
const TiB = GiB * KiB;

describe("parseSize", () => {
  it("reads plain bytes and every unit the original accepts, 1024-based, any case", () => {
    const cases: [string, bigint][] = [
      ["4096", 4096n],
      ["512b", 512n],
      ["512B", 512n],
      ["1k", KiB],
      ["1K", KiB],
      ["1Ki", KiB],
      ["1KiB", KiB],
      ["1kib", KiB],
      ["1KIB", KiB],
      ["100M", 100n * MiB],
      ["100MiB", 100n * MiB],
      ["1GiB", GiB],
      ["2G", 2n * GiB],
      ["1 GiB", GiB],
      ["1T", TiB],
      ["3TiB", 3n * TiB],
      ["1PiB", TiB * KiB],
      ["1E", TiB * MiB],
      ["7EiB", 7n * TiB * MiB],
      ["0001GiB", GiB],
    ];
    for (const [text, bytes] of cases) assert.equal(parseSize(text), bytes, text);
  });
  it("refuses what the original got wrong, each with its reason", () => {
    const cases: [string, string][] = [
      ["", "empty"],
      ["0", "zero"],
      ["0GiB", "zero"],
      ["-5", "negative"],
      ["-1GiB", "negative"],
      ["1.5GiB", "fraction"],
      ["1,5G", "fraction"],
      [".5G", "fraction"],
      ["2GB", "unit"],
      ["2KB", "unit"],
      ["12XB", "unit"],
      ["1Gb", "unit"],
      ["1GiBx", "unit"],
      ["1bb", "unit"],
      ["1Bi", "unit"],
      ["1e3", "syntax"],
      ["0x10", "syntax"],
      ["GiB", "syntax"],
      [" 1G", "syntax"],
      ["1G ", "syntax"],
      ["1  G", "syntax"],
      ["+1G", "syntax"],
      ["1Z", "overflow"],
      ["8EiB", "overflow"],
      ["9223372036854775808", "overflow"],
    ];
    for (const [text, reason] of cases) {
      assert.throws(
        () => parseSize(text),
        (e: unknown) => e instanceof SizeError && e.reason === reason,
        `${text} -> ${reason}`,
      );
    }
  });
  it("explains a refused unit and a fraction", () => {
    assert.throws(() => parseSize("2GB"), /unknown size unit "GB".*1024-based/);
    assert.throws(() => parseSize("1.5GiB"), /1536MiB/);
  });
  it("accepts the largest size and no more", () => {
    assert.equal(parseSize(MAX_SIZE_BYTES.toString()), MAX_SIZE_BYTES);
  });
  it("never throws anything but a SizeError, and only returns positive sizes (property)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^-?\d{0,25}[. ]?\d{0,3} ?[A-Za-z]{0,4}$/)), (s) => {
        try {
          const v = parseSize(s);
          return v > 0n && v <= MAX_SIZE_BYTES;
        } catch (e) {
          return e instanceof SizeError;
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("checkDeviceSize", () => {
  it("wants at least one block and whole blocks", () => {
    checkDeviceSize(512n);
    checkDeviceSize(GiB);
    checkDeviceSize(8192n, 4096);
    assert.throws(() => checkDeviceSize(511n), /minimum is 512/);
    assert.throws(() => checkDeviceSize(1000n), /use 512 or 1024/);
    assert.throws(() => checkDeviceSize(6144n, 4096), /use 4096 or 8192/);
  });
});

describe("formatSize", () => {
  it("prints as the original's glusterBlockFormatSize", () => {
    const cases: [bigint, string][] = [
      [0n, "0.0 B"],
      [1n, "1.0 B"],
      [512n, "512.0 B"],
      [1023n, "1023.0 B"],
      [KiB, "1.0 KiB"],
      [1536n, "1.5 KiB"],
      [64n * MiB, "64.0 MiB"],
      [100n * MiB, "100.0 MiB"],
      [GiB, "1.0 GiB"],
      [2n * GiB, "2.0 GiB"],
      [GiB + GiB / 2n, "1.5 GiB"],
      [MiB - 1n, "1024.0 KiB"], // 1023 + 1023/1024, as the C code prints it
      [GiB + GiB / 4n, "1.2 GiB"], // exact tie: glibc rounds half to even
      [GiB + (3n * GiB) / 4n, "1.8 GiB"],
      [2n * GiB + GiB / 4n, "2.2 GiB"],
      [MAX_SIZE_BYTES, "8.0 EiB"],
    ];
    for (const [bytes, text] of cases) assert.equal(formatSize(bytes), text, String(bytes));
  });
  it("keeps only the last remainder, as the C loop does", () => {
    assert.equal(formatSize(GiB + 1n), "1.0 GiB");
  });
  it("round-trips through parseSize for exact multiples (property)", () => {
    const units: [bigint, string][] = [
      [1n, "B"],
      [KiB, "KiB"],
      [MiB, "MiB"],
      [GiB, "GiB"],
      [TiB, "TiB"],
    ];
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1023 }), fc.integer({ min: 0, max: 4 }), (n, u) => {
        const [mult, name] = units[u] ?? [1n, "B"];
        const bytes = BigInt(n) * mult;
        const printed = formatSize(bytes);
        assert.equal(printed, `${n}.0 ${name}`);
        // "<n>.0 <unit>" is not a CLI size (no fractions), its integer part is
        return parseSize(printed.replace(".0 ", "")) === bytes;
      }),
    );
  });
});
