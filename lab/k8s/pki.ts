// The cluster's PKI, made with openssl as a cluster admin would: one CA; the
// API server's serving certificate (its bridge address, loopback, the
// kubernetes Service's ClusterIP and DNS names); client certificates for the
// admin (system:masters), the controller manager, the scheduler, the API
// server's kubelet client and each node (system:node:<name>, for the Node
// authorizer); the service-account signing key. Made once into the lab's
// state directory and kept.
import { access, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exec } from "../../src/util/exec.js";
import { API_HOST, K8S_STATE, KUBERNETES_SERVICE_IP } from "./config.js";

export const PKI_DIR = join(K8S_STATE, "pki");

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
[ server_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:${API_HOST}, IP:127.0.0.1, IP:${KUBERNETES_SERVICE_IP}, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local
[ client_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
`;

/** the client identities: file stem → subject */
export const CLIENTS = {
  admin: "/O=system:masters/CN=lab-admin",
  "controller-manager": "/CN=system:kube-controller-manager",
  scheduler: "/CN=system:kube-scheduler",
  "apiserver-kubelet-client": "/O=system:masters/CN=kube-apiserver-kubelet-client",
} as const;

export const nodeClient = (name: string): string => `node-${name}`;

export const pkiFile = (name: string): string => join(PKI_DIR, name);

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

const openssl = (...args: string[]): Promise<unknown> => exec("openssl", args, { cwd: PKI_DIR, timeoutMs: 60_000 });
const NEW_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

async function signed(stem: string, subject: string, ext: "server_ext" | "client_ext"): Promise<void> {
  if (await exists(pkiFile(`${stem}.crt`))) return;
  const cnf = pkiFile("openssl.cnf");
  await openssl("req", "-config", cnf, "-new", ...NEW_KEY, "-keyout", `${stem}.key`, "-out", `${stem}.csr`, "-subj", subject);
  await openssl(
    "x509",
    "-req",
    "-in",
    `${stem}.csr`,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "3650",
    "-out",
    `${stem}.crt`,
    "-extfile",
    cnf,
    "-extensions",
    ext,
  );
}

/** Makes what is missing of the PKI (the CA first), including each node's client certificate. */
export async function ensureClusterPki(nodes: readonly string[]): Promise<void> {
  await mkdir(PKI_DIR, { recursive: true, mode: 0o700 });
  await writeFile(pkiFile("openssl.cnf"), CONFIG);
  if (!(await exists(pkiFile("ca.crt"))))
    await openssl(
      "req",
      "-config",
      "openssl.cnf",
      "-x509",
      ...NEW_KEY,
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
      "-days",
      "3650",
      "-subj",
      "/CN=gluster-block-csi lab cluster CA",
      "-extensions",
      "ca_ext",
    );
  await signed("apiserver", "/CN=kube-apiserver", "server_ext");
  for (const [stem, subject] of Object.entries(CLIENTS)) await signed(stem, subject, "client_ext");
  for (const n of nodes) await signed(nodeClient(n), `/O=system:nodes/CN=system:node:${n}`, "client_ext");
  if (!(await exists(pkiFile("sa.key")))) {
    await openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "sa.key");
    await openssl("ec", "-in", "sa.key", "-pubout", "-out", "sa.pub");
  }
}

/** A kubeconfig for a client certificate of the PKI (paths relative to `pkiDir`, where the files are on that machine). */
export function kubeconfig(server: string, stem: string, pkiDir = PKI_DIR): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: ${server}
    certificate-authority: ${pkiDir}/ca.crt
users:
- name: ${stem}
  user:
    client-certificate: ${pkiDir}/${stem}.crt
    client-key: ${pkiDir}/${stem}.key
contexts:
- name: lab
  context: {cluster: lab, user: ${stem}}
current-context: lab
`;
}
