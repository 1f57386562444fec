// One unary gRPC call over a unix socket with node's own HTTP/2, for the
// gluster-block CLI: a process that makes one call to its local blockd and
// exits. grpc-js with proto-loader and protobufjs is most of what such a
// process would otherwise load and run (channels, resolvers, load balancers,
// the descriptor made into reflection objects); in the lab's emulated VMs
// that was 1-2 s of every CLI command. The long-running programs keep
// grpc-js (unary-client.ts). The statuses are grpc-js's for the same events
// (its subchannel-call.ts): a peer's gRPC status and message as it sent them,
// an HTTP status or a reset stream mapped as grpc-js maps them, a socket that
// cannot be reached UNAVAILABLE, the deadline DEADLINE_EXCEEDED; the error is
// shaped as grpc-js's ServiceError (code, details), so errors.ts's
// isServiceError and fromGrpcError take it as they take grpc-js's.
import type { IncomingHttpHeaders } from "node:http2";
import { status } from "./status.js";

/** grpc-js's default limit on a received message */
export const MAX_RECEIVE_BYTES = 4 * 1024 * 1024;

/** A gRPC status other than OK, as grpc-js's ServiceError carries it. */
export class CallError extends Error {
  override readonly name = "CallError";
  constructor(
    readonly code: status,
    readonly details: string,
    options?: { cause?: unknown },
  ) {
    super(`${code} ${status[code] ?? "UNKNOWN"}: ${details}`, options);
  }
}

export interface UnixUnaryOptions {
  /** the call's deadline, sent to the server (grpc-timeout) and kept here */
  timeoutMs: number;
}

/** Sends `request` (a serialized message) to `path` (/package.Service/Method) on the server at `socketPath`; resolves with the serialized response. */
export async function unixUnary(socketPath: string, path: string, request: Buffer, opts: UnixUnaryOptions): Promise<Buffer> {
  // loaded here, not at the top: a CLI run that makes no call (help, version, a usage error) never pays for them
  const [{ connect }, { connect: connectSocket }] = await Promise.all([import("node:http2"), import("node:net")]);
  return new Promise<Buffer>((resolve, reject) => {
    const session = connect("http://localhost", { createConnection: () => connectSocket(socketPath) });
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      "grpc-timeout": grpcTimeout(opts.timeoutMs),
    });
    let settled = false;
    const finish = (err: CallError | undefined, response?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (!stream.closed) stream.close(err?.code === status.DEADLINE_EXCEEDED ? 8 /* NGHTTP2_CANCEL */ : 0);
      session.destroy();
      if (err) reject(err);
      else resolve(response as Buffer);
    };
    const deadline = setTimeout(() => finish(new CallError(status.DEADLINE_EXCEEDED, "Deadline exceeded")), opts.timeoutMs);
    const unreachable = (err: Error): void =>
      finish(new CallError(status.UNAVAILABLE, `No connection established. Last error: ${err.message}`, { cause: err }));
    session.on("error", unreachable);
    stream.on("error", unreachable);

    let httpStatus: number | undefined;
    let grpcStatus: { code: status; details: string } | undefined;
    const received: Buffer[] = [];
    let receivedBytes = 0;
    const onStatusHeaders = (h: IncomingHttpHeaders): void => {
      const code = h["grpc-status"];
      if (typeof code !== "string") return;
      const message = h["grpc-message"];
      grpcStatus = { code: Number(code) as status, details: typeof message === "string" ? decodeDetails(message) : "" };
    };
    stream.on("response", (h) => {
      httpStatus = Number(h[":status"]);
      onStatusHeaders(h); // trailers-only: the status comes with the headers
    });
    stream.on("trailers", onStatusHeaders);
    stream.on("data", (chunk: Buffer) => {
      receivedBytes += chunk.length;
      if (receivedBytes > MAX_RECEIVE_BYTES + 5) {
        finish(new CallError(status.RESOURCE_EXHAUSTED, `Received message larger than max (${receivedBytes - 5} vs ${MAX_RECEIVE_BYTES})`));
        return;
      }
      received.push(chunk);
    });
    stream.on("close", () => {
      if (grpcStatus?.code === status.OK) {
        const message = onlyMessage(Buffer.concat(received));
        if (message instanceof CallError) finish(message);
        else finish(undefined, message);
      } else if (grpcStatus) finish(new CallError(grpcStatus.code, grpcStatus.details));
      else if (httpStatus !== undefined && httpStatus !== 200) finish(httpStatusError(httpStatus));
      else finish(resetError(stream.rstCode ?? 0));
    });
    stream.end(frame(request));
  });
}

/** The one length-prefixed message of a unary response (gRPC's framing: flag byte, 4-byte length). */
function onlyMessage(body: Buffer): Buffer | CallError {
  if (body.length < 5) return new CallError(status.UNIMPLEMENTED, "received no message with an OK status");
  if (body[0] !== 0) return new CallError(status.INTERNAL, "received a compressed message: none was asked for");
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length) return new CallError(status.UNIMPLEMENTED, "received other than one whole message in a unary response");
  return body.subarray(5);
}

function frame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** grpc-timeout's value: at most 8 digits and a unit. */
function grpcTimeout(ms: number): string {
  const whole = Math.max(0, Math.ceil(ms));
  return whole < 1e8 ? `${whole}m` : `${Math.min(Math.ceil(whole / 1000), 99_999_999)}S`;
}

/** grpc-message is percent-encoded (grpc-js's server: encodeURI); grpc-js decodes it with decodeURI, keeping it raw when that fails. */
function decodeDetails(message: string): string {
  try {
    return decodeURI(message);
  } catch {
    return message;
  }
}

function httpStatusError(code: number): CallError {
  const mapped: Record<number, status> = {
    400: status.INTERNAL,
    401: status.UNAUTHENTICATED,
    403: status.PERMISSION_DENIED,
    404: status.UNIMPLEMENTED,
    429: status.UNAVAILABLE,
    502: status.UNAVAILABLE,
    503: status.UNAVAILABLE,
    504: status.UNAVAILABLE,
  };
  return new CallError(mapped[code] ?? status.UNKNOWN, `Received HTTP status code ${code}`);
}

function resetError(rst: number): CallError {
  switch (rst) {
    case 0:
      return new CallError(status.INTERNAL, `Received RST_STREAM with code ${rst} (Call ended without gRPC status)`);
    case 7: // NGHTTP2_REFUSED_STREAM
      return new CallError(status.UNAVAILABLE, "Stream refused by server");
    case 8: // NGHTTP2_CANCEL: this client cancels only at its deadline (answered before); node reports a dropped connection so
      return new CallError(status.UNAVAILABLE, "Connection dropped");
    case 11: // NGHTTP2_ENHANCE_YOUR_CALM
      return new CallError(status.RESOURCE_EXHAUSTED, "Bandwidth exhausted or memory limit exceeded");
    case 12: // NGHTTP2_INADEQUATE_SECURITY
      return new CallError(status.PERMISSION_DENIED, "Protocol not secure enough");
    case 2: // NGHTTP2_INTERNAL_ERROR
      return new CallError(status.INTERNAL, `Received RST_STREAM with code ${rst} (Internal server error)`);
    default:
      return new CallError(status.INTERNAL, `Received RST_STREAM with code ${rst}`);
  }
}
