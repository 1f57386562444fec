import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseJournal, toBlockSummary } from "../../../../src/glusterblock/journal/index.js";
import { iqnFor } from "../../../../src/identity/names.js";
import { parseSize } from "../../../../src/identity/size.js";
import type { CliOutput } from "../../../../src/glusterblock/cli/types.js";
import { CliUsageError, parseArgs } from "../../../../src/glusterblock/cli/args.js";
import { renderJson, jsonObject } from "../../../../src/glusterblock/cli/json.js";
import {
  OUR_COMMANDS_HELP,
  renderAudit,
  renderCreate,
  renderDelete,
  renderError,
  renderHelp,
  renderInfo,
  renderList,
  renderModifyAuth,
  renderModifySize,
  renderReplace,
  renderUsageError,
  renderVersion,
} from "../../../../src/glusterblock/cli/output.js";

const fixtureUrl = (p: string): URL => new URL(`../../../fixtures/${p}`, import.meta.url);

interface Sample {
  readonly command: string;
  readonly exitCode: number;
  readonly stream: "stdout" | "stderr";
  readonly text: string;
}

/** The recorded samples: "## `cmd`  (exit N)", then stdout/stderr and a fenced block ending in ⏎ (the final newline). */
function loadSamples(): Sample[] {
  const md = readFileSync(fixtureUrl("cli/cli-success-0.5.1.md"), "utf8");
  const re = /^## `([^`]+)`\s+\(exit (\d+)\)\n(stdout|stderr):\n```\n([\s\S]*?)⏎\n```/gm;
  return [...md.matchAll(re)].map((m) => ({
    command: m[1] ?? "",
    exitCode: Number(m[2]),
    stream: m[3] as "stdout" | "stderr",
    text: `${m[4] ?? ""}\n`,
  }));
}

const REVERSED = ["10.213.0.13", "10.213.0.12", "10.213.0.11"];
const T1_GBID = "1bcc8980-5c86-4fc6-a2bb-b185786f3a5f";
const FIXTURE_PASSWORD = "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f";

function gbidIn(text: string): string {
  const m = /gluster-block:([0-9a-f-]{36})/.exec(text);
  assert.ok(m?.[1], "sample has an IQN");
  return m[1];
}

function journal(name: string): string {
  return readFileSync(fixtureUrl(`journal/${name}.txt`), "utf8");
}

/** Render a sample from our inputs: the command line goes through parseArgs, the result is what blockd would answer. */
function renderSample(s: Sample): CliOutput {
  const argv = s.command.replace(/^gluster-block /, "").split(" ");
  const { command, json } = parseArgs(argv);
  switch (command.kind) {
    case "version":
      return renderVersion();
    case "help": {
      const out = renderHelp();
      return { ...out, stdout: out.stdout.replace(OUR_COMMANDS_HELP, "") };
    }
    case "create": {
      const gbid = gbidIn(s.text);
      const auth = command.auth ? { username: gbid, password: "<PASSWORD>" } : {};
      return renderCreate({ iqn: iqnFor(gbid), ...auth, portals: command.hosts.slice(0, command.ha).map((h) => `${h}:3260`) }, json);
    }
    case "info": {
      if (command.block === "nosuch") {
        return renderError("info", { errCode: 2, errMsg: `block ${command.volume}/${command.block} doesn't exist` }, json);
      }
      const meta = parseJournal(command.block, journal(`after-create-${command.block}`));
      const info = toBlockSummary(meta);
      return renderInfo({ ...info, password: info.password === FIXTURE_PASSWORD ? "<PASSWORD>" : info.password }, json);
    }
    case "list": {
      // the names, in the sample's (directory) order
      const inJson = /"blocks":\[(.*?)\]/.exec(s.text)?.[1];
      const blocks = inJson === undefined ? s.text.trimEnd().split("\n") : inJson.replace(/"/g, "").split(",");
      return renderList({ blocks }, json);
    }
    case "modify-auth":
      return renderModifyAuth(
        { iqn: iqnFor(T1_GBID), auth: command.auth, username: T1_GBID, password: "<PASSWORD>", failedOn: [], successfulOn: REVERSED },
        json,
      );
    case "modify-size": {
      const gbid = gbidIn(s.text);
      return renderModifySize(
        { iqn: iqnFor(gbid), sizeBytes: command.sizeBytes, failedOn: [], successfulOn: command.block === "t1" ? REVERSED : ["10.213.0.11"], skippedOn: [] },
        json,
      );
    }
    case "delete":
      return renderDelete({ failedOn: [], successfulOn: command.block === "t1" ? REVERSED : ["10.213.0.11"] }, json);
    default:
      throw new Error(`no rendering for sample ${s.command}`);
  }
}

describe("the original 0.5.1's recorded output, byte for byte", () => {
  const samples = loadSamples();
  it("has all the samples of the fixture", () => {
    const headings = readFileSync(fixtureUrl("cli/cli-success-0.5.1.md"), "utf8").match(/^## `/gm) ?? [];
    assert.equal(samples.length, headings.length);
    assert.equal(samples.length, 30);
  });
  for (const s of samples) {
    it(s.command, () => {
      const out = renderSample(s);
      assert.equal(out.exitCode, s.exitCode);
      assert.equal(out[s.stream], s.text);
      assert.equal(out[s.stream === "stdout" ? "stderr" : "stdout"], "");
    });
  }
});

describe("errors", () => {
  const err = { errCode: 2, errMsg: "block block-test/nosuch doesn't exist" };
  it("plain: message then RESULT:FAIL, except info; on stderr with the code as exit", () => {
    assert.deepEqual(renderError("delete", err), { stdout: "", stderr: "block block-test/nosuch doesn't exist\nRESULT:FAIL\n", exitCode: 2 });
    assert.deepEqual(renderError("info", err), { stdout: "", stderr: "block block-test/nosuch doesn't exist\n", exitCode: 2 });
  });
  it("JSON in the three layouts, '/' escaped in all", () => {
    assert.equal(
      renderError("create", { errCode: 17, errMsg: "BLOCK with name: 't1' already EXIST" }, "spaced").stderr,
      `{ "RESULT": "FAIL", "errCode": 17, "errMsg": "BLOCK with name: 't1' already EXIST" }\n`,
    );
    assert.equal(renderError("info", err, "plain").stderr, `{"RESULT":"FAIL","errCode":2,"errMsg":"block block-test\\/nosuch doesn't exist"}\n`);
    assert.equal(renderError("info", err, "pretty").stderr, `{\n  "RESULT":"FAIL",\n  "errCode":2,\n  "errMsg":"block block-test\\/nosuch doesn't exist"\n}\n`);
  });
  it("maps codes outside 1..255 to 255", () => {
    assert.equal(renderError("create", { errCode: -1, errMsg: "x" }).exitCode, 255);
    assert.equal(renderError("create", { errCode: 0, errMsg: "x" }).exitCode, 255);
    assert.equal(renderError("create", { errCode: 300, errMsg: "x" }, "plain").stderr, `{"RESULT":"FAIL","errCode":255,"errMsg":"x"}\n`);
    assert.equal(renderError("create", { errCode: 28, errMsg: "x" }).exitCode, 28);
  });
  it("argument errors: plain message and usage; JSON when asked, wherever the flag was", () => {
    const catchUsage = (argv: string[]): CliUsageError => {
      try {
        parseArgs(argv);
      } catch (e) {
        if (e instanceof CliUsageError) return e;
        throw e;
      }
      throw new Error("no error");
    };
    const plain = renderUsageError(catchUsage(["create", "block-test/t1", "10.0.0.1", "2GB"]));
    assert.equal(plain.exitCode, 255);
    assert.equal(plain.stdout, "");
    assert.match(plain.stderr, /^create: unknown size unit "GB" in "2GB"; .*\ngluster-block create <volname\/blockname> .*\[--json\*\]\n$/);
    for (const [flag, expected] of [
      ["--json", `{ "RESULT": "FAIL", "errCode": 255, "errMsg": "create: size \\"0\\" is zero; give a positive size" }\n`],
      ["--json-spaced", `{ "RESULT": "FAIL", "errCode": 255, "errMsg": "create: size \\"0\\" is zero; give a positive size" }\n`],
      ["--json-plain", `{"RESULT":"FAIL","errCode":255,"errMsg":"create: size \\"0\\" is zero; give a positive size"}\n`],
      ["--json-pretty", `{\n  "RESULT":"FAIL",\n  "errCode":255,\n  "errMsg":"create: size \\"0\\" is zero; give a positive size"\n}\n`],
    ] as const) {
      for (const argv of [
        ["create", "block-test/t1", "10.0.0.1", "0", flag],
        [flag, "create", "block-test/t1", "10.0.0.1", "0"],
        ["create", flag, "block-test/t1", "10.0.0.1", "0"],
      ]) {
        const out = renderUsageError(catchUsage(argv));
        assert.deepEqual(out, { stdout: "", stderr: expected, exitCode: 255 }, argv.join(" "));
      }
    }
    const unknown = renderUsageError(catchUsage(["info", "block-test/t1", "--json-pretty", "--jsonx"]));
    assert.match(unknown.stderr, /^\{\n {2}"RESULT":"FAIL",\n {2}"errCode":255,\n {2}"errMsg":"unknown JSON format/);
  });
});

describe("results beyond the samples (formats from the original's source)", () => {
  const iqn = iqnFor(T1_GBID);
  it("create with a failed rollback", () => {
    const r = { iqn, portals: [], rollbackFailedOn: ["10.0.0.2"], rollbackSuccessOn: ["10.0.0.1", "10.0.0.3"], errCode: 255 };
    assert.deepEqual(renderCreate(r), {
      stdout: "",
      stderr: `IQN: ${iqn}\nPORTAL(S): -\nROLLBACK FAILED ON: 10.0.0.2 \nROLLBACK SUCCESS ON: 10.0.0.1 10.0.0.3 \nRESULT: FAIL\n`,
      exitCode: 255,
    });
    assert.equal(
      renderCreate(r, "plain").stderr,
      `{"IQN":"${iqn}","PORTAL(S)":[],"ROLLBACK FAILED ON":["10.0.0.2"],"ROLLBACK SUCCESS ON":["10.0.0.1","10.0.0.3"],"RESULT":"FAIL"}\n`,
    );
    assert.equal(renderCreate({ iqn, portals: [] }, "spaced").stdout, `{ "IQN": "${iqn}", "PORTAL(S)": [ ], "RESULT": "SUCCESS" }\n`);
    assert.equal(renderCreate({ iqn, portals: [] }, "pretty").stdout, `{\n  "IQN":"${iqn}",\n  "PORTAL(S)":[\n  ],\n  "RESULT":"SUCCESS"\n}\n`);
  });
  it("info with failures and resize failures", () => {
    const r = {
      name: "b",
      volume: "v",
      gbid: T1_GBID,
      sizeBytes: parseSize("3GiB"),
      ha: 3,
      ioTimeout: 60,
      password: "",
      exportedOn: ["10.0.0.1", "10.0.0.2"],
      failedOn: ["10.0.0.3"],
      resizeFailedOn: [
        { host: "10.0.0.1", currentSizeBytes: parseSize("2GiB") },
        { host: "10.0.0.2", currentSizeBytes: parseSize("1GiB") },
      ],
    };
    assert.equal(
      renderInfo(r).stdout,
      `NAME: b\nVOLUME: v\nGBID: ${T1_GBID}\nSIZE: 3.0 GiB\nHA: 3\nIOTIMEOUT: 60 Seconds\nPASSWORD: \nEXPORTED ON: 10.0.0.1 10.0.0.2\n` +
        "RESIZE FAILED ON: 10.0.0.1:[2.0 GiB] 10.0.0.2:[1.0 GiB]\nENCOUNTERED FAILURES ON: 10.0.0.3\n",
    );
    assert.equal(
      renderInfo(r, "plain").stdout,
      `{"NAME":"b","VOLUME":"v","GBID":"${T1_GBID}","SIZE":"3.0 GiB","HA":3,"IOTIMEOUT":"60 Seconds","PASSWORD":"","EXPORTED ON":["10.0.0.1","10.0.0.2"],` +
        `"RESIZE FAILED ON":{"10.0.0.1":"2.0 GiB","10.0.0.2":"1.0 GiB"},"ENCOUNTERED FAILURES ON":["10.0.0.3"]}\n`,
    );
    assert.equal(
      renderInfo({ ...r, exportedOn: [], failedOn: [], resizeFailedOn: [] })
        .stdout.split("\n")
        .at(-2),
      "EXPORTED ON:",
    );
  });
  it("list of nothing", () => {
    assert.equal(renderList({ blocks: [] }).stdout, "*Nil*\n");
    assert.equal(renderList({ blocks: [] }, "spaced").stdout, `{ "blocks": [ ], "RESULT": "SUCCESS" }\n`);
  });
  it("modify auth with a partial failure and its rollback", () => {
    const r = {
      iqn,
      auth: true,
      username: T1_GBID,
      password: "p",
      failedOn: ["10.0.0.2"],
      successfulOn: ["10.0.0.1"],
      rollback: { failedOn: [], successOn: ["10.0.0.1"] },
      errCode: 255,
    };
    assert.equal(renderModifyAuth(r).stderr, `IQN: ${iqn}\nFAILED ON:  10.0.0.2\nSUCCESSFUL ON:  10.0.0.1\nROLLBACK SUCCESS ON:  10.0.0.1\nRESULT: FAIL\n`);
    assert.equal(
      renderModifyAuth(r, "plain").stderr,
      `{"IQN":"${iqn}","FAILED ON":["10.0.0.2"],"SUCCESSFUL ON":["10.0.0.1"],"ROLLBACK SUCCESS ON":["10.0.0.1"],"RESULT":"FAIL"}\n`,
    );
  });
  it("modify size: skipped hosts, and a failure prints only its message", () => {
    const ok = { iqn, sizeBytes: parseSize("2GiB"), failedOn: [], successfulOn: ["10.0.0.1"], skippedOn: ["10.0.0.2", "10.0.0.3"] };
    assert.equal(renderModifySize(ok).stdout, `IQN: ${iqn}\nSIZE: 2.0 GiB\nSUCCESSFUL ON:  10.0.0.1\nSKIPPED ON: 10.0.0.2 10.0.0.3\nRESULT: SUCCESS\n`);
    const bad = { ...ok, skippedOn: [], failedOn: ["10.0.0.2"], resizeFailedOn: [{ host: "10.0.0.2", currentSizeBytes: parseSize("1GiB") }], errCode: 255 };
    assert.deepEqual(renderModifySize(bad), { stdout: "", stderr: "block volume resize failed: 10.0.0.2:[1.0 GiB]\n", exitCode: 255 });
    assert.equal(
      renderModifySize(bad, "plain").stderr,
      `{"IQN":"${iqn}","FAILED ON":["10.0.0.2"],"SUCCESSFUL ON":["10.0.0.1"],"RESULT":"FAIL","errCode":255,"errMsg":"block volume resize failed: 10.0.0.2:[1.0 GiB]"}\n`,
    );
  });
  it("delete with failures, and with nothing cleaned", () => {
    assert.equal(
      renderDelete({ failedOn: ["10.0.0.2"], successfulOn: ["10.0.0.1"], errCode: 255 }).stderr,
      "FAILED ON:   10.0.0.2\nSUCCESSFUL ON:   10.0.0.1\nRESULT: FAIL\n",
    );
    assert.equal(renderDelete({ failedOn: ["10.0.0.2"], successfulOn: [], errCode: 255 }).stderr, "FAILED ON:   10.0.0.2\nSUCCESSFUL ON: None\nRESULT: FAIL\n");
    assert.equal(renderDelete({ failedOn: ["10.0.0.2"], successfulOn: [], errCode: 255 }, "plain").stderr, `{"FAILED ON":["10.0.0.2"],"RESULT":"FAIL"}\n`);
  });
  it("replace: done, forced past a failed delete, skipped, node in use", () => {
    const done = {
      name: "b",
      outcome: "done" as const,
      create: { state: "SUCCESS" as const, host: "10.0.0.4" },
      delete: { state: "SUCCESS" as const, host: "10.0.0.1" },
      force: false,
      portal: { failedOn: [], successOn: ["10.0.0.2", "10.0.0.3"] },
    };
    assert.deepEqual(renderReplace(done), {
      stdout: "NAME: b\nCREATE SUCCESS: 10.0.0.4\nDELETE SUCCESS: 10.0.0.1\nREPLACE PORTAL SUCCESS ON:  10.0.0.2 10.0.0.3\nRESULT: SUCCESS\n\n",
      stderr: "",
      exitCode: 0,
    });
    assert.equal(
      renderReplace(done, "plain").stdout,
      `{"NAME":"b","CREATE SUCCESS":"10.0.0.4","DELETE SUCCESS":"10.0.0.1","REPLACE PORTAL SUCCESS ON":["10.0.0.2","10.0.0.3"],"RESULT":"SUCCESS"}\n`,
    );
    const forced = { ...done, force: true, delete: { state: "FAILED" as const, host: "10.0.0.1" } };
    assert.match(renderReplace(forced).stdout, /DELETE FAILED \(ignored\): 10\.0\.0\.1\n.*RESULT: SUCCESS/s);
    assert.equal(renderReplace({ ...forced, force: false }).exitCode, 255);
    assert.equal(renderReplace({ name: "b", outcome: "skipped" }).stdout, "NAME: b\nRESULT: SKIPPED\n\n");
    // as 0.5.1: exit 224, the plain error form and in JSON no keys beside RESULT, errCode, errMsg
    const inUse = { name: "b", outcome: "new-node-in-use", volume: "v", newNode: "10.0.0.2" } as const;
    assert.equal(
      renderReplace(inUse, "plain").stderr,
      `{"RESULT":"FAIL","errCode":224,"errMsg":"block 'b' was already configured on node '10.0.0.2' for volume 'v'"}\n`,
    );
    assert.equal(renderReplace(inUse).stderr, "block 'b' was already configured on node '10.0.0.2' for volume 'v'\nRESULT:FAIL\n");
    assert.equal(renderReplace(inUse).exitCode, 224);
  });
  it("audit (ours)", () => {
    const r = {
      volume: "v",
      fix: true,
      findings: [
        { name: "b1", state: "ok" as const },
        { name: "b2", state: "create-incomplete" as const, detail: "1 of 3 hosts configured", action: "completed" },
      ],
    };
    assert.equal(
      renderAudit(r).stdout,
      "VOLUME: v\nNAME: b1 STATE: ok\nNAME: b2 STATE: create-incomplete DETAIL: 1 of 3 hosts configured ACTION: completed\nRESULT: SUCCESS\n",
    );
    assert.equal(
      renderAudit(r, "plain").stdout,
      `{"VOLUME":"v","BLOCKS":[{"NAME":"b1","STATE":"ok"},{"NAME":"b2","STATE":"create-incomplete","DETAIL":"1 of 3 hosts configured","ACTION":"completed"}],"RESULT":"SUCCESS"}\n`,
    );
    assert.equal(renderAudit({ ...r, errCode: 255 }).exitCode, 255);
  });
});

describe("JSON renderer", () => {
  it("escapes as json-c", () => {
    assert.equal(renderJson(jsonObject([["k", 'a"b\\c/d\n\t\u0001é']]), "plain"), '{"k":"a\\"b\\\\c\\/d\\n\\t\\u0001é"}');
  });
  it("nests objects and arrays in all layouts", () => {
    const v = jsonObject([
      ["a", [1, jsonObject([["b", []]])]],
      ["c", jsonObject([])],
    ]);
    assert.equal(renderJson(v, "plain"), '{"a":[1,{"b":[]}],"c":{}}');
    assert.equal(renderJson(v, "spaced"), '{ "a": [ 1, { "b": [ ] } ], "c": { } }');
    assert.equal(renderJson(v, "pretty"), '{\n  "a":[\n    1,\n    {\n      "b":[\n      ]\n    }\n  ],\n  "c":{\n  }\n}');
  });
});
