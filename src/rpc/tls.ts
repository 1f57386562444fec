// Mutual TLS on blockd's TCP API (its peers and the CSI controller).
//
// The certificate scheme. One CA signs every certificate. Peers and the
// controller dial blockd by IP address, and storage nodes come and go, so no
// certificate names an address: every blockd serves a certificate whose
// subject alternative name is DNS:gluster-blockd, and every client checks the
// server against that name whatever address it dialled
// (grpc.ssl_target_name_override). Who may call is decided by the client's
// certificate: signed by the CA, in date, usable for clientAuth; the TLS
// handshake refuses anyone else before an RPC exists. blockd uses its one
// certificate both to serve and to call its peers, so it needs serverAuth and
// clientAuth. The chart generates exactly this (templates/blockd-tls-secret.yaml);
// src/controller/README.md shows how to make it by hand. The shared key
// (peer-auth.ts), when configured, is required on top.
import { readFile } from "node:fs/promises";
import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { credentials, ServerCredentials, type ChannelCredentials, type ChannelOptions } from "@grpc/grpc-js";
import { knownSecrets } from "../util/redact.js";
import { UsageError } from "../util/flags.js";
import type { Logger } from "../util/log.js";

/** The name every blockd certificate carries and every client expects. */
export const BLOCKD_TLS_NAME = "gluster-blockd";

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
  knownSecrets.add(pem.trim(), body.join(""), ...body.filter((l) => l.length >= 16));
}

/**
 * Reads and checks the files at start-up, so that a mistake is one clear
 * error here rather than refused handshakes later: unreadable files, no PEM,
 * a key that is not the certificate's, a missing key usage, and (for blockd,
 * which serves) a certificate without DNS:gluster-blockd. An expired or
 * soon-expiring certificate, or one the CA bundle does not sign, is logged
 * as a warning only: the daemon still serves its local CLI and reconciles LIO.
 */
export async function loadBlockdTls(files: TlsFiles, opts: { flags: TlsFlagNames; serves: boolean; log: Logger; now?: Date }): Promise<BlockdTls> {
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
  if (!leaf.checkPrivateKey(privateKey)) throw new Error(`--${flags.key} ${files.key} is not the private key of the certificate in --${flags.cert} ${files.cert}`);

  const usages = leaf.keyUsage as string[] | undefined; // extended key usage; absent = any
  const need = opts.serves ? [[SERVER_AUTH, "serverAuth"], [CLIENT_AUTH, "clientAuth"]] : [[CLIENT_AUTH, "clientAuth"]];
  for (const [oid, name] of need) {
    if (usages && !usages.includes(oid as string)) throw new Error(`--${flags.cert} ${files.cert}: the certificate's extendedKeyUsage lacks ${name}, which ${opts.serves ? "blockd (server and peer client)" : "a blockd client"} needs`);
  }
  if (opts.serves && leaf.checkHost(BLOCKD_TLS_NAME) === undefined) {
    throw new Error(
      `--${flags.cert} ${files.cert}: the certificate does not name ${BLOCKD_TLS_NAME} (its subject alternative names: ${leaf.subjectAltName ?? "none"}); ` +
        `peers and the controller check every blockd against DNS:${BLOCKD_TLS_NAME}`,
    );
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
    log.warn("the TLS certificate is not signed by a CA of the CA bundle: blockd and the controller trust only that bundle, so they refuse it", { ...where, ca: files.ca });
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
