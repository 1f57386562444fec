// A throwaway PKI made with the real openssl, for the TLS tests: the blockd CA
// with blockd's peer certificate (DNS:gluster-blockd, serverAuth + clientAuth)
// and the controller's (DNS:gluster-block-csi-controller, clientAuth); a
// controller-named client of another CA; one of the right CA whose validity
// ended in 2020 (openssl 3.0's x509 cannot back-date, so `openssl ca
// -startdate/-enddate` signs it); a blockd certificate without the name; and
// two clients of the right CA in no role: one naming neither role, one
// naming gluster-blockd without serverAuth (so it could not serve as a
// blockd). EC P-256 keys: fast to make.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exec } from "../../src/util/exec.js";

export interface CertFiles {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  ca: string;
  otherCa: string;
  /** a blockd peer: DNS:gluster-blockd, serverAuth + clientAuth */
  blockd: CertFiles;
  /** the controller: DNS:gluster-block-csi-controller, clientAuth */
  controller: CertFiles;
  /** named like the controller, signed by the other CA */
  intruder: CertFiles;
  /** named like the controller, signed by the right CA, valid 2020-01-01 to 2020-01-02 */
  expired: CertFiles;
  /** right CA, server and client usage, but no DNS:gluster-blockd */
  unnamed: CertFiles;
  /** right CA, clientAuth, names neither role (DNS:storage-admin.example.org) */
  stranger: CertFiles;
  /** right CA, DNS:gluster-blockd but clientAuth only: not a peer (it could not serve as one) */
  blockdNamedClient: CertFiles;
}

const config = (dir: string): string => `
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = replaced-by-subj
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ blockd_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:gluster-blockd
[ unnamed_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:storage-1.example.org
[ client_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:gluster-block-csi-controller
[ stranger_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:storage-admin.example.org
[ blockd_named_client_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:gluster-blockd
[ ca ]
default_ca = blockd_ca
[ blockd_ca ]
database = ${dir}/ca-db/index.txt
new_certs_dir = ${dir}/ca-db/issued
certificate = ${dir}/ca.crt
private_key = ${dir}/ca.key
serial = ${dir}/ca-db/serial
default_md = sha256
policy = any_name
unique_subject = no
[ any_name ]
commonName = supplied
`;

const NEW_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

export async function makeTestPki(dir: string): Promise<TestPki> {
  const cnf = join(dir, "openssl.cnf");
  await mkdir(join(dir, "ca-db/issued"), { recursive: true });
  await writeFile(join(dir, "ca-db/index.txt"), "");
  await writeFile(join(dir, "ca-db/serial"), "1000\n");
  await writeFile(cnf, config(dir));
  const openssl = (...args: string[]): Promise<unknown> => exec("openssl", args, { cwd: dir, timeoutMs: 30_000 });
  const p = (name: string): string => join(dir, name);

  const selfSigned = (name: string, cn: string): Promise<unknown> =>
    openssl(
      "req",
      "-config",
      cnf,
      "-x509",
      ...NEW_KEY,
      "-keyout",
      p(`${name}.key`),
      "-out",
      p(`${name}.crt`),
      "-days",
      "2",
      "-subj",
      `/CN=${cn}`,
      "-extensions",
      "ca_ext",
    );
  const request = (name: string, cn: string): Promise<unknown> =>
    openssl("req", "-config", cnf, "-new", ...NEW_KEY, "-keyout", p(`${name}.key`), "-out", p(`${name}.csr`), "-subj", `/CN=${cn}`);
  const sign = async (name: string, cn: string, ca: string, ext: string): Promise<CertFiles> => {
    await request(name, cn);
    await openssl(
      "x509",
      "-req",
      "-in",
      p(`${name}.csr`),
      "-CA",
      p(`${ca}.crt`),
      "-CAkey",
      p(`${ca}.key`),
      "-CAcreateserial",
      "-days",
      "2",
      "-out",
      p(`${name}.crt`),
      "-extfile",
      cnf,
      "-extensions",
      ext,
    );
    return { cert: p(`${name}.crt`), key: p(`${name}.key`) };
  };

  await selfSigned("ca", "blockd test CA");
  await selfSigned("other-ca", "another CA");
  const blockd = await sign("blockd", "gluster-blockd", "ca", "blockd_ext");
  const controller = await sign("controller", "gluster-block-csi controller", "ca", "client_ext");
  const intruder = await sign("intruder", "intruder", "other-ca", "client_ext");
  const unnamed = await sign("unnamed", "storage-1", "ca", "unnamed_ext");
  const stranger = await sign("stranger", "storage admin", "ca", "stranger_ext");
  const blockdNamedClient = await sign("blockd-named-client", "gluster-blockd", "ca", "blockd_named_client_ext");
  await request("expired", "expired client");
  await openssl(
    "ca",
    "-config",
    cnf,
    "-batch",
    "-notext",
    "-extensions",
    "client_ext",
    "-startdate",
    "20200101000000Z",
    "-enddate",
    "20200102000000Z",
    "-in",
    p("expired.csr"),
    "-out",
    p("expired.crt"),
  );
  return {
    dir,
    ca: p("ca.crt"),
    otherCa: p("other-ca.crt"),
    blockd,
    controller,
    intruder,
    expired: { cert: p("expired.crt"), key: p("expired.key") },
    unnamed,
    stranger,
    blockdNamedClient,
  };
}
