// blockd's TCP listener: the Blockd service for the CSI controller and the
// BlockdPeer service for the other storage nodes. With TLS (src/rpc/tls.ts) the
// handshake refuses a client without a valid certificate of the CA before
// any RPC exists; every call is then checked again for the verified
// certificate (a listener that came up without TLS by mistake must serve no
// one) and, with a shared key (src/rpc/peer-auth.ts), for the x-blockd-key header:
// failing either, the call is UNAUTHENTICATED. Then the certificate's role
// (src/rpc/tls.ts certificateRoles) must be one the service serves: BlockdPeer only
// peers (certificates naming gluster-blockd), Blockd the controller and
// peers; a caller of another role is PERMISSION_DENIED: it proved who it is,
// and that one may not make this call. Either way the handler never runs.
// Without TLS there are no roles: the key, if any, is all that is checked.
//
// Secure by default (src/rpc/transport-refusal.ts, the rule the controller
// follows too): the listener refuses to come up without authentication
// (no TLS and no key) unless insecureNoAuth says so, and refuses a key
// without TLS (the key, and the CHAP passwords blockd answers with, would
// cross the network in cleartext) unless insecureKeyOverPlaintext says so.
// gluster-blockd's flags --insecure-no-auth and --insecure-key-over-plaintext
// set them; either one is logged as a warning at every start.
import { X509Certificate } from "node:crypto";
import { GrpcServer } from "../../rpc/server.js";
import { blockdProto } from "../../rpc/proto.js";
import { wrapService, type AuthContext, type WrapOptions } from "../../rpc/rpc.js";
import type { Endpoint } from "../../rpc/endpoint.js";
import type { Logger } from "../../util/log.js";
import { keyMatches, KEY_HEADER } from "../../rpc/peer-auth.js";
import { certificateRoles, tlsServerCredentials, ROLE_NAMES, type BlockdRole, type BlockdTls } from "../../rpc/tls.js";
import { permissionDenied, unauthenticated, type StatusError } from "../../rpc/errors.js";
import { transportRefusal, type TransportChoice, type TransportWords } from "../../rpc/transport-refusal.js";

export interface TcpApiOptions {
  listen: Endpoint;
  /** the shared key every caller must send */
  key?: string;
  /** mutual TLS: every caller must present a certificate of the CA */
  tls?: BlockdTls;
  /** serve every caller, with neither TLS nor a key (--insecure-no-auth) */
  insecureNoAuth?: boolean;
  /** serve with the key but without TLS: key and CHAP passwords in cleartext (--insecure-key-over-plaintext) */
  insecureKeyOverPlaintext?: boolean;
  /** the Blockd service's handlers (services.ts blockdService) */
  blockd: object;
  /** the BlockdPeer service's handlers (services.ts peerService) */
  peer: object;
  /** logger, error map, metrics; authorize is set here */
  wrap: WrapOptions;
  log: Logger;
}

export type Authorize = NonNullable<WrapOptions["authorize"]>;

const TLS_FLAGS_TEXT = "mutual TLS (--tls-cert, --tls-key, --tls-ca)";

/** gluster-blockd's words for the secure-by-default rule (src/rpc/transport-refusal.ts). */
const BLOCKD_WORDS: TransportWords = {
  tlsFlags: "--tls-*",
  keyFile: "--key-file",
  insecureNoAuth: "--insecure-no-auth",
  insecureKeyOverPlaintext: "--insecure-key-over-plaintext",
  noAuthDoes: "serves every caller",
  noAuth:
    "gluster-blockd refuses to serve its TCP API without authentication: anyone who reaches it could create and delete blocks and read every CHAP password. " +
    `Configure ${TLS_FLAGS_TEXT}, or give --insecure-no-auth to serve every caller anyway`,
  keyWithoutTls:
    "gluster-blockd refuses --key-file without TLS: the shared key, and the CHAP passwords blockd answers with, would cross the network in cleartext. " +
    `Configure ${TLS_FLAGS_TEXT} (the key may stay, on top), or give --insecure-key-over-plaintext to accept cleartext`,
};

/** Why gluster-blockd must not serve its TCP API so, in the words of its flags; undefined when it may. */
export function tcpAuthRefusal(c: TransportChoice): string | undefined {
  return transportRefusal(c, BLOCKD_WORDS);
}

/** The choice of a TcpApiOptions. */
export function tcpAuthChoice(o: Pick<TcpApiOptions, "key" | "tls" | "insecureNoAuth" | "insecureKeyOverPlaintext">): TransportChoice {
  return {
    tls: o.tls !== undefined,
    key: o.key !== undefined,
    insecureNoAuth: o.insecureNoAuth === true,
    insecureKeyOverPlaintext: o.insecureKeyOverPlaintext === true,
  };
}

/** Who may call each service over TCP. */
export const SERVICE_ROLES = {
  Blockd: ["controller", "peer"],
  BlockdPeer: ["peer"],
} as const satisfies Record<string, readonly BlockdRole[]>;

/** roles of the certificates seen lately, by fingerprint: a certificate is parsed once, not on every call */
const rolesSeen = new Map<string, readonly BlockdRole[]>();
const ROLES_CACHED = 256;

/** The roles of a call's verified client certificate; undefined when it does not parse (it cannot, after a handshake that verified it). */
function callerRoles(cert: NonNullable<AuthContext["sslPeerCertificate"]>): readonly BlockdRole[] | undefined {
  const seen = cert.fingerprint256 ? rolesSeen.get(cert.fingerprint256) : undefined;
  if (seen) return seen;
  let roles: BlockdRole[];
  try {
    roles = certificateRoles(new X509Certificate(cert.raw));
  } catch {
    return undefined;
  }
  if (cert.fingerprint256) {
    if (rolesSeen.size >= ROLES_CACHED) rolesSeen.clear();
    rolesSeen.set(cert.fingerprint256, roles);
  }
  return roles;
}

/**
 * The per-call check of one service: with TLS a verified client certificate
 * (UNAUTHENTICATED without one), the key when there is one (UNAUTHENTICATED),
 * then, with TLS, the certificate's role among `allow` (PERMISSION_DENIED).
 */
export function tcpAuthorizer(key: string | undefined, tls: boolean, service: keyof typeof SERVICE_ROLES): Authorize {
  const allow: readonly BlockdRole[] = SERVICE_ROLES[service];
  return (md, _peer, auth): StatusError | undefined => {
    const cert = auth.transportSecurityType === "ssl" ? auth.sslPeerCertificate : undefined;
    if (tls && !cert) return unauthenticated("a client certificate signed by the blockd CA is required");
    if (key !== undefined && !keyMatches(key, md.get(KEY_HEADER)[0])) return unauthenticated("a valid blockd key is required");
    if (!tls || !cert) return undefined;
    const roles = callerRoles(cert);
    if (roles === undefined) return unauthenticated("the client certificate does not parse");
    if (roles.some((r) => allow.includes(r))) return undefined;
    return permissionDenied(
      `the ${service} service serves only ${allow.map((r) => ROLE_NAMES[r]).join(" and ")}; ` +
        `the client certificate (${cert.subject?.CN ? `CN=${String(cert.subject.CN)}, ` : ""}${cert.subjectaltname ?? "no subject alternative names"}) is ${roles.length > 0 ? roles.map((r) => ROLE_NAMES[r]).join(" and ") : "neither"}`,
    );
  };
}

export interface RunningTcpApi {
  server: GrpcServer;
  /** tcp://host:port actually bound (port 0 picks one) */
  address: string;
}

export async function serveTcpApi(o: TcpApiOptions): Promise<RunningTcpApi> {
  // the program checks its flags first (a usage error); this guards every other caller
  const refused = tcpAuthRefusal(tcpAuthChoice(o));
  if (refused !== undefined) throw new Error(refused);
  const proto = blockdProto().glusterblock.v1;
  const opts = (service: keyof typeof SERVICE_ROLES): WrapOptions => ({ ...o.wrap, authorize: tcpAuthorizer(o.key, o.tls !== undefined, service) });
  const server = new GrpcServer(o.log);
  server.addService(proto.Blockd.service, wrapService(proto.Blockd.service, o.blockd, opts("Blockd")));
  server.addService(proto.BlockdPeer.service, wrapService(proto.BlockdPeer.service, o.peer, opts("BlockdPeer")));
  const address = await server.listen({ endpoint: o.listen, ...(o.tls ? { credentials: tlsServerCredentials(o.tls) } : {}) });
  if (o.tls) {
    o.log.info("the TCP API requires a client certificate of the blockd CA: BlockdPeer serves blockd peers only, Blockd the controller and peers", {
      certificate: o.tls.subject,
      validTo: o.tls.validTo.toISOString(),
      sharedKey: o.key !== undefined,
    });
  } else if (o.insecureNoAuth) {
    o.log.warn(
      `INSECURE (--insecure-no-auth): the TCP API serves every caller without authentication; anyone who reaches ${address} can create and delete blocks and read every CHAP password. Configure ${TLS_FLAGS_TEXT}`,
      { address },
    );
  } else {
    o.log.warn(
      `INSECURE (--insecure-key-over-plaintext): the TCP API runs without TLS; the shared key and the CHAP passwords cross the network in cleartext, and whoever reads the key can call this API. Configure ${TLS_FLAGS_TEXT}`,
      { address },
    );
  }
  return { server, address };
}
