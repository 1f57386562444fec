// The CLI's codec (proto-codec.ts) against protobufjs, which grpc-js uses in
// every other program: for every message of blockd.proto, random values give
// the same bytes as proto-loader's serializer, and protobufjs's bytes decode to
// what proto-loader's deserializer gives (with proto.ts's LOADER_OPTIONS).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import protobuf from "protobufjs";
import { DESCRIPTORS, LOADER_OPTIONS } from "../../../src/rpc/proto.js";
import { messageCodec, serviceCodecs, type DescriptorJson, type ProtoObject } from "../../../src/rpc/proto-codec.js";

const root = protobuf.Root.fromJSON(DESCRIPTORS.blockd);
root.resolveAll();
const PACKAGE = "glusterblock.v1";
const descriptor = DESCRIPTORS.blockd as DescriptorJson;

const messages = Object.values(root.lookup(PACKAGE) instanceof protobuf.Namespace ? (root.lookup(PACKAGE) as protobuf.Namespace).nestedArray : [])
  .filter((o): o is protobuf.Type => o instanceof protobuf.Type)
  .map((t) => t.fullName.slice(1));

/** proto-loader's serializer and deserializer (its createSerializer / createDeserializer) */
const pbEncode = (t: protobuf.Type, v: ProtoObject): Buffer => Buffer.from(t.encode(t.fromObject(v)).finish());
const pbDecode = (t: protobuf.Type, b: Uint8Array): unknown => t.toObject(t.decode(b), LOADER_OPTIONS);

const uint64 = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String), fc.constantFrom("0", "1", "4294967295", "4294967296", "18446744073709551615"));

/** values of a message as callers pass them: any subset of its fields */
function valueOf(t: protobuf.Type, depth: number): fc.Arbitrary<ProtoObject> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of t.fieldsArray) {
    f.resolve();
    let one: fc.Arbitrary<unknown>;
    if (f.resolvedType instanceof protobuf.Enum) one = fc.constantFrom(...Object.keys(f.resolvedType.values));
    else if (f.resolvedType instanceof protobuf.Type) {
      if (depth > 2) continue;
      one = valueOf(f.resolvedType, depth + 1);
    } else if (f.type === "string") one = fc.string({ unit: "binary", maxLength: 40 });
    else if (f.type === "bool") one = fc.boolean();
    else if (f.type === "uint32") one = fc.integer({ min: 0, max: 2 ** 32 - 1 });
    else if (f.type === "uint64") one = uint64;
    else throw new Error(`${t.fullName}.${f.name}: ${f.type}: add it to the test and to proto-codec.ts`);
    fields[f.name] = f.repeated ? fc.array(one, { maxLength: 4 }) : one;
  }
  return fc.record(fields, { requiredKeys: [] });
}

test("the codec is made for every method of Blockd, and the paths are grpc-js's", () => {
  const codecs = serviceCodecs(descriptor, `${PACKAGE}.Blockd`);
  const service = root.lookupService(`${PACKAGE}.Blockd`);
  assert.deepEqual(Object.keys(codecs).sort(), Object.keys(service.methods).sort());
  assert.equal(codecs.ListBlocks?.path, "/glusterblock.v1.Blockd/ListBlocks");
  assert.equal(codecs.ListBlocks?.response.name, "glusterblock.v1.ListBlocksResponse");
  // BlockdPeer too: every type of the protocol is one the codec knows
  assert.ok(serviceCodecs(descriptor, `${PACKAGE}.BlockdPeer`).Ping);
});

for (const name of messages) {
  test(`${name}: the same bytes as protobufjs, and protobufjs's bytes decode as proto-loader decodes them`, () => {
    const t = root.lookupType(name);
    const codec = messageCodec(descriptor, name);
    fc.assert(
      fc.property(valueOf(t, 0), (v) => {
        const ours = codec.encode(v);
        const theirs = pbEncode(t, v);
        assert.deepEqual(ours, theirs);
        assert.deepEqual(codec.decode(theirs), pbDecode(t, theirs));
      }),
      { numRuns: 150 },
    );
  });
}

test("decoding: absent fields have proto-loader's defaults; unknown fields are skipped; unpacked repeated numbers are read", () => {
  const info = messageCodec(descriptor, `${PACKAGE}.BlockInfo`);
  const t = root.lookupType(`${PACKAGE}.BlockInfo`);
  assert.deepEqual(info.decode(Buffer.alloc(0)), pbDecode(t, Buffer.alloc(0)));
  assert.deepEqual(info.decode(Buffer.alloc(0)), {
    ...Object.fromEntries(t.fieldsArray.map((f) => [f.name, f.repeated ? [] : f.type === "string" ? "" : f.type === "bool" ? false : 0])),
    size_bytes: "0",
    acl_mode: "ACL_MODE_UNSPECIFIED",
  });
  // unknown fields 99, 98, 97 and 96: a varint, a 64-bit, a length-delimited and a 32-bit value; then name = "x"
  const w = protobuf.Writer.create();
  w.uint32((99 << 3) | 0).uint64(12345);
  w.uint32((98 << 3) | 1).fixed64(7);
  w.uint32((97 << 3) | 2).string("ignored");
  w.uint32((96 << 3) | 5).fixed32(9);
  w.uint32((1 << 3) | 2).string("x");
  const bytes = w.finish();
  assert.deepEqual(info.decode(bytes), pbDecode(t, bytes));
  assert.equal(info.decode(bytes).name, "x");
});

test("encoding refuses what protobufjs would send wrong or not at all: an enum name it does not know, a non-array for a repeated field", () => {
  const create = messageCodec(descriptor, `${PACKAGE}.CreateBlockRequest`);
  assert.throws(() => create.encode({ prealloc: "PREALLOC_SOMETIMES" }), /no enum value PREALLOC_SOMETIMES/);
  assert.throws(() => create.encode({ hosts: "10.0.0.1" }), /array expected/);
  assert.throws(() => messageCodec(descriptor, `${PACKAGE}.ListBlocksResponse`).encode({ infos: ["x"] }), /object expected/);
});

test("a truncated message is an error, not a short answer", () => {
  const codec = messageCodec(descriptor, `${PACKAGE}.ListBlocksResponse`);
  const bytes = codec.encode({ blocks: ["one", "two"] });
  assert.deepEqual(codec.decode(bytes).blocks, ["one", "two"]);
  assert.throws(() => codec.decode(bytes.subarray(0, bytes.length - 1)), /beyond the end/);
});

test("a descriptor with what the codec does not handle is refused when the codec is made", () => {
  const with_ = (fields: Record<string, { type: string; id: number; rule?: string; keyType?: string }>): DescriptorJson => ({
    nested: { p: { nested: { M: { fields } } } },
  });
  assert.throws(() => messageCodec(with_({ a: { type: "int64", id: 1 } }), "p.M"), /p\.M\.a: int64 is not supported/);
  assert.throws(() => messageCodec(with_({ a: { type: "string", id: 1, keyType: "string" } }), "p.M"), /maps are not supported/);
  assert.throws(() => messageCodec(with_({ a: { type: "bytes", id: 1 } }), "p.M"), /p\.M\.a: bytes is not supported/);
  assert.throws(() => messageCodec(with_({ a: { type: "string", id: 1, rule: "required" } }), "p.M"), /proto3 only/);
  assert.throws(() => messageCodec(with_({ a: { type: "Other", id: 1 } }), "p.M"), /type Other .* is not in the descriptor/);
});
