// Domain errors to gRPC codes, once, at the RPC layer; and back again on the
// client side (CLI exit codes, CSI codes in the controller).
import { status } from "@grpc/grpc-js";
import { CsiError } from "../../csi/errors.js";
import {
  BlockBusyError,
  BlockExistsError,
  BlockNotFoundError,
  HostUnreachableError,
  InvalidRequestError,
  NoSpaceError,
  PartialFailureError,
  PreconditionError,
  VolumeNotFoundError,
  VolumeNotStartedError,
} from "../errors.js";
import { InvalidNameError } from "../names.js";
import { SizeError } from "../size.js";
import { JournalError, JournalValueError } from "../journal/index.js";

export function blockErrorToCsi(err: unknown): CsiError | undefined {
  const m = err instanceof Error ? err.message : "";
  if (err instanceof BlockNotFoundError || err instanceof VolumeNotFoundError) return new CsiError(status.NOT_FOUND, m, { cause: err });
  if (err instanceof BlockExistsError) return new CsiError(status.ALREADY_EXISTS, m, { cause: err });
  if (err instanceof NoSpaceError) return new CsiError(status.RESOURCE_EXHAUSTED, m, { cause: err });
  if (err instanceof BlockBusyError) return new CsiError(status.ABORTED, m, { cause: err });
  if (err instanceof HostUnreachableError) return new CsiError(status.UNAVAILABLE, m, { cause: err });
  if (err instanceof InvalidRequestError || err instanceof InvalidNameError || err instanceof SizeError || err instanceof JournalValueError) {
    return new CsiError(status.INVALID_ARGUMENT, m, { cause: err });
  }
  if (err instanceof VolumeNotStartedError || err instanceof PreconditionError) return new CsiError(status.FAILED_PRECONDITION, m, { cause: err });
  if (err instanceof PartialFailureError) return new CsiError(status.UNAVAILABLE, m, { cause: err });
  if (err instanceof JournalError) return new CsiError(status.DATA_LOSS, `metadata journal cannot be trusted: ${m}`, { cause: err });
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
