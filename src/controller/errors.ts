// Every error from outside (gluster-blockd's gRPC statuses, the Kubernetes
// API's HTTP statuses, network failures) becomes a StatusError here, in one
// place. A grpc ServiceError or a Kubernetes ApiException must never reach
// the CSI wire as is: grpc-js would send its `code` (an HTTP status for the
// latter) as the gRPC status.
import { status } from "@grpc/grpc-js";
import { StatusError, fromGrpcError } from "../rpc/errors.js";
import { scrubSecrets } from "../util/secrets.js";

/** A Kubernetes API call failed; `httpStatus` is 0 for a network error. */
export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  constructor(
    readonly operation: string,
    readonly httpStatus: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** gRPC codes blockd answers with, to the code the controller answers with. */
const BLOCKD_TO_CSI: ReadonlyMap<number, number> = new Map([
  [status.NOT_FOUND, status.NOT_FOUND],
  [status.ALREADY_EXISTS, status.ALREADY_EXISTS],
  [status.RESOURCE_EXHAUSTED, status.RESOURCE_EXHAUSTED],
  [status.ABORTED, status.ABORTED],
  [status.UNAVAILABLE, status.UNAVAILABLE],
  [status.DEADLINE_EXCEEDED, status.DEADLINE_EXCEEDED],
  [status.INVALID_ARGUMENT, status.INVALID_ARGUMENT],
  [status.FAILED_PRECONDITION, status.FAILED_PRECONDITION],
  [status.OUT_OF_RANGE, status.OUT_OF_RANGE],
  [status.CANCELLED, status.ABORTED],
]);

/** A failed blockd call as the controller reports it. */
export function blockdError(err: unknown, where: string): StatusError {
  const g = fromGrpcError(err);
  if (!g) return new StatusError(status.INTERNAL, `gluster-blockd ${where}: ${scrubSecrets(err instanceof Error ? err.message : String(err))}`, { cause: err });
  const msg = scrubSecrets(g.message);
  if (g.code === status.UNAUTHENTICATED) {
    // blockd's TLS handshake refuses a bad certificate before any call, so this is nearly always the key
    return new StatusError(
      status.INTERNAL,
      `gluster-blockd ${where} refused the controller (${msg}); check --blockd-key-file against the storage nodes' key, and --blockd-tls-* against their CA`,
      { cause: err },
    );
  }
  if (g.code === status.PERMISSION_DENIED) {
    // blockd knows who we are (the handshake passed), and that one may not call it
    return new StatusError(
      status.INTERNAL,
      `gluster-blockd ${where} refused the controller's certificate (${msg}); --blockd-tls-cert must be the controller's client certificate, naming DNS:gluster-block-csi-controller`,
      { cause: err },
    );
  }
  const code = BLOCKD_TO_CSI.get(g.code) ?? status.INTERNAL;
  return new StatusError(code, `gluster-blockd ${where}: ${msg}`, { cause: err });
}

/** HTTP status of a Kubernetes API failure to a CSI code: transient ones are retried by the sidecars. */
export function kubeErrorToCsi(err: KubeApiError): StatusError {
  const s = err.httpStatus;
  const code =
    s === 0 || s === 429 || s >= 500
      ? status.UNAVAILABLE
      : s === 404
        ? status.NOT_FOUND
        : s === 409
          ? status.ALREADY_EXISTS
          : s === 401 || s === 403
            ? status.PERMISSION_DENIED
            : status.INTERNAL;
  return new StatusError(code, `Kubernetes API: ${err.message}`, { cause: err });
}

/** For the RPC wrapper: whatever escaped a handler unmapped. */
export function controllerErrorMap(err: unknown): StatusError | undefined {
  if (err instanceof StatusError) return err;
  if (err instanceof KubeApiError) return kubeErrorToCsi(err);
  const g = fromGrpcError(err);
  if (g) return blockdError(err, "call");
  return undefined;
}
