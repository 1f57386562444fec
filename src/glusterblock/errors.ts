// Domain errors of the gluster-block engine. The RPC layer maps them to gRPC
// codes once (blockd/error-map.ts blockErrorToCsi); the CLI's exit codes (the
// original's: 2 no such volume/block, 17 exists, 28 no space, 255 anything
// else) come back from those gRPC codes (error-map.ts grpcCodeToErrCode).

export abstract class BlockError extends Error {}

export class VolumeNotFoundError extends BlockError {
  override readonly name = "VolumeNotFoundError";
  constructor(
    readonly volume: string,
    detail?: string,
  ) {
    super(`volume ${volume} doesn't exist${detail ? ` (${detail})` : ""}`);
  }
}

export class VolumeNotStartedError extends BlockError {
  override readonly name = "VolumeNotStartedError";
  constructor(readonly volume: string) {
    super(`volume ${volume} is not started`);
  }
}

export class BlockNotFoundError extends BlockError {
  override readonly name = "BlockNotFoundError";
  constructor(
    readonly volume: string,
    readonly block: string,
  ) {
    super(`block ${volume}/${block} doesn't exist`);
  }
}

export class BlockExistsError extends BlockError {
  override readonly name = "BlockExistsError";
  constructor(
    readonly volume: string,
    readonly block: string,
    detail?: string,
  ) {
    super(`block ${volume}/${block} already exists${detail ? `: ${detail}` : ""}`);
  }
}

export class NoSpaceError extends BlockError {
  override readonly name = "NoSpaceError";
  constructor(message: string) {
    super(message);
  }
}

export class InvalidRequestError extends BlockError {
  override readonly name = "InvalidRequestError";
}

/** A precondition of the cluster, not of the request: host not in pool, and such. */
export class PreconditionError extends BlockError {
  override readonly name = "PreconditionError";
}

export class HostUnreachableError extends BlockError {
  override readonly name = "HostUnreachableError";
  constructor(
    readonly hosts: readonly string[],
    detail: string,
  ) {
    super(`host${hosts.length > 1 ? "s" : ""} ${hosts.join(", ")} unreachable: ${detail}`);
  }
}

/** Another operation holds the block; retry later. */
export class BlockBusyError extends BlockError {
  override readonly name = "BlockBusyError";
  constructor(
    readonly volume: string,
    readonly block: string,
    holder?: string,
  ) {
    super(`block ${volume}/${block} is busy with another operation${holder ? ` (held by ${holder})` : ""}; retry later`);
  }
}

/**
 * The operation's lock on its block was lost while it ran (the bricks
 * dropped it, or another node has held it since): it stopped before its next
 * write. The journal says how far it got; a retry goes on from there.
 */
export class BlockLockLostError extends BlockError {
  override readonly name = "BlockLockLostError";
  constructor(
    readonly volume: string,
    readonly block: string,
    readonly reason: string,
  ) {
    super(`block ${volume}/${block}: the operation lost its lock (${reason}) and stopped before its next write; retry`);
  }
}

/** Some hosts failed; what succeeded is named so a retry can converge. */
export class PartialFailureError extends BlockError {
  override readonly name = "PartialFailureError";
  constructor(
    message: string,
    readonly failedOn: readonly string[],
    readonly successfulOn: readonly string[],
  ) {
    super(message);
  }
}
