// gRPC's status codes, grpc-js's own enum (the same object its index exports
// as `status`), taken from the one small file that defines it. Importing them
// from "@grpc/grpc-js" loads (or bundles) the whole library: the CLI, which
// speaks to blockd without grpc-js (unix-unary.ts), gets its codes here, and
// so does every module the CLI shares with the daemons (errors.ts,
// blockd/error-map.ts).
export { Status as status } from "@grpc/grpc-js/build/src/constants.js";
