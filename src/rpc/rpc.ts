// The one wrapper every RPC of every service goes through (ceph-csi's
// interceptor chain, in one place): request id, child logger, redacted
// request, duration and code, slow-call warning, error -> gRPC status, a
// catch-all that turns anything unexpected into INTERNAL, and the caller's
// cancellation as an AbortSignal for the handler to pass on (exec, calls to
// other services).
import { Metadata, status, type ServerUnaryCall, type ServiceDefinition, type sendUnaryData, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { randomBytes } from "node:crypto";
import { StatusError, deadlineExceeded } from "./errors.js";
import { redactValue, safeValue, isSecretKey, isIdentityKey } from "../util/redact.js";
import { newCallSecrets, runWithCallSecrets, scrubSecrets, type SecretSet } from "../util/secrets.js";
import type { Logger } from "../util/log.js";

export const REQUEST_ID_HEADER = "x-request-id";

export interface RpcContext {
  readonly requestId: string;
  readonly method: string;
  readonly log: Logger;
  /** the caller's address (unix socket callers show as "unix:...") */
  readonly peer: string;
  /** metadata to pass on to a downstream gRPC call so logs correlate */
  readonly outgoing: Metadata;
  /**
   * fires when the caller cancels or its deadline passes while the handler
   * runs (never after it answered); pass it to exec and to outgoing calls
   */
  readonly signal: AbortSignal;
}

/** What the transport proved about the caller: with TLS, its verified certificate (grpc-js does not export the type). */
export type AuthContext = ReturnType<ServerUnaryCall<unknown, unknown>["getAuthContext"]>;

export type UnaryHandler<Req, Res> = (req: Req, ctx: RpcContext) => Promise<Res>;

/** Sees every finished call; for metrics. */
export type RpcObserver = (method: string, code: status, durationMs: number) => void;

export interface WrapOptions {
  log: Logger;
  /** maps a service's domain errors to a StatusError; return undefined to fall through to INTERNAL */
  mapError?: (err: unknown) => StatusError | undefined;
  /** calls slower than this are logged at warn (default 10 s) */
  slowMs?: number;
  /** methods logged at debug instead of info (Probe is called every few seconds) */
  quietMethods?: readonly string[];
  observer?: RpcObserver;
  /**
   * checks the caller (a shared key in the metadata, the verified TLS client
   * certificate in `auth`); a returned StatusError refuses the call with its
   * code: UNAUTHENTICATED when the caller is not proved to be anyone,
   * PERMISSION_DENIED when it is, but may not call this service
   */
  authorize?: (metadata: Metadata, peer: string, auth: AuthContext) => StatusError | undefined;
}

function newRequestId(): string {
  return randomBytes(6).toString("hex");
}

/**
 * Registers the secret values a request carries in its call's scope: a
 * secret-named string field (a password), and the values of a secret-named
 * map (a CSI `secrets` map), except what an identity key names there. A CSI
 * `secrets` map holds the CHAP username too, and ours is the volume's GBID:
 * scrubbed, it would turn every GBID and IQN of the volume into *** in the
 * logs.
 */
function registerSecrets(value: unknown, scope: SecretSet, depth = 0): void {
  if (depth > 8 || value === null || typeof value !== "object") return;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (isSecretKey(k)) {
      if (typeof v === "string" && !isIdentityKey(k)) scope.add(v);
      else if (v !== null && typeof v === "object")
        for (const [name, x] of Object.entries(v as Record<string, unknown>)) if (typeof x === "string" && !isIdentityKey(name)) scope.add(x);
    } else registerSecrets(v, scope, depth + 1);
  }
}

export function toStatusError(err: unknown, mapError?: (err: unknown) => StatusError | undefined): StatusError {
  if (err instanceof StatusError) return err;
  const mapped = mapError?.(err);
  if (mapped) return mapped;
  const msg = err instanceof Error ? err.message : String(err);
  return new StatusError(status.INTERNAL, `internal error: ${msg}`, { cause: err });
}

export function wrapUnary<Req, Res>(method: string, handler: UnaryHandler<Req, Res>, opts: WrapOptions) {
  const quiet = new Set(opts.quietMethods ?? []);
  const slowMs = opts.slowMs ?? 10_000;
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    const started = performance.now();
    const incoming = call.metadata.get(REQUEST_ID_HEADER)[0];
    const requestId = typeof incoming === "string" && /^[\w.-]{1,64}$/.test(incoming) ? incoming : newRequestId();
    const log = opts.log.child({ requestId, method });
    const outgoing = new Metadata();
    outgoing.set(REQUEST_ID_HEADER, requestId);
    const abort = new AbortController();
    let settled = false;
    let deadline = false;
    // grpc-js also says "cancelled" once a call has been answered: only a call still running is cancelled
    call.on("cancelled", () => {
      if (settled) return;
      deadline = deadlinePassed(call.getDeadline());
      abort.abort(new Error(deadline ? "the caller's deadline passed" : "cancelled by the caller"));
    });
    const refused = opts.authorize?.(call.metadata, call.getPeer(), call.getAuthContext());
    if (refused !== undefined) {
      const what = refused.code === status.UNAUTHENTICATED ? "refused unauthenticated call" : "refused a call this caller may not make";
      log.warn(what, { peer: call.getPeer(), code: refused.codeName, reason: refused.message });
      opts.observer?.(method, refused.code, 0);
      callback({ code: refused.code, details: refused.message, metadata: new Metadata() });
      return;
    }
    // this call's secrets: scrubbed from its log lines and error text, forgotten when it ends
    const secrets = newCallSecrets();
    registerSecrets(call.request, secrets);
    runWithCallSecrets(secrets, () => {
      const level = quiet.has(method) ? "debug" : "info";
      log[level]("request", { request: redactValue(call.request) });
      const ctx: RpcContext = { requestId, method, log, peer: call.getPeer(), outgoing, signal: abort.signal };

      const finish = (err: StatusError | null, res?: Res): void => {
        if (settled) return;
        settled = true;
        const durationMs = Math.round(performance.now() - started);
        const code = err ? err.code : status.OK;
        opts.observer?.(method, code, durationMs);
        try {
          if (err) {
            const unexpected = UNEXPECTED.has(err.code);
            // NOT_FOUND answers a lookup (CreateVolume asks GetBlock first, every time): not a warning
            const lvl = unexpected ? "error" : err.code === status.NOT_FOUND ? "info" : "warn";
            log[lvl]("failed", { code: err.codeName, error: err.message, durationMs, cause: causeText(err, unexpected) });
            callback({ code: err.code, details: scrubSecrets(err.message, secrets), metadata: new Metadata() });
          } else {
            if (durationMs > slowMs) log.warn("slow call", { durationMs });
            log[level]("response", { durationMs, response: redactValue(res) });
            callback(null, res);
          }
        } finally {
          secrets.release();
        }
      };
      let pending: Promise<Res>;
      try {
        pending = handler(call.request, ctx);
      } catch (err) {
        finish(toStatusError(err, opts.mapError));
        return;
      }
      pending.then(
        (res) => finish(null, res),
        (err: unknown) => finish(abort.signal.aborted ? cancelledStatus(deadline, err) : toStatusError(err, opts.mapError)),
      );
    });
  };
}

/**
 * Codes that say the driver or its data is broken, not the request or the
 * world: logged at error with the stack that finds the fault. Every other
 * code is an answer (not found, exists, no space, invalid, busy, a node that
 * does not answer) and is logged as one line without a stack, which would
 * only bury it.
 */
const UNEXPECTED: ReadonlySet<status> = new Set([status.INTERNAL, status.UNKNOWN, status.DATA_LOSS]);

/**
 * The server's deadline is its receipt time plus the timeout the caller sent,
 * so it falls a transit time after the caller's own: the caller's client
 * gives up (and cancels the stream) first, and a loaded host can deliver that
 * cancel tens of milliseconds before the server's clock reaches the deadline.
 * A cancel that close to the deadline is the deadline.
 */
const DEADLINE_SLACK_MS = 1_000;

function deadlinePassed(d: Date | number): boolean {
  const at = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(at) && at <= Date.now() + DEADLINE_SLACK_MS;
}

/**
 * What a handler that failed after its caller went away ends with (for the
 * log and the metrics: the caller hears grpc-js's own status): the
 * cancellation, not whatever the interrupted work threw.
 */
function cancelledStatus(deadline: boolean, err: unknown): StatusError {
  const msg = `${deadline ? "the caller's deadline passed" : "cancelled by the caller"}: ${err instanceof Error ? err.message : String(err)}`;
  return deadline ? deadlineExceeded(msg, err) : new StatusError(status.CANCELLED, msg, { cause: err });
}

/** The failure's cause for the log: with its stack when unexpected (the error's own when it has no cause), else its name and message. */
function causeText(err: StatusError, withStack: boolean): string | undefined {
  const cause = err.cause;
  if (cause === undefined || cause === null) return withStack ? err.stack : undefined;
  if (cause instanceof Error) return withStack ? (cause.stack ?? cause.message) : `${cause.name}: ${cause.message}`;
  return typeof cause === "string" ? cause : JSON.stringify(safeValue(cause));
}

/**
 * The async form of a generated `*Handlers` interface: each unary method takes
 * the request and an RpcContext and resolves to the response.
 */
export type AsyncHandlers<H> = {
  [K in keyof H as string extends K ? never : K]?: H[K] extends (call: ServerUnaryCall<infer Req, infer Res>, cb: sendUnaryData<infer _R>) => void
    ? (req: Req, ctx: RpcContext) => Promise<Res>
    : never;
};

/**
 * Wraps every method of `definition` that `impl` implements. Methods it does
 * not implement are left out, and grpc-js answers them UNIMPLEMENTED.
 */
export function wrapService(definition: ServiceDefinition, impl: object, opts: WrapOptions): UntypedServiceImplementation {
  const out: UntypedServiceImplementation = {};
  for (const name of Object.keys(definition)) {
    const fn: unknown = (impl as Record<string, unknown>)[name];
    if (typeof fn !== "function") continue;
    out[name] = wrapUnary(name, (fn as UnaryHandler<unknown, unknown>).bind(impl), opts);
  }
  return out;
}
