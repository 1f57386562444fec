// A front on the CSI unix socket for kubelets before 1.26, which send the
// socket's path as the HTTP/2 `:authority` of their calls
// (kubernetes/kubernetes#107093). Node's HTTP/2 server refuses such a header
// (nghttp2: an authority has no '/'), resetting the stream before any gRPC
// code sees it, so NodeGetInfo fails and the plugin never registers. The
// front accepts the kubelet's connection, passes every byte on to the gRPC
// server's own socket, and rewrites the header blocks the client sends: each
// is decoded (HPACK) and sent again with an authority that is not one
// replaced by "localhost", as kubelets from 1.26 on send it. Nothing the
// server sends is touched.
import { createServer, connect, type Server, type Socket } from "node:net";
import hpack, { type Compressor, type Decompressor, type HpackHeader } from "hpack.js";

/** what an HTTP/2 client sends before its first frame */
export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const HEADERS = 0x1;
const CONTINUATION = 0x9;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;
/** SETTINGS_MAX_FRAME_SIZE's floor: every HTTP/2 peer takes frames this large */
const MAX_FRAME = 16_384;
/** RFC 3986 authority characters (host, port, userinfo, IP literals) */
const VALID_AUTHORITY = /^[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]+$/;

export class FrameError extends Error {
  override readonly name = "FrameError";
}

/**
 * The client-to-server half of one connection: bytes in, bytes out, the
 * header blocks re-encoded with the authority fixed. One per connection (the
 * HPACK tables are the connection's).
 */
export class AuthorityRewriter {
  private buffered = Buffer.alloc(0);
  private prefaceSeen = false;
  private readonly decoder: Decompressor = hpack.decompressor.create({ table: { size: 4096 } });
  private readonly encoder: Compressor = hpack.compressor.create({ table: { size: 4096 } });
  /** a HEADERS frame waiting for its CONTINUATIONs */
  private open: { stream: number; flags: number; priority: Buffer; fragments: Buffer[] } | undefined;
  /** authorities replaced so far (for the log) */
  rewritten = 0;

  push(chunk: Buffer): Buffer {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    const out: Buffer[] = [];
    if (!this.prefaceSeen) {
      if (this.buffered.length < PREFACE.length) return Buffer.alloc(0);
      if (!this.buffered.subarray(0, PREFACE.length).equals(PREFACE)) throw new FrameError("not an HTTP/2 connection preface");
      out.push(PREFACE);
      this.buffered = this.buffered.subarray(PREFACE.length);
      this.prefaceSeen = true;
    }
    while (this.buffered.length >= 9) {
      const length = this.buffered.readUIntBE(0, 3);
      if (this.buffered.length < 9 + length) break;
      const type = this.buffered[3] ?? 0;
      const flags = this.buffered[4] ?? 0;
      const stream = this.buffered.readUInt32BE(5) & 0x7fffffff;
      const frame = this.buffered.subarray(0, 9 + length);
      const payload = frame.subarray(9);
      this.buffered = this.buffered.subarray(9 + length);
      if (type === HEADERS) this.headers(stream, flags, payload, out);
      else if (type === CONTINUATION) this.continuation(stream, flags, payload, out);
      else if (this.open) throw new FrameError(`frame type ${type} inside a header block (RFC 9113 6.10)`);
      else out.push(Buffer.from(frame));
    }
    return Buffer.concat(out);
  }

  private headers(stream: number, flags: number, payload: Buffer, out: Buffer[]): void {
    if (this.open) throw new FrameError("HEADERS inside a header block");
    let at = 0;
    let pad = 0;
    if (flags & PADDED) {
      pad = payload[0] ?? 0;
      at = 1;
    }
    const priority = flags & PRIORITY ? Buffer.from(payload.subarray(at, at + 5)) : Buffer.alloc(0);
    at += priority.length;
    if (at + pad > payload.length) throw new FrameError("HEADERS padding longer than the frame");
    this.open = { stream, flags, priority, fragments: [Buffer.from(payload.subarray(at, payload.length - pad))] };
    if (flags & END_HEADERS) this.close(out);
  }

  private continuation(stream: number, flags: number, payload: Buffer, out: Buffer[]): void {
    if (this.open?.stream !== stream) throw new FrameError("CONTINUATION without its HEADERS");
    this.open.fragments.push(Buffer.from(payload));
    if (flags & END_HEADERS) this.close(out);
  }

  private close(out: Buffer[]): void {
    const o = this.open;
    if (!o) return;
    this.open = undefined;
    this.decoder.write(Buffer.concat(o.fragments));
    this.decoder.execute();
    const headers: HpackHeader[] = [];
    for (let h = this.decoder.read(); h !== null; h = this.decoder.read()) {
      if (h.name === ":authority" && !VALID_AUTHORITY.test(h.value)) {
        headers.push({ name: h.name, value: "localhost" });
        this.rewritten++;
      } else headers.push(h.neverIndex ? { name: h.name, value: h.value, neverIndex: true } : { name: h.name, value: h.value });
    }
    this.encoder.write(headers);
    const parts: Buffer[] = [];
    for (let b = this.encoder.read(); b !== null; b = this.encoder.read()) parts.push(b);
    const block = Buffer.concat([o.priority, ...parts]);
    const first = o.flags & (END_STREAM | PRIORITY);
    for (let at = 0, n = 0; at < block.length || n === 0; n++) {
      const piece = block.subarray(at, at + MAX_FRAME);
      at += piece.length;
      const last = at >= block.length;
      out.push(frameOf(n === 0 ? HEADERS : CONTINUATION, (n === 0 ? first : 0) | (last ? END_HEADERS : 0), o.stream, piece));
    }
  }
}

/** An HTTP/2 frame: the 9-byte header, then the payload. */
export function frameOf(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

export interface FrontEvents {
  /** a connection ended with an error (a frame it could not parse, the server's socket gone) */
  error(err: Error): void;
}

/** Listens on `path` and fronts the gRPC server listening on `inner`. */
export async function listenFront(path: string, inner: string, events: FrontEvents): Promise<Server> {
  const server = createServer((client: Socket) => {
    const upstream = connect(inner);
    const rewriter = new AuthorityRewriter();
    const fail = (err: Error): void => {
      events.error(err);
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (chunk: Buffer) => {
      try {
        const out = rewriter.push(chunk);
        if (out.length > 0) upstream.write(out);
      } catch (err) {
        fail(err instanceof Error ? err : new Error(String(err)));
      }
    });
    client.on("end", () => upstream.end());
    client.on("error", () => upstream.destroy());
    upstream.pipe(client);
    upstream.on("error", (err) => fail(err));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}
