// gRPC clients built from csi-proto/*.proto, with promise-returning calls.
import { credentials, type Client, type ServiceError, Metadata } from "@grpc/grpc-js";
import { csiProto } from "../../src/csi/proto.js";

export type Unary<Req, Res> = (req: Req) => Promise<Res>;

/** Calls `method` on a generated grpc-js client and resolves with the response or rejects with the ServiceError. */
export function call<Res>(client: Client, method: string, req: unknown, timeoutMs = 10_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (r: unknown, m: Metadata, o: { deadline: Date }, cb: (e: ServiceError | null, r: Res) => void) => void>)[method];
    if (!fn) {
      reject(new Error(`no method ${method}`));
      return;
    }
    fn.call(client, req, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

export function csiClients(address: string) {
  const v1 = csiProto().csi.v1;
  const creds = credentials.createInsecure();
  return {
    identity: new v1.Identity(address, creds),
    node: new v1.Node(address, creds),
    controller: new v1.Controller(address, creds),
    close(): void {
      this.identity.close();
      this.node.close();
      this.controller.close();
    },
  };
}
