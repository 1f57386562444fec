// What the CLI says for blockd's error answers: the original's words where
// 0.5.1 had its own (a create of an existing block), in every output form.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { errorMessage } from "../../../../src/glusterblock/cli/main.js";
import { renderError } from "../../../../src/glusterblock/cli/output.js";
import { parseArgs } from "../../../../src/glusterblock/cli/args.js";

describe("the CLI's error answers", () => {
  it("a create of an existing block: exit 17 and 0.5.1's words, no credentials, in plain and every JSON form", () => {
    const { command } = parseArgs(["create", "block-test/t1", "ha", "1", "10.0.0.1", "1GiB"]);
    const msg = errorMessage(command, status.ALREADY_EXISTS, "block block-test/t1 already exists", "/run/x.sock", 300);
    assert.equal(msg, "BLOCK with name: 't1' already EXIST\n");
    const plain = renderError("create", { errCode: 17, errMsg: msg });
    assert.equal(plain.exitCode, 17);
    assert.equal(plain.stdout, "");
    assert.equal(plain.stderr, "BLOCK with name: 't1' already EXIST\n\nRESULT:FAIL\n");
    assert.equal(
      renderError("create", { errCode: 17, errMsg: msg }, "plain").stderr,
      `{"RESULT":"FAIL","errCode":17,"errMsg":"BLOCK with name: 't1' already EXIST\\n"}\n`,
    );
    assert.equal(
      renderError("create", { errCode: 17, errMsg: msg }, "spaced").stderr,
      `{ "RESULT": "FAIL", "errCode": 17, "errMsg": "BLOCK with name: 't1' already EXIST\\n" }\n`,
    );
  });
  it("other commands keep blockd's message", () => {
    const { command } = parseArgs(["info", "block-test/t1"]);
    assert.equal(errorMessage(command, status.ALREADY_EXISTS, "x", "/s", 1), "x");
    assert.match(errorMessage(command, status.UNAVAILABLE, "connect ECONNREFUSED", "/s", 1), /is it running/);
  });
});
