// Promise form of a generated grpc-js client's unary call, with a deadline.
import { Metadata, type Client, type ServiceError } from "@grpc/grpc-js";

type UnaryFn<Res> = (req: unknown, md: Metadata, opts: { deadline: Date }, cb: (e: ServiceError | null, r?: Res) => void) => unknown;

export function unary<Res>(client: Client, method: string, req: unknown, opts: { timeoutMs?: number; metadata?: Metadata } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, UnaryFn<Res> | undefined>)[method];
    if (typeof fn !== "function") {
      reject(new Error(`no method ${method} on this client`));
      return;
    }
    fn.call(client, req, opts.metadata ?? new Metadata(), { deadline: new Date(Date.now() + (opts.timeoutMs ?? 30_000)) }, (err, res) =>
      err ? reject(err) : resolve(res as Res),
    );
  });
}
