// The driver's namespace, where its CHAP Secrets and blockd pods are: the
// flag, else the pod's own. Apart from kube-api.ts: the flags are read
// (config.ts) before, and without, the Kubernetes client.
import { readFileSync } from "node:fs";

const SA_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/** The driver's namespace: the flag, else the pod's (downward API env or the service account file), else "default". */
export function driverNamespace(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    const ns = readFileSync(SA_NAMESPACE_FILE, "utf8").trim();
    if (ns) return ns;
  } catch {
    // not in a pod
  }
  return "default";
}
