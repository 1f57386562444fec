// One error type for the wire. Handlers throw StatusError (or domain errors that
// the service maps to one); anything else becomes INTERNAL. grpc-js sends an
// error's integer `code` as the gRPC status, so nothing but a StatusError may
// reach it: a Kubernetes ApiException's `code` is an HTTP status.
import type { ServiceError } from "@grpc/grpc-js";
import { status } from "./status.js";

export class StatusError extends Error {
  override readonly name = "StatusError";
  constructor(
    readonly code: status,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  get codeName(): string {
    return status[this.code] ?? String(this.code);
  }
}

export const invalidArgument = (msg: string, cause?: unknown): StatusError => new StatusError(status.INVALID_ARGUMENT, msg, { cause });
export const notFound = (msg: string, cause?: unknown): StatusError => new StatusError(status.NOT_FOUND, msg, { cause });
export const alreadyExists = (msg: string, cause?: unknown): StatusError => new StatusError(status.ALREADY_EXISTS, msg, { cause });
export const aborted = (msg: string, cause?: unknown): StatusError => new StatusError(status.ABORTED, msg, { cause });
export const failedPrecondition = (msg: string, cause?: unknown): StatusError => new StatusError(status.FAILED_PRECONDITION, msg, { cause });
export const permissionDenied = (msg: string, cause?: unknown): StatusError => new StatusError(status.PERMISSION_DENIED, msg, { cause });
export const unavailable = (msg: string, cause?: unknown): StatusError => new StatusError(status.UNAVAILABLE, msg, { cause });
export const resourceExhausted = (msg: string, cause?: unknown): StatusError => new StatusError(status.RESOURCE_EXHAUSTED, msg, { cause });
export const outOfRange = (msg: string, cause?: unknown): StatusError => new StatusError(status.OUT_OF_RANGE, msg, { cause });
export const internal = (msg: string, cause?: unknown): StatusError => new StatusError(status.INTERNAL, msg, { cause });
export const unauthenticated = (msg: string, cause?: unknown): StatusError => new StatusError(status.UNAUTHENTICATED, msg, { cause });
export const deadlineExceeded = (msg: string, cause?: unknown): StatusError => new StatusError(status.DEADLINE_EXCEEDED, msg, { cause });

/** A gRPC status received from a peer, as grpc-js rejects a call with it: an Error with a numeric `code` and its `details`. */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === "number" && "details" in err;
}

/** Turns a gRPC status received from a peer back into a StatusError (keeps the code). */
export function fromGrpcError(err: unknown): StatusError | undefined {
  if (err instanceof StatusError) return err;
  if (!isServiceError(err)) return undefined;
  // a peer may send any number; only gRPC's own codes are kept
  const code: number = err.code;
  return code >= 0 && code <= 16 ? new StatusError(code, err.details || err.message, { cause: err }) : undefined;
}
