// The CLI's call to its local gluster-blockd: blockd's own descriptor (the one
// the daemon serves with grpc-js) through proto-codec.ts, over unix-unary.ts.
// main.ts loads this module only for a command that calls blockd.
import blockdDescriptor from "../../generated/blockd.descriptor.json" with { type: "json" };
import { serviceCodecs, type MethodCodec, type ProtoObject } from "../../rpc/proto-codec.js";
import { unixUnary } from "../../rpc/unix-unary.js";

let methods: Record<string, MethodCodec> | undefined;

/** One Blockd call; the answer as grpc-js would give it with proto.ts's loader options. */
export async function callBlockd<R>(socketPath: string, method: string, request: ProtoObject, timeoutMs: number): Promise<R> {
  methods ??= serviceCodecs(blockdDescriptor, "glusterblock.v1.Blockd");
  const m = methods[method];
  if (!m) throw new Error(`no method ${method} in blockd's protocol`);
  return m.response.decode(await unixUnary(socketPath, m.path, m.request.encode(request), { timeoutMs })) as R;
}
