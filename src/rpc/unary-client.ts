// Promise form of a generated grpc-js client's unary call, with a deadline,
// and cancelled when the caller's signal fires (the server's handler sees
// its own call cancelled).
import { Metadata, status, type Client, type ServiceError } from "@grpc/grpc-js";
import { StatusError } from "./errors.js";

type UnaryFn<Res> = (req: unknown, md: Metadata, opts: { deadline: Date }, cb: (e: ServiceError | null, r?: Res) => void) => { cancel(): void };

export interface UnaryOptions {
  timeoutMs?: number;
  metadata?: Metadata;
  /** cancels the call when it fires; already fired, the call is not made (CANCELLED) */
  signal?: AbortSignal;
}

export function unary<Res>(client: Client, method: string, req: unknown, opts: UnaryOptions = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, UnaryFn<Res> | undefined>)[method];
    if (typeof fn !== "function") {
      reject(new Error(`no method ${method} on this client`));
      return;
    }
    const signal = opts.signal;
    if (signal?.aborted) {
      reject(new StatusError(status.CANCELLED, `${method} not sent: the caller cancelled`));
      return;
    }
    const onAbort = (): void => call.cancel();
    const call = fn.call(client, req, opts.metadata ?? new Metadata(), { deadline: new Date(Date.now() + (opts.timeoutMs ?? 30_000)) }, (err, res) => {
      signal?.removeEventListener("abort", onAbort);
      if (err) reject(err);
      else resolve(res as Res);
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
