// Loads csi-proto/*.proto at run time with the loader options the generated
// types were made with (scripts/gen-proto-types.mjs), so both agree.
import { loadSync, type Options } from "@grpc/proto-loader";
import { loadPackageDefinition } from "@grpc/grpc-js";
import { join } from "node:path";
import { PACKAGE_DIR } from "../util/package-dir.js";
import type { ProtoGrpcType as CsiProto } from "../generated/csi.js";
import type { ProtoGrpcType as BlockdProto } from "../generated/blockd.js";

export const LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** csi-proto/ at the package root (the repo, or the installed package) */
export const PROTO_DIR = join(PACKAGE_DIR, "csi-proto");

let csi: CsiProto | undefined;
let blockd: BlockdProto | undefined;

export function csiProto(): CsiProto {
  csi ??= loadPackageDefinition(loadSync("csi.proto", { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] })) as unknown as CsiProto;
  return csi;
}

export function blockdProto(): BlockdProto {
  blockd ??= loadPackageDefinition(loadSync("blockd.proto", { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] })) as unknown as BlockdProto;
  return blockd;
}
