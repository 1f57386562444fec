// The lab's PKI for gluster-blockd's mutual TLS, made with the real openssl
// as an admin would (src/controller/README.md): one CA; the peer certificate
// every blockd serves and calls its peers with (SAN DNS:gluster-blockd,
// serverAuth + clientAuth); the controller's client certificate (SAN
// DNS:gluster-block-csi-controller, clientAuth only). EC P-256 keys. Made
// once into a directory and kept there: every process of the lab (e2e files,
// demo, bench) then hands the daemons the same CA.
import { mkdir, mkdtemp, rename, rm, writeFile, access } from "node:fs/promises";
import { dirname, join } from "node:path";
import { exec } from "../../src/util/exec.js";

export interface CertFiles {
  cert: string;
  key: string;
}

/** PEM files of one CA and the two roles it signs. */
export interface RolePki {
  dir: string;
  ca: string;
  /** blockd's peer certificate: served to the controller and the peers, presented to the peers */
  blockd: CertFiles;
  /** the controller's client certificate */
  controller: CertFiles;
}

const CONFIG = `
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = replaced-by-subj
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ peer_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:gluster-blockd
[ controller_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:gluster-block-csi-controller
`;

const NEW_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function files(dir: string): RolePki {
  return {
    dir,
    ca: join(dir, "ca.crt"),
    blockd: { cert: join(dir, "blockd.crt"), key: join(dir, "blockd.key") },
    controller: { cert: join(dir, "controller.crt"), key: join(dir, "controller.key") },
  };
}

/** Makes the CA and both certificates in `dir` (created); the CA's key stays there too. */
export async function makeRolePki(dir: string, days = 3650): Promise<RolePki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const cnf = join(dir, "openssl.cnf");
  await writeFile(cnf, CONFIG);
  const openssl = (...args: string[]): Promise<unknown> => exec("openssl", args, { cwd: dir, timeoutMs: 30_000 });
  const p = (name: string): string => join(dir, name);
  await openssl(
    "req",
    "-config",
    cnf,
    "-x509",
    ...NEW_KEY,
    "-keyout",
    p("ca.key"),
    "-out",
    p("ca.crt"),
    "-days",
    String(days),
    "-subj",
    "/CN=gluster-blockd lab CA",
    "-extensions",
    "ca_ext",
  );
  for (const [name, cn, ext] of [
    ["blockd", "gluster-blockd", "peer_ext"],
    ["controller", "gluster-block-csi-controller", "controller_ext"],
  ] as const) {
    await openssl("req", "-config", cnf, "-new", ...NEW_KEY, "-keyout", p(`${name}.key`), "-out", p(`${name}.csr`), "-subj", `/CN=${cn}`);
    await openssl(
      "x509",
      "-req",
      "-in",
      p(`${name}.csr`),
      "-CA",
      p("ca.crt"),
      "-CAkey",
      p("ca.key"),
      "-CAcreateserial",
      "-days",
      String(days),
      "-out",
      p(`${name}.crt`),
      "-extfile",
      cnf,
      "-extensions",
      ext,
    );
  }
  return files(dir);
}

const made = new Map<string, Promise<RolePki>>();

/**
 * The PKI kept in `dir`: made on first use (in a directory beside it, then
 * renamed, so that parallel processes never see half of one; the first to
 * rename wins and the others use its files).
 */
export function keptRolePki(dir: string): Promise<RolePki> {
  let p = made.get(dir);
  if (!p) {
    p = (async () => {
      const done = files(dir);
      const exists = await access(done.controller.key).then(
        () => true,
        () => false,
      );
      if (exists) return done;
      await mkdir(dirname(dir), { recursive: true });
      const tmp = await mkdtemp(`${dir}.tmp-`);
      await makeRolePki(tmp);
      try {
        await rename(tmp, dir);
      } catch {
        await rm(tmp, { recursive: true, force: true }); // another process made it first
      }
      return done;
    })();
    made.set(dir, p);
    p.catch(() => made.delete(dir));
  }
  return p;
}
