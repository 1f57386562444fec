// The TLS clients a listener refuses, in the log. grpc-js refuses a client in
// the handshake (no certificate, another CA, expired) without telling the
// application: the refusal shows only as its HTTP/2 server's tlsClientError
// event, and grpc-js keeps those servers private. So this reaches for them;
// should a grpc-js release rename the field, clients are still refused but
// no longer logged (test/integration/blockd-tls.test.ts would notice).
// Only OpenSSL's verdict and the peer's address are logged, never material.
import { Server as TlsServer, type TLSSocket } from "node:tls";
import type { Socket } from "node:net";
import type { Server } from "@grpc/grpc-js";
import type { Logger } from "../util/log.js";

const NOT_OUR_CA = "the client certificate is not signed by the configured CA";

/** OpenSSL's verdicts, in words. */
const WHY: Record<string, string> = {
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: "the client presented no certificate",
  CERT_HAS_EXPIRED: "the client certificate has expired",
  CERT_NOT_YET_VALID: "the client certificate is not valid yet",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: NOT_OUR_CA,
  UNABLE_TO_GET_ISSUER_CERT: NOT_OUR_CA,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: NOT_OUR_CA,
  SELF_SIGNED_CERT_IN_CHAIN: NOT_OUR_CA,
  DEPTH_ZERO_SELF_SIGNED_CERT: "the client certificate is self-signed",
  CERT_SIGNATURE_FAILURE: "the client certificate's signature does not verify",
  INVALID_PURPOSE: "the client certificate is not for client authentication (extendedKeyUsage clientAuth)",
  ERR_SSL_WRONG_VERSION_NUMBER: "the client does not speak TLS (is it configured without TLS?)",
  ERR_SSL_HTTP_REQUEST: "the client does not speak TLS (is it configured without TLS?)",
};

/** one line per client address and verdict per this period; the rest are counted */
const THROTTLE_MS = 60_000;
const MAX_TRACKED = 1_000;

/** Logs the handshakes the TLS listeners of `server` refuse. Call after every bind; a listener is watched once. */
export function logTlsRefusals(server: Server, log: Logger): void {
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(http2Servers instanceof Map)) {
    log.warn("this grpc-js does not expose its TLS servers: refused TLS clients are not logged");
    return;
  }
  for (const s of http2Servers.keys() as IterableIterator<unknown>) {
    if (s instanceof TlsServer && !watched.has(s)) watch(s, log);
  }
}

const watched = new WeakSet<TlsServer>();

function watch(server: TlsServer, log: Logger): void {
  watched.add(server);
  // a socket refused after its certificate was checked is already destroyed and
  // has forgotten its address; the TCP socket under it remembers it from here
  const addressOf = new WeakMap<Socket, string>();
  server.prependListener("connection", (raw: Socket) => {
    if (raw.remoteAddress) addressOf.set(raw, raw.remoteAddress);
  });
  const last = new Map<string, { at: number; suppressed: number }>();
  server.on("tlsClientError", (err: Error & { code?: string }, socket: TLSSocket) => {
    const under = (socket as unknown as { _parent?: unknown })._parent;
    const peer = socket.remoteAddress ?? (under instanceof Object ? addressOf.get(under as Socket) : undefined) ?? "unknown";
    // Node types it as an Error; at run time it is OpenSSL's code (CERT_HAS_EXPIRED) or null
    const checked: unknown = socket.authorizationError;
    const verdict = (typeof checked === "string" ? checked : checked instanceof Error ? checked.message : undefined) ?? err.code ?? "unknown";
    const why = WHY[verdict];
    if (why === undefined && (verdict === "ECONNRESET" || verdict === "unknown")) {
      // no verdict: a TCP probe, a scanner, or a client that refused *our* certificate
      log.debug("a client closed its connection before the TLS handshake finished (a TCP probe, or a client that refuses this server's certificate)", { peer });
      return;
    }
    const key = `${peer} ${verdict}`;
    const now = Date.now();
    const seen = last.get(key);
    if (seen && now - seen.at < THROTTLE_MS) {
      seen.suppressed++;
      return;
    }
    if (last.size >= MAX_TRACKED) last.clear();
    last.set(key, { at: now, suppressed: 0 });
    log.warn("refused a TLS client", { peer, verdict, reason: why ?? verdict, ...(seen?.suppressed ? { refusedSinceLastLine: seen.suppressed } : {}) });
  });
}
