import { test } from "node:test";
import assert from "node:assert/strict";
import { parseEndpoint, grpcAddress, EndpointError } from "../../../src/rpc/endpoint.js";

test("endpoints in the forms the sidecars and our flags use", () => {
  assert.deepEqual(parseEndpoint("unix:///csi/csi.sock"), { kind: "unix", path: "/csi/csi.sock" });
  assert.deepEqual(parseEndpoint("/run/gluster-blockd.sock"), { kind: "unix", path: "/run/gluster-blockd.sock" });
  assert.deepEqual(parseEndpoint("tcp://10.0.0.1:24010"), { kind: "tcp", host: "10.0.0.1", port: 24010 });
  assert.deepEqual(parseEndpoint("[fd00::1]:24010"), { kind: "tcp", host: "[fd00::1]", port: 24010 });
  assert.equal(grpcAddress(parseEndpoint("unix:///a/b")), "unix:/a/b");
});

test("bad endpoints are rejected with a clear message", () => {
  for (const bad of ["unix://relative", "", "host", "host:0", "host:70000", "tcp://:1", "http://x:1"]) {
    assert.throws(() => parseEndpoint(bad), EndpointError, bad);
  }
});
