// Domain errors to gRPC codes, once, at the RPC layer; and back again on the
// client side (CLI exit codes, CSI codes in the controller).
import { status } from "../../rpc/status.js";
import { StatusError } from "../../rpc/errors.js";
import {
  BlockBusyError,
  BlockExistsError,
  BlockLockLostError,
  BlockNotFoundError,
  HostUnreachableError,
  InvalidRequestError,
  NoSpaceError,
  PartialFailureError,
  PreconditionError,
  VolumeNotFoundError,
  VolumeNotStartedError,
} from "../errors.js";
import { InvalidNameError } from "../../identity/names.js";
import { SizeError } from "../../identity/size.js";
import { JournalError, JournalValueError } from "../journal/index.js";

export function blockErrorToCsi(err: unknown): StatusError | undefined {
  const m = err instanceof Error ? err.message : "";
  if (err instanceof BlockNotFoundError || err instanceof VolumeNotFoundError) return new StatusError(status.NOT_FOUND, m, { cause: err });
  if (err instanceof BlockExistsError) return new StatusError(status.ALREADY_EXISTS, m, { cause: err });
  if (err instanceof NoSpaceError) return new StatusError(status.RESOURCE_EXHAUSTED, m, { cause: err });
  if (err instanceof BlockBusyError || err instanceof BlockLockLostError) return new StatusError(status.ABORTED, m, { cause: err });
  if (err instanceof HostUnreachableError) return new StatusError(status.UNAVAILABLE, m, { cause: err });
  if (err instanceof InvalidRequestError || err instanceof InvalidNameError || err instanceof SizeError || err instanceof JournalValueError) {
    return new StatusError(status.INVALID_ARGUMENT, m, { cause: err });
  }
  if (err instanceof VolumeNotStartedError || err instanceof PreconditionError) return new StatusError(status.FAILED_PRECONDITION, m, { cause: err });
  if (err instanceof PartialFailureError) return new StatusError(status.UNAVAILABLE, m, { cause: err });
  if (err instanceof JournalError) return new StatusError(status.DATA_LOSS, `metadata journal cannot be trusted: ${m}`, { cause: err });
  return undefined;
}

/** The original's CLI exit codes: 2 no such volume/block, 17 exists, 28 no space, 255 anything else. */
export function grpcCodeToErrCode(code: status): number {
  switch (code) {
    case status.NOT_FOUND:
      return 2;
    case status.ALREADY_EXISTS:
      return 17;
    case status.RESOURCE_EXHAUSTED:
      return 28;
    default:
      return 255;
  }
}
