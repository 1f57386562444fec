import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import {
  HOST_STATUSES,
  JournalError,
  JournalValueError,
  type JournalEntry,
  META_KEYS,
  createDoneLines,
  createIntentLines,
  deleteTargets,
  exportedOn,
  failedOn,
  hostsBehindSize,
  hostLine,
  isDeleteStarted,
  keyLine,
  parseJournal,
  parseJournalEntries,
  passwordLine,
  resizeFailedOn,
  toBlockSummary,
} from "../../../../src/glusterblock/journal/index.js";
import { formatEntries } from "../../../helpers/journal-text.js";

const DUMMY_PASSWORD = "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f";
const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/journal/${name}.txt`, import.meta.url), "utf8");
const GiB = 1073741824n;

describe("parseJournal on the original's journals", () => {
  it("reads t1 right after create", () => {
    const m = parseJournal("t1", fixture("after-create-t1"));
    assert.equal(m.volume, "block-test");
    assert.equal(m.gbid, "1bcc8980-5c86-4fc6-a2bb-b185786f3a5f");
    assert.equal(m.ha, 3);
    assert.equal(m.sizeBytes, GiB);
    assert.equal(m.entryCreate, "SUCCESS");
    assert.equal(m.entryDelete, undefined);
    assert.equal(m.prioPath, "10.213.0.13");
    assert.deepEqual([m.ringBufferMb, m.blockSize, m.ioTimeout], [0, 0, 0]);
    assert.equal(m.password, "");
    assert.deepEqual(
      m.hosts.map((h) => [h.host, h.status]),
      [
        ["10.213.0.13", "CONFIGSUCCESS"],
        ["10.213.0.12", "CONFIGSUCCESS"],
        ["10.213.0.11", "CONFIGSUCCESS"],
      ],
    );
    assert.equal(m.lines.length, 16);
    assert.equal(m.tornTail, undefined);
    assert.deepEqual(exportedOn(m), ["10.213.0.13", "10.213.0.12", "10.213.0.11"]);
    assert.ok(!isDeleteStarted(m));
  });
  it("reads a1 (auth at create: PASSWORD before the hosts, AUTHENFORCED after CONFIGSUCCESS)", () => {
    const m = parseJournal("a1", fixture("after-create-a1"));
    assert.equal(m.password, DUMMY_PASSWORD);
    assert.deepEqual(exportedOn(m), ["10.213.0.11", "10.213.0.12", "10.213.0.13"]);
    assert.deepEqual(
      m.hosts[0]?.history.map((s) => s.status),
      ["CONFIGINPROGRESS", "CONFIGSUCCESS", "AUTHENFORCED"],
    );
  });
  it("last value wins through auth enable/disable and a resize", () => {
    const m = parseJournal("t1", fixture("after-modifies-t1"));
    assert.equal(m.password, "");
    assert.equal(m.sizeBytes, 2n * GiB);
    assert.equal(m.initialSizeBytes, GiB);
    assert.deepEqual(
      m.hosts.map((h) => h.status),
      ["AUTHCLEARENFORCED", "AUTHCLEARENFORCED", "AUTHCLEARENFORCED"],
    );
    assert.deepEqual(exportedOn(m), ["10.213.0.13", "10.213.0.12", "10.213.0.11"]);
    assert.deepEqual(resizeFailedOn(m), []);
    const rs = m.entries.find((e) => e.kind === "host" && e.status === "RSSUCCESS");
    assert.deepEqual(rs, { kind: "host", host: "10.213.0.11", status: "RSSUCCESS", resizeBytes: 2n * GiB });
  });
  it("reads the tunables of r1 (ring-buffer 32, block-size 4096, io-timeout 60, ha 1)", () => {
    const m = parseJournal("r1", fixture("pre-delete-r1"));
    assert.deepEqual([m.ha, m.ringBufferMb, m.blockSize, m.ioTimeout, m.sizeBytes], [1, 32, 4096, 60, 67108864n]);
    assert.deepEqual(deleteTargets(m), ["10.213.0.11"]);
  });
  it("parses every fixture and re-formats it byte for byte", () => {
    for (const name of [
      "after-create-t1",
      "after-create-a1",
      "after-modifies-t1",
      "after-modifies-t1j4",
      "after-modifies-a1j4",
      "pre-delete-t1",
      "pre-delete-a1",
      "pre-delete-p1",
      "pre-delete-r1",
    ]) {
      const text = fixture(name);
      const block = name.replace(/^(after-create|after-modifies|pre-delete)-/, "");
      const m = parseJournal(block, text);
      assert.equal(formatEntries(m.entries), text, name);
      assert.equal(m.lines.join("\n") + "\n", text, name);
    }
  });
});

describe("trust rules", () => {
  const base = fixture("after-create-t1");
  it("ignores a torn last line", () => {
    const m = parseJournal("t1", `${base}10.213.0.13: CLEANUPINPR`);
    assert.equal(m.tornTail, "10.213.0.13: CLEANUPINPR");
    assert.equal(m.hosts[0]?.status, "CONFIGSUCCESS");
    assert.equal(parseJournal("t1", `${base}\u0000\u0000`).tornTail, "\u0000\u0000");
  });
  it("keeps unknown upper-case keys and skips blank lines", () => {
    const m = parseJournal("t1", `${base}\nSNAPSHOTS: 0\n`);
    assert.deepEqual(m.unknownKeys, [{ key: "SNAPSHOTS", value: "0" }]);
    assert.deepEqual(m.entries.at(-1), { kind: "unknown", key: "SNAPSHOTS", value: "0" });
  });
  it("accepts 'PASSWORD:' with its trailing space trimmed", () => {
    assert.equal(parseJournal("a1", `${fixture("after-create-a1")}PASSWORD:\n`).password, "");
  });
  it("refuses what cannot be trusted, with the line number and without echoing values", () => {
    const bad: [string, string, number | undefined][] = [
      ["", "EMPTY", undefined],
      ["VOLUME: block-test", "EMPTY", undefined],
      [`${base}garbage\n`, "MALFORMED_LINE", 17],
      [`${base}lower: case\n`, "MALFORMED_LINE", 17],
      [`${base}\u0000\u0000\n`, "MALFORMED_LINE", 17],
      [`${base}GBID: nope\n`, "BAD_VALUE", 17],
      [`${base}SIZE: 12XB\n`, "BAD_VALUE", 17],
      [`${base}HA: 0\n`, "BAD_VALUE", 17],
      [`${base}ENTRYDELETE: MAYBE\n`, "BAD_VALUE", 17],
      [`${base}10.213.0.11: CONFIGWHATEVER\n`, "BAD_VALUE", 17],
      [`${base}PASSWORD: a b\n`, "BAD_VALUE", 17],
      [`${base}VOLUME: other\n`, "CONFLICT", 17],
      [`${base}GBID: 741d7e15-7fc9-4aa3-82b8-bd5c5298b65e\n`, "CONFLICT", 17],
      ["VOLUME: v\nHA: 1\n", "MISSING_KEY", undefined],
      ["GBID: 741d7e15-7fc9-4aa3-82b8-bd5c5298b65e\nHA: 1\n", "MISSING_KEY", undefined],
    ];
    for (const [text, code, line] of bad) {
      assert.throws(
        () => parseJournal("t1", text),
        (e: unknown) => e instanceof JournalError && e.code === code && e.line === line,
        `${code} ${JSON.stringify(text.slice(-40))}`,
      );
    }
    assert.throws(
      () => parseJournal("t1", `${base}PASSWORD: sec ret\n`),
      (e: Error) => !e.message.includes("sec"),
    );
  });
  it("refuses a bad block name", () => {
    assert.throws(() => parseJournal("../x", base), /block name/);
  });
  it("never throws anything but a JournalError on arbitrary input (property)", () => {
    const lineArb = fc.oneof(
      fc.string(),
      fc.constantFrom(...META_KEYS).chain((k) => fc.string().map((v) => `${k}: ${v}`)),
      fc.tuple(fc.constantFrom("10.0.0.1", "::1", "x"), fc.constantFrom(...HOST_STATUSES, "RSSUCCESS-12", "RSFAIL-x")).map(([h, s]) => `${h}: ${s}`),
    );
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 12 }), fc.boolean(), (lines, torn) => {
        const text = lines.join("\n") + (torn ? "" : "\n");
        try {
          const m = parseJournal("b", text);
          return m.gbid.length === 36 && m.ha >= 1;
        } catch (e) {
          return e instanceof JournalError;
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe("line builders", () => {
  it("build the original's lines and batches", () => {
    assert.equal(keyLine("SIZE", 1073741824n), "SIZE: 1073741824\n");
    assert.equal(hostLine("10.213.0.13", "RSINPROGRESS", 2147483648n), "10.213.0.13: RSINPROGRESS-2147483648\n");
    assert.equal(hostLine("10.213.0.13", "AUTHCLEARENFORCEING"), "10.213.0.13: AUTHCLEARENFORCEING\n");
    assert.equal(passwordLine(""), "PASSWORD: \n");
    const text =
      createIntentLines({ volume: "block-test", gbid: "1bcc8980-5c86-4fc6-a2bb-b185786f3a5f", ha: 3, prioPath: "10.213.0.13" }) +
      createDoneLines({ sizeBytes: GiB }) +
      ["10.213.0.13", "10.213.0.12", "10.213.0.11"].map((h) => hostLine(h, "CONFIGINPROGRESS")).join("") +
      ["10.213.0.12", "10.213.0.11", "10.213.0.13"].map((h) => hostLine(h, "CONFIGSUCCESS")).join("");
    assert.equal(text, fixture("after-create-t1"));
  });
  it("refuse injection and impossible values", () => {
    assert.throws(() => keyLine("PASSWORD", "x\nVOLUME: evil"), JournalValueError);
    assert.throws(() => keyLine("PRIOPATH", "10.0.0.1: CONFIGSUCCESS"), JournalValueError);
    assert.throws(() => keyLine("VOLUME", "a b"), JournalValueError);
    assert.throws(() => keyLine("SIZE", -1), JournalValueError);
    assert.throws(() => keyLine("GBID", "x"), JournalValueError);
    assert.throws(() => hostLine("node1", "CONFIGSUCCESS"), JournalValueError);
    assert.throws(() => hostLine("10.0.0.1", "RSSUCCESS"), JournalValueError);
    assert.throws(() => hostLine("10.0.0.1", "CONFIGSUCCESS", 5n), JournalValueError);
  });
  it("parse(format(entries)) returns the entries (property)", () => {
    const host = fc.oneof(fc.ipV4(), fc.constantFrom("::1", "fd00::11", "2001:db8::2"));
    const entry: fc.Arbitrary<JournalEntry> = fc.oneof(
      fc.record({ kind: fc.constant("key" as const), key: fc.constant("SIZE" as const), value: fc.bigInt({ min: 0n, max: 1n << 62n }).map(String) }),
      fc.record({ kind: fc.constant("key" as const), key: fc.constant("PASSWORD" as const), value: fc.oneof(fc.constant(""), fc.uuid()) }),
      fc.record({ kind: fc.constant("key" as const), key: fc.constant("ENTRYDELETE" as const), value: fc.constantFrom("INPROGRESS", "SUCCESS", "FAIL") }),
      fc.record({ kind: fc.constant("key" as const), key: fc.constant("PRIOPATH" as const), value: fc.ipV4() }),
      fc.record({
        kind: fc.constant("unknown" as const),
        key: fc.stringMatching(/^[A-Z][A-Z0-9_]{0,8}$/).filter((k) => !(META_KEYS as readonly string[]).includes(k)),
        value: fc.stringMatching(/^[a-z0-9 .-]{0,12}$/),
      }),
      fc
        .tuple(host, fc.constantFrom(...HOST_STATUSES), fc.bigInt({ min: 0n, max: 1n << 40n }))
        .map(([h, s, b]): JournalEntry => (s.startsWith("RS") ? { kind: "host", host: h, status: s, resizeBytes: b } : { kind: "host", host: h, status: s })),
    );
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 20 }), (entries) => {
        const filtered = entries.filter((e) => !(e.kind === "unknown" && e.value.includes(": ")));
        // fast-check records have a null prototype; compare plain copies
        assert.deepEqual(
          parseJournalEntries(formatEntries(filtered)),
          filtered.map((e) => ({ ...e })),
        );
      }),
      { numRuns: 500 },
    );
  });
});

describe("derived views", () => {
  const head = createIntentLines({ volume: "v", gbid: "741d7e15-7fc9-4aa3-82b8-bd5c5298b65e", ha: 3 });
  it("in-progress create", () => {
    const m = parseJournal("b", head + hostLine("10.0.0.1", "CONFIGINPROGRESS"));
    assert.equal(m.entryCreate, "INPROGRESS");
    assert.equal(m.entryDelete, undefined);
    assert.ok(!isDeleteStarted(m));
    assert.equal(m.sizeBytes, 0n);
    assert.deepEqual(exportedOn(m), []);
    assert.deepEqual(deleteTargets(m), []);
  });
  it("failures, resize failures with the size each host still has, delete targets", () => {
    const text =
      head +
      createDoneLines({ sizeBytes: GiB }) +
      hostLine("10.0.0.1", "CONFIGSUCCESS") +
      hostLine("10.0.0.2", "CONFIGSUCCESS") +
      hostLine("10.0.0.3", "CONFIGFAIL") +
      keyLine("SIZE", 2n * GiB) +
      hostLine("10.0.0.1", "RSSUCCESS", 2n * GiB) +
      hostLine("10.0.0.2", "RSFAIL", 2n * GiB) +
      keyLine("SIZE", 3n * GiB) +
      hostLine("10.0.0.1", "RSINPROGRESS", 3n * GiB);
    const m = parseJournal("b", text);
    assert.deepEqual(exportedOn(m), ["10.0.0.1", "10.0.0.2"]);
    assert.deepEqual(failedOn(m), ["10.0.0.3"]);
    assert.deepEqual(resizeFailedOn(m), [
      { host: "10.0.0.1", currentSizeBytes: 2n * GiB },
      { host: "10.0.0.2", currentSizeBytes: GiB },
    ]);
    assert.deepEqual(deleteTargets(m), ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
    const info = toBlockSummary(m);
    assert.equal(info.sizeBytes, 3n * GiB);
    assert.deepEqual(info.failedOn, ["10.0.0.3"]);
  });
  it("hosts behind the latest SIZE: a resize cut short after its SIZE line, or not confirmed everywhere", () => {
    const created = head + createDoneLines({ sizeBytes: GiB }) + hostLine("10.0.0.1", "CONFIGSUCCESS") + hostLine("10.0.0.2", "CONFIGSUCCESS");
    assert.deepEqual(hostsBehindSize(parseJournal("b", created)), []);
    const grown = created + keyLine("SIZE", 2n * GiB);
    assert.deepEqual(hostsBehindSize(parseJournal("b", grown)), ["10.0.0.1", "10.0.0.2"]);
    const half =
      grown + hostLine("10.0.0.1", "RSINPROGRESS", 2n * GiB) + hostLine("10.0.0.1", "RSSUCCESS", 2n * GiB) + hostLine("10.0.0.2", "RSINPROGRESS", 2n * GiB);
    assert.deepEqual(hostsBehindSize(parseJournal("b", half)), ["10.0.0.2"]);
    // a host configured after the resize (a replace's new node) has the size it was configured with
    const replaced = half + hostLine("10.0.0.2", "RSSUCCESS", 2n * GiB) + hostLine("10.0.0.3", "CONFIGINPROGRESS") + hostLine("10.0.0.3", "CONFIGSUCCESS");
    assert.deepEqual(hostsBehindSize(parseJournal("b", replaced)), []);
  });
  it("a replace's cleaned node is not a delete; a delete in progress is", () => {
    const text =
      head +
      createDoneLines({ sizeBytes: GiB }) +
      ["10.0.0.1", "10.0.0.2", "10.0.0.3"].map((h) => hostLine(h, "CONFIGSUCCESS")).join("") +
      passwordLine(DUMMY_PASSWORD) +
      hostLine("10.0.0.1", "AUTHENFORCED") +
      hostLine("10.0.0.2", "AUTHENFORCEING") +
      hostLine("10.0.0.3", "CLEANUPSUCCESS");
    const m = parseJournal("b", text);
    assert.equal(m.password, DUMMY_PASSWORD);
    // one host cleaned while two still serve: a replace's old node, not a delete
    assert.ok(!isDeleteStarted(m));
    assert.deepEqual(deleteTargets(m), ["10.0.0.1", "10.0.0.2"]);
    const all = parseJournal("b", text + hostLine("10.0.0.1", "CLEANUPINPROGRESS") + hostLine("10.0.0.2", "CLEANUPFAIL"));
    assert.ok(isDeleteStarted(all), "every host cleaning or cleaned: a delete");
    const m2 = parseJournal("b", text + "ENTRYDELETE: INPROGRESS\n");
    assert.equal(m2.entryDelete, "INPROGRESS");
    assert.ok(isDeleteStarted(m2));
  });
});
