import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CliUsageError, USAGE, parseArgs } from "../../../../src/glusterblock/cli/args.js";

const GiB = 1073741824n;
const usageError = (argv: string[], message: RegExp, usage?: string, exitCode = 255): void => {
  assert.throws(
    () => parseArgs(argv),
    (e: unknown) => e instanceof CliUsageError && message.test(e.message) && e.exitCode === exitCode && (usage === undefined || e.usage === usage),
    argv.join(" "),
  );
};

describe("parseArgs: commands", () => {
  it("create with the original's defaults", () => {
    assert.deepEqual(parseArgs(["create", "block-test/t1", "10.213.0.11", "1GiB"]), {
      command: { kind: "create", volume: "block-test", block: "t1", ha: 1, auth: false, prealloc: true, hosts: ["10.213.0.11"], sizeBytes: GiB },
    });
  });
  it("create with every option, in any order, and a JSON flag", () => {
    const p = parseArgs([
      "timeout",
      "60",
      "create",
      "block-test/r1",
      "io-timeout",
      "60",
      "ha",
      "3",
      "auth",
      "enable",
      "prealloc",
      "no",
      "ring-buffer",
      "32",
      "block-size",
      "4096",
      "10.0.0.1,10.0.0.2,10.0.0.3",
      "64MiB",
      "--json-pretty",
    ]);
    assert.deepEqual(p, {
      command: {
        kind: "create",
        volume: "block-test",
        block: "r1",
        ha: 3,
        auth: true,
        prealloc: false,
        ringBufferMb: 32,
        blockSize: 4096,
        ioTimeout: 60,
        hosts: ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
        sizeBytes: 64n * 1024n * 1024n,
      },
      json: "pretty",
      timeoutSec: 60,
    });
  });
  it("create with storage takes no size and no prealloc", () => {
    const p = parseArgs(["create", "v/b", "storage", "old-file", "10.0.0.1"]);
    assert.equal(p.command.kind === "create" && p.command.storage, "old-file");
    assert.equal(p.command.kind === "create" && p.command.sizeBytes, undefined);
    usageError(["create", "v/b", "storage", "f", "10.0.0.1", "1GiB"], /do not give a size with 'storage'/);
    usageError(["create", "v/b", "prealloc", "no", "storage", "f", "10.0.0.1"], /do not use 'prealloc' with 'storage'/);
  });
  it("the original's yes/no words", () => {
    for (const [w, v] of [
      ["enable", true],
      ["yes", true],
      ["true", true],
      ["1", true],
      ["disable", false],
      ["no", false],
      ["0", false],
    ] as const) {
      const p = parseArgs(["modify", "v/b", "auth", w]);
      assert.deepEqual(p.command, { kind: "modify-auth", volume: "v", block: "b", auth: v });
    }
  });
  it("list, info, delete, modify size, replace, reload, genconfig, audit, help, version", () => {
    assert.deepEqual(parseArgs(["list", "block-test", "--json-plain"]), { command: { kind: "list", volume: "block-test" }, json: "plain" });
    assert.deepEqual(parseArgs(["info", "block-test/t1", "--json"]).command, { kind: "info", volume: "block-test", block: "t1" });
    assert.deepEqual(parseArgs(["info", "block-test/t1", "--json"]).json, "spaced");
    assert.deepEqual(parseArgs(["delete", "v/b"]).command, { kind: "delete", volume: "v", block: "b", unlinkStorage: true, force: false });
    assert.deepEqual(parseArgs(["delete", "v/b", "force", "unlink-storage", "no"]).command, {
      kind: "delete",
      volume: "v",
      block: "b",
      unlinkStorage: false,
      force: true,
    });
    assert.deepEqual(parseArgs(["modify", "v/b", "size", "2GiB", "force"]).command, {
      kind: "modify-size",
      volume: "v",
      block: "b",
      sizeBytes: 2n * GiB,
      force: true,
    });
    assert.deepEqual(parseArgs(["replace", "v/b", "10.0.0.1", "fd00::4", "force"]).command, {
      kind: "replace",
      volume: "v",
      block: "b",
      oldNode: "10.0.0.1",
      newNode: "fd00::4",
      force: true,
    });
    assert.deepEqual(parseArgs(["reload", "v/b"]).command, { kind: "reload", volume: "v", block: "b", force: false });
    assert.deepEqual(parseArgs(["genconfig", "v1,v2", "enable-tpg", "10.0.0.1"]).command, { kind: "genconfig", volumes: ["v1", "v2"], enableTpg: "10.0.0.1" });
    assert.deepEqual(parseArgs(["audit", "v", "--fix", "--json"]), { command: { kind: "audit", volume: "v", fix: true }, json: "spaced" });
    for (const h of ["help", "--help", "-h", "usage", "--usage"]) assert.deepEqual(parseArgs([h]).command, { kind: "help" });
    for (const v of ["version", "--version"]) assert.deepEqual(parseArgs([v]).command, { kind: "version" });
  });
});

describe("parseArgs: errors", () => {
  it("sizes", () => {
    for (const size of ["2GB", "0", "-5", "12XB", "1.5GiB", "1000"]) usageError(["create", "v/b", "10.0.0.1", size], /^create: /, USAGE.create);
    usageError(["create", "v/b", "block-size", "4096", "10.0.0.1", "6KiB"], /multiple of the 4096-byte block size/);
    usageError(["modify", "v/b", "size", "2GB"], /^modify: unknown size unit/, USAGE.modify);
  });
  it("create options", () => {
    usageError(["create", "v/b", "ha", "0", "10.0.0.1", "1GiB"], /'ha' must be between 1 and 16/);
    usageError(["create", "v/b", "ha", "x", "10.0.0.1", "1GiB"], /'ha' takes a whole number/);
    usageError(["create", "v/b", "ha", "3", "10.0.0.1,10.0.0.2", "1GiB"], /'ha' is 3 but only 2 hosts are given/);
    usageError(["create", "v/b", "ha", "1", "ha", "2", "10.0.0.1,10.0.0.2", "1GiB"], /'ha' is given twice/);
    usageError(["create", "v/b", "ring-buffer", "0", "10.0.0.1", "1GiB"], /'ring-buffer' must be between 1 and 1024/);
    usageError(["create", "v/b", "ring-buffer", "1025", "10.0.0.1", "1GiB"], /between 1 and 1024/);
    usageError(["create", "v/b", "block-size", "256", "10.0.0.1", "1GiB"], /between 512/);
    usageError(["create", "v/b", "block-size", "700", "10.0.0.1", "1GiB"], /must be one of 512, 1024, 2048, 4096/);
    usageError(["create", "v/b", "io-timeout", "0", "10.0.0.1", "1GiB"], /'io-timeout' must be between 1/);
    usageError(["create", "v/b", "auth", "maybe", "10.0.0.1", "1GiB"], /'auth' takes enable or disable/);
    usageError(["create", "v/b", "prealloc", "partial", "10.0.0.1", "1GiB"], /'prealloc' takes full or no/);
    usageError(["create", "v/b", "colour", "red", "10.0.0.1", "1GiB"], /unknown option "colour"/);
    usageError(["create", "v/b", "10.0.0.1", "1GiB", "ha", "3"], /too many arguments|unknown option/);
    usageError(["create", "v/b", "10.0.0.1"], /missing <size>/);
    usageError(["create", "v/b"], /missing <host1/);
    usageError(["create", "v/b", "ha"], /'ha' needs a value/);
    usageError(["create"], /missing <volname\/blockname>/);
  });
  it("hosts", () => {
    usageError(["create", "v/b", "node1,node2", "1GiB"], /hostnames are not supported/);
    usageError(["create", "v/b", "10.0.0.1,10.0.0.1", "1GiB"], /10\.0\.0\.1 is given twice/);
    usageError(["create", "v/b", "fd00::1,FD00:0::1", "1GiB"], /given twice/);
    usageError(["create", "v/b", "10.0.0.1,", "1GiB"], /empty entry/);
    usageError(["replace", "v/b", "10.0.0.1", "10.0.0.1"], /are the same/);
    usageError(["replace", "v/b", "10.0.0.1", "node2"], /not an IP address/);
    usageError(["replace", "v/b", "10.0.0.1", "10.0.0.2", "now"], /unknown option "now"/);
  });
  it("names", () => {
    usageError(["info", "block-test"], /has no '\/'/, USAGE.info);
    usageError(["info", "block.test/t1"], /volume name "block.test" contains '\.'/);
    usageError(["list", "bad/vol"], /volume name/);
    usageError(["info", "v/b", "extra"], /unexpected argument "extra"/);
  });
  it("commands, timeout and JSON flags", () => {
    // 0.5.1 exits 1 with no command or an unknown one, 255 for a known command's bad arguments
    usageError([], /no command given/, USAGE.general, 1);
    usageError(["frobnicate"], /unknown command "frobnicate"/, USAGE.general, 1);
    usageError(["timeout", "x", "list", "v"], /'timeout' takes a whole number/);
    usageError(["timeout", "0", "list", "v"], /'timeout' takes/);
    usageError(["timeout", "10"], /no command given/, USAGE.general, 1);
    usageError(["list", "v", "--json-ugly"], /unknown JSON format "--json-ugly"/);
    usageError(["list", "v", "--json-plain", "--json-pretty"], /conflicting JSON formats/);
    assert.equal(parseArgs(["list", "v", "--json", "--json-spaced"]).json, "spaced");
    usageError(["modify", "v/b"], /modify needs 'auth/);
    usageError(["modify", "v/b", "auth", "enable", "force"], /unexpected argument "force"/);
    usageError(["modify", "v/b", "colour", "red"], /unknown option "colour" for modify/);
    usageError(["delete", "v/b", "force", "force"], /'force' is given twice/);
    usageError(["delete", "v/b", "unlink-storage"], /needs yes or no/);
    usageError(["genconfig", "v1,,v2", "enable-tpg", "10.0.0.1"], /empty entry/);
    usageError(["genconfig", "v1", "enable", "10.0.0.1"], /unknown option "enable"/);
    usageError(["audit", "v", "--fox"], /unknown option "--fox"/);
  });
  it("carries the JSON style asked for into the error", () => {
    assert.throws(
      () => parseArgs(["--json-plain", "create", "v/b", "x", "1G"]),
      (e: unknown) => e instanceof CliUsageError && e.json === "plain",
    );
    assert.throws(
      () => parseArgs(["create", "v/b", "x", "1G"]),
      (e: unknown) => e instanceof CliUsageError && e.json === undefined,
    );
  });
  it("never throws anything but CliUsageError on arbitrary argv (property)", () => {
    const word = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom(
        "create",
        "list",
        "info",
        "delete",
        "modify",
        "replace",
        "reload",
        "genconfig",
        "audit",
        "help",
        "timeout",
        "ha",
        "auth",
        "size",
        "force",
        "storage",
        "--json",
        "--json-pretty",
        "v/b",
        "10.0.0.1",
        "10.0.0.1,10.0.0.2",
        "1GiB",
        "2GB",
        "3",
        "enable",
        "--fix",
      ),
    );
    fc.assert(
      fc.property(fc.array(word, { maxLength: 10 }), (argv) => {
        try {
          parseArgs(argv);
          return true;
        } catch (e) {
          return e instanceof CliUsageError && (e.exitCode === 255 || e.exitCode === 1) && e.message.length > 0;
        }
      }),
      { numRuns: 3000 },
    );
  });
});
