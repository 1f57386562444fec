// The gRPC objects of csi.proto and blockd.proto, built from their
// descriptors: csi-proto/*.proto compiled by protobufjs at generation time
// (npm run gen: scripts/gen-proto-types.mjs) into src/generated/ beside the
// types, with the loader options below, so both agree. No .proto text is
// parsed at run time, and the bundles carry the descriptors (esbuild inlines
// the JSON): the programs read no proto file.
import { fromJSON, type Options } from "@grpc/proto-loader";
import { loadPackageDefinition } from "@grpc/grpc-js";
import type { INamespace } from "protobufjs";
import type { ProtoGrpcType as CsiProto } from "../generated/csi.js";
import type { ProtoGrpcType as BlockdProto } from "../generated/blockd.js";
import csiDescriptor from "../generated/csi.descriptor.json" with { type: "json" };
import blockdDescriptor from "../generated/blockd.descriptor.json" with { type: "json" };

export const LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/**
 * protobufjs's JSON of each proto file with its imports (keepCase: field names
 * as in the .proto). The cast: protobufjs's IMethod declares `comment`
 * required, and its toJSON leaves comments out (as the descriptor should).
 */
export const DESCRIPTORS: { readonly csi: INamespace; readonly blockd: INamespace } = {
  csi: csiDescriptor as INamespace,
  blockd: blockdDescriptor as INamespace,
};

let csi: CsiProto | undefined;
let blockd: BlockdProto | undefined;

export function csiProto(): CsiProto {
  csi ??= loadPackageDefinition(fromJSON(DESCRIPTORS.csi, LOADER_OPTIONS)) as unknown as CsiProto;
  return csi;
}

export function blockdProto(): BlockdProto {
  blockd ??= loadPackageDefinition(fromJSON(DESCRIPTORS.blockd, LOADER_OPTIONS)) as unknown as BlockdProto;
  return blockd;
}
