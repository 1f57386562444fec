// CSI gRPC clients, with promise-returning calls: built from the generated
// descriptor that the programs load (src/rpc/proto.ts), no .proto parsed.
import { credentials, type Client } from "@grpc/grpc-js";
import { unary } from "../../src/rpc/unary-client.js";
import { csiProto } from "../../src/rpc/proto.js";

/** Calls `method` and resolves with the response or rejects with the ServiceError. */
export function call<Res>(client: Client, method: string, req: unknown, timeoutMs = 10_000): Promise<Res> {
  return unary<Res>(client, method, req, { timeoutMs });
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
