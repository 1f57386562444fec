// Typed failures of the LIO writer; the RPC layer maps them to gRPC codes.

export class LioError extends Error {
  override readonly name: string = "LioError";
}

/** The spec cannot be applied as given (bad name, host list, size). */
export class LioInvalidSpecError extends LioError {
  override readonly name = "LioInvalidSpecError";
}

/** LIO holds an object of the same name that belongs to something else (another block, another handler). */
export class LioConflictError extends LioError {
  override readonly name = "LioConflictError";
}

/** A configfs operation failed; `op` and `path` say which, `code` is the errno name. */
export class LioConfigfsError extends LioError {
  override readonly name = "LioConfigfsError";
  constructor(
    readonly op: string,
    readonly path: string,
    readonly code: string | undefined,
    detail: string,
  ) {
    super(`configfs ${op} ${path}: ${detail}`);
  }
}

/** The kernel side is missing: modules not loadable or configfs not mountable. */
export class LioUnavailableError extends LioError {
  override readonly name = "LioUnavailableError";
}
