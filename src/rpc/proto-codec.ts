// Protobuf messages to bytes and back, straight from the descriptor JSON that
// proto.ts hands protobufjs, for a program that cannot afford to load
// protobufjs, proto-loader and grpc-js: the gluster-block CLI, a process that
// makes one call and exits (unix-unary.ts). The objects are those grpc-js
// passes with proto.ts's LOADER_OPTIONS: field names as in the .proto
// (keepCase), 64-bit integers as decimal strings (longs: String), enums by
// name (enums: String), every field present on decode (defaults: an absent
// message field is null, a repeated one []). Encoding follows protobufjs's
// fromObject and encode: fields by number, a field given (even at its
// default) is written, a repeated one only when not empty, packed when
// numeric. A test holds both ends to protobufjs's for every message of
// blockd.proto.
//
// Only what blockd.proto uses: proto3 messages of string, bool, uint32,
// uint64, enum and message fields, singular or repeated. A descriptor with
// anything else (maps, oneofs, bytes, signed or fixed or floating numbers,
// proto2 groups) is refused when the codec is made, not when a message
// happens to carry it.

/** The part of protobufjs's JSON descriptor (INamespace) this codec reads. */
export interface DescriptorJson {
  nested?: Record<string, DescriptorNode>;
}
interface DescriptorNode extends DescriptorJson {
  fields?: Record<string, { type: string; id: number; rule?: string; keyType?: string; options?: Record<string, unknown> }>;
  oneofs?: unknown;
  values?: Record<string, number>;
  methods?: Record<string, { requestType: string; responseType: string; requestStream?: boolean; responseStream?: boolean }>;
}

export type ProtoObject = Record<string, unknown>;

export interface MessageCodec {
  readonly name: string;
  encode(value: ProtoObject): Buffer;
  decode(bytes: Uint8Array): ProtoObject;
}

export interface MethodCodec {
  /** the HTTP/2 path of the call: /package.Service/Method */
  readonly path: string;
  readonly request: MessageCodec;
  readonly response: MessageCodec;
}

const SCALARS = new Set(["string", "bool", "uint32", "uint64"]);
const UNSUPPORTED = new Set(["double", "float", "int32", "int64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64", "bytes"]);
const LEN = 2;
const VARINT = 0;

type Kind = "string" | "bool" | "uint32" | "uint64" | "enum" | "message";

interface Field {
  readonly name: string;
  readonly id: number;
  readonly kind: Kind;
  readonly repeated: boolean;
  /** enum fields: name -> number and number -> name (the first name of a number, as protobufjs) */
  readonly enumValues?: ReadonlyMap<string, number>;
  readonly enumNames?: ReadonlyMap<number, string>;
  /** message fields: resolved when first used (types may refer to each other) */
  readonly message?: () => MessageType;
}

interface MessageType {
  readonly name: string;
  readonly fields: readonly Field[];
  readonly byId: ReadonlyMap<number, Field>;
}

/** The codecs of one service's unary methods; `service` is its full name (glusterblock.v1.Blockd). */
export function serviceCodecs(root: DescriptorJson, service: string): Record<string, MethodCodec> {
  const [node, pkg] = lookup(root, service);
  if (!node.methods) throw new Error(`${service} is not a service`);
  const types = new TypeCache(root);
  const out: Record<string, MethodCodec> = {};
  for (const [name, m] of Object.entries(node.methods)) {
    if (m.requestStream || m.responseStream) throw new Error(`${service}.${name}: streaming is not supported`);
    out[name] = {
      path: `/${service}/${name}`,
      request: codecOf(types.get(resolveName(root, pkg, m.requestType))),
      response: codecOf(types.get(resolveName(root, pkg, m.responseType))),
    };
  }
  return out;
}

/** The codec of one message type by its full name (glusterblock.v1.BlockInfo). */
export function messageCodec(root: DescriptorJson, fullName: string): MessageCodec {
  return codecOf(new TypeCache(root).get(fullName));
}

function codecOf(t: MessageType): MessageCodec {
  return {
    name: t.name,
    encode: (value) => {
      const w = new Writer();
      encodeMessage(w, t, value);
      return w.finish();
    },
    decode: (bytes) => decodeMessage(new Reader(bytes), t, bytes.length),
  };
}

// ---- the descriptor

function lookup(root: DescriptorJson, fullName: string): [DescriptorNode, string[]] {
  const path = fullName.replace(/^\./, "").split(".");
  let node: DescriptorNode | undefined = root;
  for (const part of path) node = node?.nested?.[part];
  if (!node) throw new Error(`${fullName}: not in the descriptor`);
  return [node, path.slice(0, -1)];
}

/** A type reference as protobufjs resolves it: absolute with a leading dot, else from the innermost scope outwards. */
function resolveName(root: DescriptorJson, scope: readonly string[], ref: string): string {
  if (ref.startsWith(".")) return ref.slice(1);
  for (let i = scope.length; i >= 0; i--) {
    const name = [...scope.slice(0, i), ref].join(".");
    try {
      lookup(root, name);
      return name;
    } catch {
      // not in this scope: the next one out
    }
  }
  throw new Error(`type ${ref} (referred to in ${scope.join(".")}) is not in the descriptor`);
}

class TypeCache {
  private readonly types = new Map<string, MessageType>();
  constructor(private readonly root: DescriptorJson) {}

  get(fullName: string): MessageType {
    const known = this.types.get(fullName);
    if (known) return known;
    const [node, scope] = lookup(this.root, fullName);
    if (!node.fields) throw new Error(`${fullName} is not a message`);
    if (node.oneofs !== undefined) throw new Error(`${fullName}: oneofs are not supported`);
    const fields: Field[] = [];
    const t: MessageType = { name: fullName, fields, byId: new Map() };
    this.types.set(fullName, t);
    // the message's own name is the innermost scope of its fields' type references
    const fieldScope = [...scope, fullName.split(".").pop() ?? ""];
    for (const [name, f] of Object.entries(node.fields)) {
      const where = `${fullName}.${name}`;
      if (f.keyType !== undefined) throw new Error(`${where}: maps are not supported`);
      if (f.rule !== undefined && f.rule !== "repeated") throw new Error(`${where}: rule ${f.rule} is not supported (proto3 only)`);
      if (f.options && Object.keys(f.options).length > 0) throw new Error(`${where}: field options are not supported`);
      const repeated = f.rule === "repeated";
      if (SCALARS.has(f.type)) {
        fields.push({ name, id: f.id, kind: f.type as Kind, repeated });
        continue;
      }
      if (UNSUPPORTED.has(f.type)) throw new Error(`${where}: ${f.type} is not supported`);
      const refName = resolveName(this.root, fieldScope, f.type);
      const [ref] = lookup(this.root, refName);
      if (ref.values) {
        const values = new Map(Object.entries(ref.values));
        const names = new Map<number, string>();
        for (const [n, v] of values) if (!names.has(v)) names.set(v, n);
        fields.push({ name, id: f.id, kind: "enum", repeated, enumValues: values, enumNames: names });
      } else if (ref.fields) {
        fields.push({ name, id: f.id, kind: "message", repeated, message: () => this.get(refName) });
      } else {
        throw new Error(`${where}: type ${f.type} is not supported`);
      }
    }
    fields.sort((a, b) => a.id - b.id);
    for (const f of fields) (t.byId as Map<number, Field>).set(f.id, f);
    return t;
  }
}

// ---- encoding (protobufjs's fromObject, then encode)

function encodeMessage(w: Writer, t: MessageType, value: ProtoObject): void {
  for (const f of t.fields) {
    const v = value[f.name];
    if (v === undefined || v === null) continue;
    if (!f.repeated) {
      encodeField(w, t, f, v);
      continue;
    }
    if (!Array.isArray(v)) throw new TypeError(`${t.name}.${f.name}: array expected`);
    if (v.length === 0) continue;
    if (f.kind === "string" || f.kind === "message") {
      for (const item of v) encodeField(w, t, f, item);
      continue;
    }
    // numeric repeated fields are packed in proto3
    const inner = new Writer();
    for (const item of v) writeScalar(inner, t, f, item);
    const bytes = inner.finish();
    w.tag(f.id, LEN);
    w.varint(bytes.length);
    w.bytes(bytes);
  }
}

function encodeField(w: Writer, t: MessageType, f: Field, v: unknown): void {
  if (f.kind === "message") {
    if (typeof v !== "object" || v === null) throw new TypeError(`${t.name}.${f.name}: object expected`);
    const inner = new Writer();
    encodeMessage(inner, (f.message as () => MessageType)(), v as ProtoObject);
    const bytes = inner.finish();
    w.tag(f.id, LEN);
    w.varint(bytes.length);
    w.bytes(bytes);
    return;
  }
  if (f.kind === "string") {
    const bytes = Buffer.from(String(v), "utf8");
    w.tag(f.id, LEN);
    w.varint(bytes.length);
    w.bytes(bytes);
    return;
  }
  w.tag(f.id, VARINT);
  writeScalar(w, t, f, v);
}

function writeScalar(w: Writer, t: MessageType, f: Field, v: unknown): void {
  switch (f.kind) {
    case "bool":
      w.varint(v ? 1 : 0);
      return;
    case "uint32":
      w.varint(Number(v) >>> 0);
      return;
    case "uint64":
      w.varint64(BigInt.asUintN(64, typeof v === "number" ? BigInt(Math.trunc(v)) : BigInt(String(v))));
      return;
    case "enum": {
      const n = typeof v === "number" ? v : f.enumValues?.get(String(v));
      if (n === undefined) throw new TypeError(`${t.name}.${f.name}: no enum value ${String(v)}`);
      // negative enum numbers are written as 64-bit varints, as int32s are
      if (n < 0) w.varint64(BigInt.asUintN(64, BigInt(n)));
      else w.varint(n);
      return;
    }
    default:
      throw new Error(`${t.name}.${f.name}: ${f.kind} is not a packable scalar`);
  }
}

class Writer {
  private readonly chunks: Buffer[] = [];
  private readonly buf: number[] = [];

  tag(id: number, wireType: number): void {
    this.varint(((id << 3) | wireType) >>> 0);
  }
  varint(n: number): void {
    let v = n >>> 0;
    while (v > 0x7f) {
      this.buf.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    this.buf.push(v);
  }
  varint64(n: bigint): void {
    let v = n;
    while (v > 0x7fn) {
      this.buf.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.buf.push(Number(v));
  }
  bytes(b: Buffer): void {
    this.flush();
    this.chunks.push(b);
  }
  finish(): Buffer {
    this.flush();
    return Buffer.concat(this.chunks);
  }
  private flush(): void {
    if (this.buf.length === 0) return;
    this.chunks.push(Buffer.from(this.buf));
    this.buf.length = 0;
  }
}

// ---- decoding (protobufjs's decode, then toObject with LOADER_OPTIONS)

function decodeMessage(r: Reader, t: MessageType, end: number): ProtoObject {
  const out: ProtoObject = {};
  for (const f of t.fields) out[f.name] = f.repeated ? [] : defaultOf(f);
  while (r.pos < end) {
    const tag = r.varint();
    const id = tag >>> 3;
    const wireType = tag & 7;
    const f = t.byId.get(id);
    if (!f) {
      r.skip(wireType);
      continue;
    }
    if (f.repeated && wireType === LEN && f.kind !== "string" && f.kind !== "message") {
      const stop = r.pos + r.length();
      const list = out[f.name] as unknown[];
      while (r.pos < stop) list.push(readScalar(r, f));
      continue;
    }
    const expected = f.kind === "string" || f.kind === "message" ? LEN : VARINT;
    if (wireType !== expected) throw new Error(`${t.name}.${f.name}: wire type ${wireType}, expected ${expected}`);
    let v: unknown;
    if (f.kind === "message") {
      const length = r.length();
      v = decodeMessage(r, (f.message as () => MessageType)(), r.pos + length);
    } else {
      v = readScalar(r, f);
    }
    if (f.repeated) (out[f.name] as unknown[]).push(v);
    else out[f.name] = v;
  }
  if (r.pos !== end) throw new Error(`${t.name}: message overruns its length`);
  return out;
}

function defaultOf(f: Field): unknown {
  switch (f.kind) {
    case "string":
      return "";
    case "bool":
      return false;
    case "uint32":
      return 0;
    case "uint64":
      return "0";
    case "enum":
      return f.enumNames?.get(0) ?? 0;
    case "message":
      return null;
  }
}

function readScalar(r: Reader, f: Field): unknown {
  switch (f.kind) {
    case "string":
      return r.string();
    case "bool":
      return r.varint() !== 0;
    case "uint32":
      return Number(BigInt.asUintN(32, r.varint64()));
    case "uint64":
      return r.varint64().toString();
    case "enum": {
      // an int32 on the wire; a number this side does not know stays a number
      const n = Number(BigInt.asIntN(32, r.varint64()));
      return f.enumNames?.get(n) ?? n;
    }
    case "message":
      throw new Error(`${f.name}: a message is not a scalar`);
  }
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  varint(): number {
    return Number(BigInt.asUintN(32, this.varint64()));
  }
  varint64(): bigint {
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.byte();
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, v);
    }
    throw new Error("varint longer than 10 bytes");
  }
  length(): number {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw new Error("length-delimited field beyond the end of the message");
    return n;
  }
  string(): string {
    const n = this.length();
    const s = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, n).toString("utf8");
    this.pos += n;
    return s;
  }
  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint64();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.advance(this.length());
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw new Error(`wire type ${wireType} is not supported`);
    }
  }
  private advance(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error("field beyond the end of the message");
    this.pos += n;
  }
  private byte(): number {
    const b = this.buf[this.pos++];
    if (b === undefined) throw new Error("varint beyond the end of the message");
    return b;
  }
}
