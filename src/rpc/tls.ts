// Mutual TLS on blockd's TCP API (its peers and the CSI controller).
//
// The certificate scheme. One CA signs every certificate, of two roles that
// the certificate's name tells apart (subject alternative name DNS, or the
// common name when there is none, as TLS checks a server's name):
//
// - a blockd peer: DNS:gluster-blockd, usable for serverAuth and clientAuth.
//   Every blockd serves it and calls its peers with it. Peers and the
//   controller dial blockd by IP address, and storage nodes come and go, so
//   no certificate names an address: every client checks the server against
//   DNS:gluster-blockd whatever address it dialled
//   (grpc.ssl_target_name_override), so only a peer certificate can pose as
//   a blockd.
// - the controller: DNS:gluster-block-csi-controller, usable for clientAuth,
//   and never the peer name. It may call the Blockd service only.
//
// The TLS handshake refuses a client whose certificate the CA did not sign,
// out of date or not for clientAuth, before an RPC exists; then each call's
// verified certificate decides its role (tcp-api.ts): BlockdPeer serves
// peers only, Blockd the controller and peers; a certificate of the CA in
// neither role gets PERMISSION_DENIED. The chart generates exactly this
// (templates/blockd-tls-secrets.yaml); src/controller/README.md shows how to
// make it by hand. The shared key (peer-auth.ts), when configured, is
// required on top.
import { readFile } from "node:fs/promises";
import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { credentials, ServerCredentials, type ChannelCredentials, type ChannelOptions } from "@grpc/grpc-js";
import { processSecrets } from "../util/secrets.js";
import { UsageError } from "../util/flags.js";
import type { Logger } from "../util/log.js";

/** The name every blockd (peer) certificate carries and every client expects of a blockd. */
export const BLOCKD_TLS_NAME = "gluster-blockd";
/** The name of the controller's client certificate. */
export const CONTROLLER_TLS_NAME = "gluster-block-csi-controller";

/** Who a verified client certificate is: a blockd of the same cluster, or the CSI controller. */
export type BlockdRole = "peer" | "controller";

const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
/** warn this long before the certificate expires */
const EXPIRY_WARNING_MS = 30 * 24 * 3600 * 1000;

/** PEM files: the certificate (chain), its private key, the CA bundle that signs callers. */
export interface TlsFiles {
  cert: string;
  key: string;
  ca: string;
}

/** The flag of each file in one program (gluster-blockd: tls-cert; the controller: blockd-tls-cert). */
export type TlsFlagNames = Record<keyof TlsFiles, string>;

export const BLOCKD_TLS_FLAGS: TlsFlagNames = { cert: "tls-cert", key: "tls-key", ca: "tls-ca" };

/** The loaded material. The key is registered as a secret: no log line or error can show it. */
export interface BlockdTls {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
  /** the certificate's subject, for logs */
  subject: string;
  validTo: Date;
}

/** The three files, or none; some but not all is a UsageError naming the missing flags. */
export function tlsFiles(given: Partial<TlsFiles>, flags: TlsFlagNames): TlsFiles | undefined {
  const { cert, key, ca } = given;
  if (cert && key && ca) return { cert, key, ca };
  const missing = (["cert", "key", "ca"] as const).filter((k) => !given[k]);
  if (missing.length === 3) return undefined;
  const all = (["cert", "key", "ca"] as const).map((k) => `--${flags[k]}`);
  throw new UsageError(`TLS needs all of ${all.join(", ")}; missing ${missing.map((k) => `--${flags[k]}`).join(", ")}`);
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function certificates(text: string, what: string): X509Certificate[] {
  const blocks = text.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new Error(`${what} holds no PEM certificate`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new Error(`${what}: certificate ${i + 1} does not parse (${err instanceof Error ? err.message : String(err)})`);
    }
  });
}

async function read(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new Error(`--${flag} ${path}: cannot read it (${typeof code === "string" ? code : String(err)})`);
  }
}

/** Every fragment of a PEM private key that could end up in a log line: the whole text and each line of its body. */
function registerKey(pem: string): void {
  const body = pem
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("-----") && !l.includes(":"));
  processSecrets.add(pem.trim(), body.join(""), ...body.filter((l) => l.length >= 16));
}

/**
 * The roles a certificate (of the CA: the caller checked that) may act in.
 * A peer is what could serve as a blockd: it names gluster-blockd, and its
 * extendedKeyUsage, if it has one, allows serverAuth. The controller names
 * gluster-block-csi-controller. Names match as TLS matches a server's: the
 * DNS subject alternative names, else the common name.
 */
export function certificateRoles(cert: X509Certificate): BlockdRole[] {
  const roles: BlockdRole[] = [];
  const usages = cert.keyUsage as string[] | undefined; // extended key usage; absent = any
  if (cert.checkHost(BLOCKD_TLS_NAME) !== undefined && (!usages || usages.includes(SERVER_AUTH))) roles.push("peer");
  if (cert.checkHost(CONTROLLER_TLS_NAME) !== undefined) roles.push("controller");
  return roles;
}

/** Each role, as a message names it. */
export const ROLE_NAMES: Record<BlockdRole, string> = {
  peer: `a blockd peer (DNS:${BLOCKD_TLS_NAME}, serverAuth and clientAuth)`,
  controller: `the controller (DNS:${CONTROLLER_TLS_NAME}, clientAuth)`,
};

/**
 * Reads and checks the files at start-up, so that a mistake is one clear
 * error here rather than refused handshakes later: unreadable files, no PEM,
 * a key that is not the certificate's, a missing key usage, and a
 * certificate not of its role: blockd's must name gluster-blockd (it serves,
 * and calls its peers); the controller's must name
 * gluster-block-csi-controller and must not be a peer's (it could then call
 * peer-only RPCs and pose as a blockd). An expired or
 * soon-expiring certificate, or one the CA bundle does not sign, is logged
 * as a warning only: the daemon still serves its local CLI and reconciles LIO.
 */
export async function loadBlockdTls(files: TlsFiles, opts: { flags: TlsFlagNames; role: BlockdRole; log: Logger; now?: Date }): Promise<BlockdTls> {
  const { flags, log } = opts;
  const key = await read(flags.key, files.key);
  registerKey(key.toString("utf8"));
  const cert = await read(flags.cert, files.cert);
  const ca = await read(flags.ca, files.ca);

  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    // the parser's message says nothing useful and the content must not be shown
    throw new Error(`--${flags.key} ${files.key}: not an unencrypted PEM private key`);
  }
  const chain = certificates(cert.toString("utf8"), `--${flags.cert} ${files.cert}`);
  const leaf = chain[0] as X509Certificate;
  const cas = certificates(ca.toString("utf8"), `--${flags.ca} ${files.ca}`);
  if (!leaf.checkPrivateKey(privateKey))
    throw new Error(`--${flags.key} ${files.key} is not the private key of the certificate in --${flags.cert} ${files.cert}`);

  const usages = leaf.keyUsage as string[] | undefined; // extended key usage; absent = any
  const peer = opts.role === "peer";
  const need = peer
    ? [
        [SERVER_AUTH, "serverAuth"],
        [CLIENT_AUTH, "clientAuth"],
      ]
    : [[CLIENT_AUTH, "clientAuth"]];
  for (const [oid, name] of need) {
    if (usages && !usages.includes(oid as string))
      throw new Error(
        `--${flags.cert} ${files.cert}: the certificate's extendedKeyUsage lacks ${name}, which ${peer ? "blockd (server and peer client)" : "a blockd client"} needs`,
      );
  }
  const names = `its subject alternative names: ${leaf.subjectAltName ?? "none"}`;
  if (peer && leaf.checkHost(BLOCKD_TLS_NAME) === undefined) {
    throw new Error(
      `--${flags.cert} ${files.cert}: the certificate does not name ${BLOCKD_TLS_NAME} (${names}); peers and the controller check every blockd against DNS:${BLOCKD_TLS_NAME}`,
    );
  }
  if (!peer) {
    const roles = certificateRoles(leaf);
    if (roles.includes("peer")) {
      throw new Error(
        `--${flags.cert} ${files.cert}: this is a blockd peer certificate (it names ${BLOCKD_TLS_NAME}): with it the controller could call blockd's peer-only RPCs and pose as a blockd. ` +
          `Give the controller its own client certificate of the CA, naming DNS:${CONTROLLER_TLS_NAME}`,
      );
    }
    if (!roles.includes("controller")) {
      throw new Error(
        `--${flags.cert} ${files.cert}: the certificate does not name ${CONTROLLER_TLS_NAME} (${names}); blockd serves the Blockd service only to ${ROLE_NAMES.controller} and its peers`,
      );
    }
  }

  const now = opts.now ?? new Date();
  const validFrom = new Date(leaf.validFrom);
  const validTo = new Date(leaf.validTo);
  const where = { cert: files.cert, subject: leaf.subject, validFrom: validFrom.toISOString(), validTo: validTo.toISOString() };
  if (now < validFrom) log.warn("the TLS certificate is not valid yet: the other end refuses it", where);
  else if (now > validTo) log.warn("the TLS certificate has expired: the other end refuses it; replace it", where);
  else if (validTo.getTime() - now.getTime() < EXPIRY_WARNING_MS) log.warn("the TLS certificate expires soon; replace it", where);
  const top = chain[chain.length - 1] as X509Certificate;
  if (!cas.some((c) => c.fingerprint256 === top.fingerprint256 || (top.checkIssued(c) && top.verify(c.publicKey)))) {
    log.warn("the TLS certificate is not signed by a CA of the CA bundle: blockd and the controller trust only that bundle, so they refuse it", {
      ...where,
      ca: files.ca,
    });
  }
  return { cert, key, ca, subject: leaf.subject, validTo };
}

/** blockd's TCP listener: its certificate, and a client certificate of the CA required of every caller. */
export function tlsServerCredentials(tls: BlockdTls): ServerCredentials {
  return ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], true);
}

/** How a client (a peer blockd, the controller) dials blockd. */
export interface BlockdTransport {
  credentials: ChannelCredentials;
  options: ChannelOptions;
}

export function blockdTransport(tls: BlockdTls | undefined): BlockdTransport {
  if (!tls) return { credentials: credentials.createInsecure(), options: {} };
  return {
    credentials: credentials.createSsl(tls.ca, tls.key, tls.cert),
    // the server is checked against the common name, not the IP address dialled
    options: { "grpc.ssl_target_name_override": BLOCKD_TLS_NAME },
  };
}
