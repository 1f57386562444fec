// Domain errors of the node plugin, and their one mapping to gRPC codes.
import { status } from "@grpc/grpc-js";
import { StatusError } from "../rpc/errors.js";
import { ExecCancelledError, ExecError } from "../util/exec.js";

/** Another operation holds the volume and did not let go in time. */
export class VolumeBusyError extends Error {
  override readonly name = "VolumeBusyError";
  constructor(
    readonly volumeId: string,
    readonly waitedMs: number,
  ) {
    super(`another operation on volume ${volumeId} is still running (waited ${Math.round(waitedMs / 1000)} s); try again`);
  }
}

/** The call used its time budget; what it did so far stays, and a retry carries on from there. */
export class BudgetExceededError extends Error {
  override readonly name = "BudgetExceededError";
  constructor(what: string, budgetMs: number) {
    super(`${what} did not finish within this call's ${Math.round(budgetMs / 1000)} s budget; progress is kept, retry`);
  }
}

/** The caller cancelled the call, or its deadline passed: the call stops where it is; what it did so far stays. */
export class CallCancelledError extends Error {
  override readonly name = "CallCancelledError";
  constructor(what: string, signal: AbortSignal) {
    super(`${signal.reason instanceof Error ? signal.reason.message : "cancelled by the caller"} while ${what}; progress is kept, retry`);
  }
}

/** A device of the target answers with another identity than the one the volume must have. */
export class WwidMismatchError extends Error {
  override readonly name = "WwidMismatchError";
  constructor(
    readonly expected: string,
    readonly found: string,
    readonly device: string,
  ) {
    super(`device ${device} has WWID ${found}, but the volume's WWID is ${expected}; refusing to use it`);
  }
}

/** No path of the volume could be logged in to or appeared in time. */
export class NoPathError extends Error {
  override readonly name = "NoPathError";
}

/** Host settings that would endanger data (multipath config). */
export class HostConfigError extends Error {
  override readonly name = "HostConfigError";
}

/** A device holds data (or cannot be read) and will not be formatted. */
export class NotBlankError extends Error {
  override readonly name = "NotBlankError";
}

/** The device holds a filesystem of another type than the one asked for. */
export class FsTypeMismatchError extends Error {
  override readonly name = "FsTypeMismatchError";
}

/** The volume is still mounted or in use somewhere the call must not touch. */
export class InUseError extends Error {
  override readonly name = "InUseError";
}

/** Something the call depends on is not there (not staged, staging path not mounted). */
export class NotStagedError extends Error {
  override readonly name = "NotStagedError";
}

/** The volume is already staged or published in an incompatible way. */
export class ConflictError extends Error {
  override readonly name = "ConflictError";
}

/** The volume or path is not known here (NodeGetVolumeStats). */
export class UnknownVolumeError extends Error {
  override readonly name = "UnknownVolumeError";
}

/**
 * A portal's iscsiadm node record could not be written. Unlike a portal that
 * does not answer, the healer cannot finish this one later (it has no CHAP
 * secret), so the stage fails and kubelet's retry, which has it, does.
 */
export class NodeRecordError extends Error {
  override readonly name = "NodeRecordError";
}

/** Why a target refused a login: its CHAP check, its ACL, or not known (login-refusal.ts). */
export type RefusalCause = "chap" | "acl" | "unknown";

/** iSCSI login refused: the CHAP credentials, or the target's ACL (iscsiadm exit 24 for both). */
export class AuthFailedError extends Error {
  override readonly name = "AuthFailedError";
  constructor(
    message: string,
    readonly refusal: RefusalCause,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function mapNodeError(err: unknown): StatusError | undefined {
  const to = (code: status): StatusError => new StatusError(code, err instanceof Error ? err.message : String(err), { cause: err });
  if (err instanceof VolumeBusyError) return to(status.ABORTED);
  if (err instanceof BudgetExceededError) return to(status.DEADLINE_EXCEEDED);
  if (err instanceof CallCancelledError || err instanceof ExecCancelledError) return to(status.CANCELLED);
  if (err instanceof WwidMismatchError) return to(status.FAILED_PRECONDITION);
  if (err instanceof NoPathError) return to(status.UNAVAILABLE);
  if (err instanceof HostConfigError) return to(status.FAILED_PRECONDITION);
  if (err instanceof NotBlankError) return to(status.FAILED_PRECONDITION);
  if (err instanceof FsTypeMismatchError) return to(status.FAILED_PRECONDITION);
  if (err instanceof InUseError) return to(status.FAILED_PRECONDITION);
  if (err instanceof NotStagedError) return to(status.FAILED_PRECONDITION);
  if (err instanceof ConflictError) return to(status.ALREADY_EXISTS);
  if (err instanceof UnknownVolumeError) return to(status.NOT_FOUND);
  if (err instanceof AuthFailedError) return to(status.PERMISSION_DENIED);
  if (err instanceof NodeRecordError) return to(status.INTERNAL);
  // a host tool that failed or hung: retryable from the CO's point of view
  if (err instanceof ExecError) return new StatusError(err.timedOut ? status.DEADLINE_EXCEEDED : status.INTERNAL, err.message, { cause: err });
  return undefined;
}
