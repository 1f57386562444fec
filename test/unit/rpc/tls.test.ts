// TLS configuration from flags: all three files or none, a partial set is a
// usage error at start-up (exit 2) naming what is missing; and the per-call
// check of tcp-api.ts before any certificate is looked at. The handshake itself is tested with real certificates
// in test/integration/blockd-tls.test.ts.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { Metadata } from "@grpc/grpc-js";
import { tlsFiles, BLOCKD_TLS_FLAGS } from "../../../src/rpc/tls.js";
import { tcpAuthorizer } from "../../../src/glusterblock/blockd/tcp-api.js";
import { KEY_HEADER } from "../../../src/rpc/peer-auth.js";
import { UsageError, parseFlags } from "../../../src/util/flags.js";
import type { StatusError } from "../../../src/rpc/errors.js";
import { CONTROLLER_FLAGS, CONTROLLER_TLS_FLAGS, controllerConfig } from "../../../src/controller/config.js";
import { runProgram } from "../../helpers/spawn-program.js";

describe("tlsFiles", () => {
  test("none given: no TLS", () => {
    assert.equal(tlsFiles({}, BLOCKD_TLS_FLAGS), undefined);
  });

  test("all three: the files", () => {
    assert.deepEqual(tlsFiles({ cert: "/c", key: "/k", ca: "/a" }, BLOCKD_TLS_FLAGS), { cert: "/c", key: "/k", ca: "/a" });
  });

  test("some but not all: a UsageError naming every missing flag", () => {
    assert.throws(
      () => tlsFiles({ cert: "/c" }, BLOCKD_TLS_FLAGS),
      (err: unknown) => {
        assert.ok(err instanceof UsageError);
        assert.equal(err.message, "TLS needs all of --tls-cert, --tls-key, --tls-ca; missing --tls-key, --tls-ca");
        return true;
      },
    );
    assert.throws(() => tlsFiles({ cert: "/c", key: "/k", ca: "" }, CONTROLLER_TLS_FLAGS), /missing --blockd-tls-ca$/);
  });

  test("the controller's flags: a partial set refuses the configuration", () => {
    const cfg = (argv: string[]) =>
      controllerConfig(parseFlags(["--blockd-endpoints", "127.0.0.1:24010", ...argv], CONTROLLER_FLAGS), "block.csi.gluster.org", {});
    assert.equal(cfg(["--blockd-insecure-no-auth"]).tls, undefined);
    assert.deepEqual(cfg(["--blockd-tls-cert", "/c", "--blockd-tls-key", "/k", "--blockd-tls-ca", "/a"]).tls, { cert: "/c", key: "/k", ca: "/a" });
    assert.throws(
      () => cfg(["--blockd-tls-key", "/k"]),
      /TLS needs all of --blockd-tls-cert, --blockd-tls-key, --blockd-tls-ca; missing --blockd-tls-cert, --blockd-tls-ca/,
    );
  });
});

describe("the programs refuse a partial TLS configuration before starting anything", () => {
  test("gluster-blockd exits 2", async () => {
    const r = await runProgram("gluster-blockd", ["--host", "192.0.2.1", "--tls-cert", "/nonexistent/blockd.crt", "--tls-ca", "/nonexistent/ca.crt"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error: TLS needs all of --tls-cert, --tls-key, --tls-ca; missing --tls-key\n/);
  });

  test("gluster-block-csi controller exits 2", async () => {
    const r = await runProgram("gluster-block-csi", [
      "controller",
      "--endpoint",
      "unix:///nonexistent/csi.sock",
      "--kube-api",
      "off",
      "--blockd-endpoints",
      "127.0.0.1:1",
      "--blockd-tls-ca",
      "/nonexistent/ca.crt",
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error: TLS needs all of --blockd-tls-cert, --blockd-tls-key, --blockd-tls-ca; missing --blockd-tls-cert, --blockd-tls-key\n/);
  });

  test("gluster-blockd with all three but unreadable files stops at start-up, naming the file", async () => {
    const r = await runProgram("gluster-blockd", [
      "--host",
      "192.0.2.1",
      "--socket",
      "/nonexistent/gb.sock",
      "--tls-cert",
      "/nonexistent/blockd.crt",
      "--tls-key",
      "/nonexistent/blockd.key",
      "--tls-ca",
      "/nonexistent/ca.crt",
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /--tls-key \/nonexistent\/blockd\.key: cannot read it \(ENOENT\)/);
  });
});

describe("the per-call check of the TCP API", () => {
  const md = (key?: string): Metadata => {
    const m = new Metadata();
    if (key !== undefined) m.set(KEY_HEADER, key);
    return m;
  };
  const refusal = (r: StatusError | undefined): [string, string] | undefined => (r ? [r.codeName, r.message] : undefined);
  // with real certificates, and the roles: test/unit/glusterblock/blockd/tcp-roles.test.ts

  test("with TLS, a call without a verified client certificate is refused (a listener that came up without TLS serves no one)", () => {
    for (const service of ["Blockd", "BlockdPeer"] as const) {
      const authorize = tcpAuthorizer(undefined, true, service);
      assert.deepEqual(refusal(authorize(md(), "ipv4:192.0.2.9:5000", {})), ["UNAUTHENTICATED", "a client certificate signed by the blockd CA is required"]);
      assert.deepEqual(refusal(authorize(md(), "ipv4:192.0.2.9:5000", { transportSecurityType: "ssl" })), [
        "UNAUTHENTICATED",
        "a client certificate signed by the blockd CA is required",
      ]);
    }
  });

  test("without TLS (an insecure flag), the key alone decides, and there are no roles", () => {
    for (const service of ["Blockd", "BlockdPeer"] as const) {
      assert.equal(tcpAuthorizer(undefined, false, service)(md(), "p", {}), undefined);
      assert.deepEqual(refusal(tcpAuthorizer("the-shared-key-0123456789", false, service)(md(), "p", {})), [
        "UNAUTHENTICATED",
        "a valid blockd key is required",
      ]);
      assert.equal(tcpAuthorizer("the-shared-key-0123456789", false, service)(md("the-shared-key-0123456789"), "p", {}), undefined);
    }
  });
});
