// The front for kubelets before 1.26 (src/rpc/authority-front.ts): a call
// whose :authority is the socket path is reset by Node's HTTP/2 server
// (RST_STREAM, PROTOCOL_ERROR) without the front and answered with it; the
// frames are sent raw, HPACK-encoded as the kubelet's gRPC-Go sends them.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import hpack from "hpack.js";
import { GrpcServer } from "../../../src/rpc/server.js";
import { parseEndpoint } from "../../../src/rpc/endpoint.js";
import { csiProto } from "../../../src/rpc/proto.js";
import { wrapService } from "../../../src/rpc/rpc.js";
import { identityServer } from "../../../src/csi/identity-server.js";
import { nullLogger } from "../../../src/util/log.js";
import { AuthorityRewriter, FrameError, PREFACE, frameOf } from "../../../src/rpc/authority-front.js";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function block(headers: [string, string][]): Buffer {
  const c = hpack.compressor.create({ table: { size: 4096 } });
  c.write(headers.map(([name, value]) => ({ name, value })));
  const parts: Buffer[] = [];
  for (let b = c.read(); b !== null; b = c.read()) parts.push(b);
  return Buffer.concat(parts);
}

/** GetPluginInfo as a kubelet 1.24 sends it: the socket path as :authority */
function kubeletCall(socket: string): Buffer {
  const headers = block([
    [":method", "POST"],
    [":scheme", "http"],
    [":path", "/csi.v1.Identity/GetPluginInfo"],
    [":authority", socket],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
  ]);
  const message = Buffer.from([0, 0, 0, 0, 0]); // an empty GetPluginInfoRequest
  return Buffer.concat([PREFACE, frameOf(0x4, 0, 0, Buffer.alloc(0)), frameOf(0x1, 0x4, 1, headers), frameOf(0x0, 0x1, 1, message)]);
}

/** The types of the frames the server sends on stream 1 within `ms`. */
async function answerTypes(socket: string, ms = 3000): Promise<number[]> {
  const types: number[] = [];
  await new Promise<void>((resolve) => {
    const s = connect(socket);
    let buf = Buffer.alloc(0);
    const done = (): void => {
      s.destroy();
      resolve();
    };
    const timer = setTimeout(done, ms);
    s.on("connect", () => s.write(kubeletCall(socket)));
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 9 && buf.length >= 9 + buf.readUIntBE(0, 3)) {
        const len = buf.readUIntBE(0, 3);
        const type = buf[3] ?? -1;
        if ((buf.readUInt32BE(5) & 0x7fffffff) === 1) types.push(type);
        buf = buf.subarray(9 + len);
        // RST_STREAM, or the trailers (HEADERS with END_STREAM): the call is over
        if (type === 0x3 || (type === 0x1 && types.filter((t) => t === 0x1).length === 2)) {
          clearTimeout(timer);
          done();
          return;
        }
      }
    });
    s.on("error", done);
  });
  return types;
}

async function serve(pathAuthority: boolean): Promise<{ socket: string; server: GrpcServer }> {
  const dir = await mkdtemp(join(tmpdir(), "gbcsi-authority-"));
  dirs.push(dir);
  const socket = join(dir, "csi.sock");
  const csi = csiProto().csi.v1;
  const server = new GrpcServer(nullLogger);
  server.addService(
    csi.Identity.service,
    wrapService(
      csi.Identity.service,
      identityServer({ driverName: "block.csi.gluster.org", capabilities: [], probe: () => Promise.resolve({ ready: true }) }),
      {
        log: nullLogger,
      },
    ),
  );
  await server.listen({ endpoint: parseEndpoint(`unix://${socket}`), pathAuthority });
  return { socket, server };
}

test("without the front, Node's HTTP/2 server resets a call whose :authority is the socket path (what a 1.24 kubelet gets)", async () => {
  const { socket, server } = await serve(false);
  try {
    assert.deepEqual(await answerTypes(socket), [0x3], "RST_STREAM on stream 1");
  } finally {
    await server.stop(1000);
  }
});

test("with the front, the same call is answered (headers, data, trailers); stop removes both sockets", async () => {
  const { socket, server } = await serve(true);
  assert.deepEqual(await answerTypes(socket), [0x1, 0x0, 0x1], "HEADERS, DATA, trailers on stream 1");
  await server.stop(1000);
  await assert.rejects(stat(socket), "the endpoint's socket is removed");
  await assert.rejects(stat(join(socket, "..", ".csi.sock.grpc")), "the hidden gRPC socket is removed");
});

test("the rewriter keeps a valid authority, replaces a path, keeps other frames byte for byte, and splits nothing it need not", () => {
  const r = new AuthorityRewriter();
  const input = kubeletCall("/var/lib/kubelet/plugins/block.csi.gluster.org/csi.sock");
  // fed one byte at a time: frames cut anywhere are put back together
  const out = Buffer.concat([...input].map((b) => r.push(Buffer.from([b]))));
  assert.equal(r.rewritten, 1);
  const d = hpack.decompressor.create({ table: { size: 4096 } });
  let at = PREFACE.length;
  const types: number[] = [];
  while (at < out.length) {
    const len = out.readUIntBE(at, 3);
    const type = out[at + 3] ?? -1;
    types.push(type);
    if (type === 0x1) d.write(out.subarray(at + 9, at + 9 + len));
    if (type === 0x0) assert.deepEqual(out.subarray(at + 9, at + 9 + len), Buffer.from([0, 0, 0, 0, 0]), "DATA untouched");
    at += 9 + len;
  }
  assert.deepEqual(types, [0x4, 0x1, 0x0], "SETTINGS, HEADERS, DATA");
  d.execute();
  const got: Record<string, string> = {};
  for (let h = d.read(); h !== null; h = d.read()) got[h.name] = h.value;
  assert.equal(got[":authority"], "localhost");
  assert.equal(got[":path"], "/csi.v1.Identity/GetPluginInfo");

  const keep = new AuthorityRewriter();
  keep.push(kubeletCall("localhost:1234"));
  assert.equal(keep.rewritten, 0, "a valid authority is left as it is");
});

test("the rewriter refuses what is not HTTP/2 and a frame inside a header block", () => {
  assert.throws(() => new AuthorityRewriter().push(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), FrameError);
  const r = new AuthorityRewriter();
  // HEADERS without END_HEADERS, then DATA
  assert.throws(() => r.push(Buffer.concat([PREFACE, frameOf(0x1, 0, 1, block([[":method", "POST"]])), frameOf(0x0, 0, 1, Buffer.alloc(1))])), FrameError);
});
