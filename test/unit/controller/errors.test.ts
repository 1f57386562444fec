import { test } from "node:test";
import assert from "node:assert/strict";
import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { StatusError } from "../../../src/rpc/errors.js";
import { blockdError, controllerErrorMap, KubeApiError, kubeErrorToCsi } from "../../../src/controller/errors.js";
import { addCallSecrets, newCallSecrets, runWithCallSecrets } from "../../../src/util/secrets.js";

const serviceError = (code: status, details: string): ServiceError =>
  Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: new Metadata() });

test("blockd's gRPC codes map to the controller's, one table", () => {
  const table: [status, status][] = [
    [status.NOT_FOUND, status.NOT_FOUND],
    [status.ALREADY_EXISTS, status.ALREADY_EXISTS],
    [status.RESOURCE_EXHAUSTED, status.RESOURCE_EXHAUSTED],
    [status.ABORTED, status.ABORTED],
    [status.UNAVAILABLE, status.UNAVAILABLE],
    [status.INVALID_ARGUMENT, status.INVALID_ARGUMENT],
    [status.FAILED_PRECONDITION, status.FAILED_PRECONDITION],
    [status.DEADLINE_EXCEEDED, status.DEADLINE_EXCEEDED],
    [status.CANCELLED, status.ABORTED],
    [status.DATA_LOSS, status.INTERNAL],
    [status.UNKNOWN, status.INTERNAL],
    [status.UNAUTHENTICATED, status.INTERNAL],
    [status.PERMISSION_DENIED, status.INTERNAL],
  ];
  for (const [from, to] of table) {
    const e = blockdError(serviceError(from, "detail text"), "10.0.0.1:24010 CreateBlock");
    assert.equal(e.code, to, `${status[from]} -> ${status[to]}`);
    assert.match(e.message, /gluster-blockd 10\.0\.0\.1:24010 CreateBlock/);
  }
  assert.match(blockdError(serviceError(status.UNAUTHENTICATED, "no key"), "x").message, /--blockd-key-file/);
  assert.match(
    blockdError(serviceError(status.PERMISSION_DENIED, "not the controller"), "x").message,
    /--blockd-tls-cert must be the controller's client certificate, naming DNS:gluster-block-csi-controller/,
  );
  assert.equal(blockdError(new Error("socket hang up"), "x").code, status.INTERNAL);
});

test("a secret of the call never appears in a mapped message", () => {
  const e = runWithCallSecrets(newCallSecrets(), () => {
    addCallSecrets("chap-secret-value-xyz");
    return blockdError(serviceError(status.INTERNAL, "failed with password chap-secret-value-xyz"), "x");
  });
  assert.doesNotMatch(e.message, /chap-secret-value-xyz/);
});

test("Kubernetes HTTP statuses map to CSI codes", () => {
  const table: [number, status][] = [
    [0, status.UNAVAILABLE],
    [429, status.UNAVAILABLE],
    [500, status.UNAVAILABLE],
    [503, status.UNAVAILABLE],
    [404, status.NOT_FOUND],
    [409, status.ALREADY_EXISTS],
    [401, status.PERMISSION_DENIED],
    [403, status.PERMISSION_DENIED],
    [422, status.INTERNAL],
  ];
  for (const [http, code] of table) assert.equal(kubeErrorToCsi(new KubeApiError("op", http, "", "m")).code, code, String(http));
});

test("the RPC wrapper's map: ServiceErrors and KubeApiErrors become StatusErrors; others fall through to INTERNAL", () => {
  assert.equal(controllerErrorMap(serviceError(status.NOT_FOUND, "x"))?.code, status.NOT_FOUND);
  assert.equal(controllerErrorMap(new KubeApiError("op", 403, "Forbidden", "op: HTTP 403"))?.code, status.PERMISSION_DENIED);
  const c = new StatusError(status.ABORTED, "busy");
  assert.equal(controllerErrorMap(c), c);
  assert.equal(controllerErrorMap(new TypeError("bug")), undefined);
  // an error whose `code` is an HTTP status must not pass as a gRPC status
  assert.equal(controllerErrorMap(Object.assign(new Error("x"), { code: 404, body: "{}" })), undefined);
});
