// The protos compile with Debian's protoc without a single warning; the
// checked-in generated types and descriptors are exactly what the generator
// makes from them; and the descriptors the programs load give grpc-js the
// same definitions and codecs as parsing the .proto files did.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { loadSync, fromJSON, type PackageDefinition } from "@grpc/proto-loader";
import protobuf from "protobufjs";
import { ROOT } from "../helpers/spawn-program.js";
import { csiProto, blockdProto, DESCRIPTORS, LOADER_OPTIONS } from "../../src/rpc/proto.js";

const PROTO_DIR = join(ROOT, "csi-proto");
const PROTOS = ["csi", "blockd"] as const;

for (const file of ["csi.proto", "blockd.proto"]) {
  test(`protoc compiles ${file} without warnings`, async () => {
    const out = join(await mkdtemp(join(tmpdir(), "protoc-")), "d.pb");
    const r = spawnSync("protoc", [`--proto_path=${join(ROOT, "csi-proto")}`, "--proto_path=/usr/include", `--descriptor_set_out=${out}`, file], {
      encoding: "utf8",
    });
    assert.equal(r.error, undefined, `protoc could not run (install protobuf-compiler): ${String(r.error)}`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "", "protoc printed warnings");
    assert.ok((await stat(out)).size > 1000);
  });
}

test("csi.proto carries the CSI services with their published RPCs", () => {
  const v1 = csiProto().csi.v1;
  assert.deepEqual(Object.keys(v1.Identity.service).sort(), ["GetPluginCapabilities", "GetPluginInfo", "Probe"]);
  assert.equal(v1.Identity.service.GetPluginInfo.path, "/csi.v1.Identity/GetPluginInfo");
  for (const m of [
    "CreateVolume",
    "DeleteVolume",
    "ControllerPublishVolume",
    "ControllerUnpublishVolume",
    "ValidateVolumeCapabilities",
    "ListVolumes",
    "GetCapacity",
    "ControllerGetCapabilities",
    "ControllerExpandVolume",
    "ControllerGetVolume",
  ]) {
    assert.ok(m in v1.Controller.service, m);
  }
  for (const m of [
    "NodeStageVolume",
    "NodeUnstageVolume",
    "NodePublishVolume",
    "NodeUnpublishVolume",
    "NodeGetVolumeStats",
    "NodeExpandVolume",
    "NodeGetCapabilities",
    "NodeGetInfo",
  ]) {
    assert.ok(m in v1.Node.service, m);
  }
  assert.ok(blockdProto().glusterblock.v1.Blockd.service.CreateBlock);
});

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p, base)));
    else out.push(relative(base, p));
  }
  return out.sort();
}

// npm run gen into a temp dir, once for the tests below
let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "gen-"));
  const r = spawnSync(process.execPath, [join(ROOT, "scripts/gen-proto-types.mjs"), dir], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("src/generated is up to date with csi-proto (run npm run gen)", async () => {
  const fresh = await listFiles(dir);
  const checkedIn = await listFiles(join(ROOT, "src/generated"));
  assert.deepEqual(checkedIn, fresh);
  for (const f of fresh) {
    assert.equal(await readFile(join(ROOT, "src/generated", f), "utf8"), await readFile(join(dir, f), "utf8"), f);
  }
});

test("the descriptors the programs load are what npm run gen compiles from csi-proto (run npm run gen)", async () => {
  for (const p of PROTOS) {
    const file = `${p}.descriptor.json`;
    const fresh = await readFile(join(dir, file), "utf8");
    assert.equal(
      await readFile(join(ROOT, "src/generated", file), "utf8"),
      fresh,
      `src/generated/${file} differs from what csi-proto/${p}.proto compiles to: run npm run gen`,
    );
    assert.deepEqual(DESCRIPTORS[p], JSON.parse(fresh) as unknown, `src/rpc/proto.ts loads src/generated/${file}`);
  }
});

/** csi-proto/<p>.proto parsed as proto-loader's loadSync parses it (google/protobuf/* from protobufjs's copies, which proto-loader registers) */
function parsedRoot(p: string): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  root.loadSync(`${p}.proto`, LOADER_OPTIONS).resolveAll();
  return root;
}

function messageTypes(ns: protobuf.NamespaceBase, out: protobuf.Type[] = []): protobuf.Type[] {
  for (const o of ns.nestedArray) {
    if (o instanceof protobuf.Type) out.push(o);
    if (o instanceof protobuf.Namespace) messageTypes(o, out);
  }
  return out;
}

test("every message encodes, decodes and converts with the same code from the descriptor as from the .proto (protobufjs's codecs)", () => {
  for (const p of PROTOS) {
    const fromProto = parsedRoot(p);
    const fromDescriptor = protobuf.Root.fromJSON(DESCRIPTORS[p]);
    fromDescriptor.resolveAll();
    const types = messageTypes(fromProto);
    assert.ok(types.length > (p === "csi" ? 100 : 25), `${p}: ${types.length} message types`);
    assert.deepEqual(
      messageTypes(fromDescriptor).map((t) => t.fullName),
      types.map((t) => t.fullName),
    );
    const codecs = {
      encoder: protobuf.encoder,
      decoder: protobuf.decoder,
      fromObject: protobuf.converter.fromObject,
      toObject: protobuf.converter.toObject,
      verifier: protobuf.verifier,
    };
    for (const t of types) {
      const d = fromDescriptor.lookupType(t.fullName);
      for (const [name, codegen] of Object.entries(codecs)) assert.equal(codegen(d).toString(), codegen(t).toString(), `${t.fullName}: ${name}`);
    }
  }
});

/** the package definition grpc-js gets, but for the (de)serializer functions themselves */
function comparable(def: PackageDefinition): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, d] of Object.entries(def)) {
    if ("format" in d) out[name] = { format: d.format, type: d.type as unknown, fileDescriptorProtos: d.fileDescriptorProtos };
    else {
      out[name] = Object.fromEntries(
        Object.entries(d).map(([m, md]) => [
          m,
          {
            path: md.path,
            requestStream: md.requestStream,
            responseStream: md.responseStream,
            originalName: md.originalName,
            options: md.options,
            requestType: md.requestType.type,
            responseType: md.responseType.type,
          },
        ]),
      );
    }
  }
  return out;
}

test("the package definitions from the descriptors equal loadSync's from the .proto files, and so do the bytes and objects on the wire", () => {
  const defs = PROTOS.map((p) => ({
    parsed: loadSync(`${p}.proto`, { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] }),
    loaded: fromJSON(DESCRIPTORS[p], LOADER_OPTIONS),
  }));
  for (const { parsed, loaded } of defs) assert.deepEqual(comparable(loaded), comparable(parsed));
  const [csi, blockd] = defs;
  assert.ok(csi && blockd);
  const samples: [PackageDefinition, PackageDefinition, string, string, Record<string, unknown>][] = [
    [
      csi.parsed,
      csi.loaded,
      "csi.v1.Controller",
      "CreateVolume",
      {
        name: "pvc-1",
        capacity_range: { required_bytes: "9007199254740993", limit_bytes: "0" },
        secrets: { chap: "s3cret" },
        volume_capabilities: [
          { mount: { fs_type: "xfs", mount_flags: ["noatime"] }, access_mode: { mode: "SINGLE_NODE_WRITER" } },
          { block: {}, access_mode: { mode: 5 } },
        ],
        volume_content_source: { volume: { volume_id: "v0" } },
        parameters: { hostingVolume: "hv" },
      },
    ],
    [
      blockd.parsed,
      blockd.loaded,
      "glusterblock.v1.Blockd",
      "CreateBlock",
      {
        volume: "hv",
        block: "b1",
        ha: 3,
        hosts: ["10.0.0.1", "10.0.0.2"],
        auth: true,
        prealloc: "PREALLOC_NO",
        size_bytes: "18446744073709551615",
        acl_mode: "ACL_MODE_EXPLICIT",
      },
    ],
  ];
  for (const [parsed, loaded, service, method, request] of samples) {
    const a = parsed[service];
    const b = loaded[service];
    assert.ok(a && b && !("format" in a) && !("format" in b), service);
    const ma = a[method];
    const mb = b[method];
    assert.ok(ma && mb, `${service}.${method}`);
    const bytes = mb.requestSerialize(request);
    assert.deepEqual(bytes, ma.requestSerialize(request), `${method}: the same bytes`);
    const decoded = mb.requestDeserialize(bytes) as Record<string, unknown>;
    assert.deepEqual(decoded, ma.requestDeserialize(bytes), `${method}: the same decoded object`);
    assert.ok(
      Object.keys(decoded).every((k) => k === k.toLowerCase()),
      `${method}: field names as in the .proto (keepCase): ${Object.keys(decoded).join(", ")}`,
    );
  }
});
