// Arbitrary strings at every parser that takes input from outside (CLI argv,
// CSI volume IDs, node IDs, volume contexts, journals): a typed error or a
// valid result, never a crash or an unexpected exception type.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseArgs, CliUsageError } from "../../src/glusterblock/cli/args.js";
import { parseVolumeId, formatVolumeId } from "../../src/csi/volume-id.js";
import { parseNodeId, formatNodeId } from "../../src/csi/node-id.js";
import { parseVolumeContext } from "../../src/csi/volume-context.js";
import { parseJournal, JournalError } from "../../src/glusterblock/journal/index.js";
import { StatusError } from "../../src/rpc/errors.js";
import { status } from "@grpc/grpc-js";

const RUNS = { numRuns: 2000 };
const word = fc.oneof(
  fc.string(),
  fc.constantFrom(
    "create",
    "list",
    "info",
    "delete",
    "modify",
    "replace",
    "audit",
    "ha",
    "auth",
    "size",
    "enable",
    "disable",
    "force",
    "--json",
    "--json-pretty",
    "block-test/b1",
    "10.0.0.1,10.0.0.2",
    "1GiB",
    "3",
  ),
);

test("CLI argv: a parsed command or a CliUsageError", () => {
  fc.assert(
    fc.property(fc.array(word, { maxLength: 12 }), (argv) => {
      try {
        const r = parseArgs(argv);
        assert.ok(typeof r.command.kind === "string");
      } catch (e) {
        assert.ok(e instanceof CliUsageError, `unexpected ${String(e)}`);
      }
    }),
    RUNS,
  );
});

test("volume IDs: valid ones round-trip, anything else is INVALID_ARGUMENT", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.string().map((s) => `v1/${s}`),
        fc.string().map((s) => `v1/block-test/${s}`),
      ),
      (id) => {
        try {
          const ref = parseVolumeId(id);
          assert.equal(formatVolumeId(ref), id);
        } catch (e) {
          assert.ok(e instanceof StatusError && e.code === status.INVALID_ARGUMENT, `unexpected ${String(e)}`);
        }
      },
    ),
    RUNS,
  );
});

test("node IDs: valid ones round-trip, anything else is INVALID_ARGUMENT", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.string().map((s) => `worker-1/${s}`),
        fc.string().map((s) => `${s}/iqn.2004-10.com.example:x`),
      ),
      (id) => {
        try {
          const n = parseNodeId(id);
          assert.equal(formatNodeId(n), id);
        } catch (e) {
          assert.ok(e instanceof StatusError && e.code === status.INVALID_ARGUMENT, `unexpected ${String(e)}`);
        }
      },
    ),
    RUNS,
  );
});

test("volume contexts: parsed or INVALID_ARGUMENT", () => {
  const keys = fc.constantFrom("iqn", "portals", "lun", "hostingVolume", "gbid", "haCount", "wwid", "fsType", "auth", "other");
  fc.assert(
    fc.property(fc.dictionary(keys, fc.string()), (ctx) => {
      try {
        parseVolumeContext(ctx);
      } catch (e) {
        assert.ok(e instanceof StatusError && e.code === status.INVALID_ARGUMENT, `unexpected ${String(e)}`);
      }
    }),
    RUNS,
  );
});

test("journals: parsed or a JournalError", () => {
  const line = fc.oneof(
    fc.string(),
    fc.constantFrom(
      "VOLUME: block-test",
      "GBID: 1bcc8980-5c86-4fc6-a2bb-b185786f3a5f",
      "HA: 3",
      "ENTRYCREATE: SUCCESS",
      "SIZE: 1073741824",
      "10.0.0.1: CONFIGSUCCESS",
      "PASSWORD: ",
      "10.0.0.1: RSSUCCESS-1",
    ),
  );
  fc.assert(
    fc.property(fc.array(line, { maxLength: 20 }), fc.boolean(), (lines, torn) => {
      try {
        parseJournal("b1", lines.join("\n") + (torn ? "" : "\n"));
      } catch (e) {
        assert.ok(e instanceof JournalError, `unexpected ${String(e)}`);
      }
    }),
    RUNS,
  );
});
