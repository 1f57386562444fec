// The Kubernetes layer of the lab: where its binaries come from, where its
// state lives, and how its cluster is addressed. The binaries are given, never
// built or fetched here: K8S_BIN_DIR names their directory; without it the
// layer looks in one fixed place outside the repository, and is skipped when
// neither holds them.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { LAB_NET, LAB_STATE } from "../config.js";

/** where .ci/run (whose environment carries no variables of ours) finds the binaries when K8S_BIN_DIR is unset */
export const K8S_BIN_FIXED = "/var/tmp/k8s-bin";

/** what the layer runs: the control plane on the host, the kubelet in each VM, the sidecars and csi-sanity as images and a program */
export const K8S_BINARIES = [
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubelet",
  "pause",
  "csi-provisioner",
  "csi-attacher",
  "csi-resizer",
  "csi-node-driver-registrar",
  "livenessprobe",
  "csi-sanity",
] as const;

export interface K8sBins {
  dir: string;
  /** K8S_BIN_DIR, or the fixed place */
  from: string;
}

/**
 * The binaries' directory: K8S_BIN_DIR when set (then every binary must be
 * there: a missing one is an error), else the fixed place when it holds
 * them all; undefined when the layer is to be skipped.
 */
export function k8sBins(): K8sBins | undefined {
  const given = process.env.K8S_BIN_DIR;
  if (given) {
    const missing = K8S_BINARIES.filter((b) => !existsSync(join(given, b)));
    if (missing.length > 0) throw new Error(`K8S_BIN_DIR=${given} lacks ${missing.join(", ")}`);
    return { dir: given, from: "K8S_BIN_DIR" };
  }
  if (K8S_BINARIES.every((b) => existsSync(join(K8S_BIN_FIXED, b)))) return { dir: K8S_BIN_FIXED, from: K8S_BIN_FIXED };
  return undefined;
}

/** the one line a skipped layer says */
export const K8S_SKIP = `no Kubernetes binaries: set K8S_BIN_DIR to a directory holding ${K8S_BINARIES.join(", ")} (or put them in ${K8S_BIN_FIXED})`;

export const K8S_STATE = join(LAB_STATE, "k8s");
/** the host on the lab bridge: the API server's address for the kubelets */
export const API_HOST = `${LAB_NET}.254`;
export const API_PORT = 6443;
export const ETCD_PORT = 12379;
export const ETCD_PEER_PORT = 12380;
export const SERVICE_CIDR = "10.96.0.0/24";
/** the `kubernetes` Service's ClusterIP: pods reach the API server there (workers.ts routes it: no kube-proxy here) */
export const KUBERNETES_SERVICE_IP = "10.96.0.1";
export const podCidr = (i: number): string => `10.244.${i}.0/24`;
/** the sandbox image each pod starts with (containerd's and the kubelet's), made from the given pause binary */
export const PAUSE_IMAGE = "registry.k8s.io/pause:3.7";
export const SIDECAR_REPO = "registry.k8s.io/sig-storage";
