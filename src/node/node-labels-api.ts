// The labels of this node's own Node object, read through the Kubernetes API
// with the pod's service account (the chart mounts a token into the plugin's
// container only when topology is on, and grants `get` on nodes). The
// Downward API cannot give a pod its node's labels, and the admin should not
// have to repeat each node's zone in a per-node setting: the zone label the
// cloud provider or the admin already put on the Node is read instead.
// ApiExceptions stop here: callers see a NodeLabelsError with the HTTP status.
// The plugin loads this module only when it reads a zone label (node-labels.ts).
import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { NodeLabelsError, type NodeLabels } from "./node-labels.js";

/** The in-cluster configuration (the pod's service account), or undefined outside a pod. */
export function inClusterKubeConfig(env: NodeJS.ProcessEnv = process.env): KubeConfig | undefined {
  if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT) return undefined;
  const kc = new KubeConfig();
  kc.loadFromCluster();
  return kc;
}

/** Reads Nodes' labels through `kc`, each read given up after `timeoutMs`. */
export function apiNodeLabels(kc: KubeConfig, timeoutMs = 10_000): NodeLabels {
  const core = kc.makeApiClient(CoreV1Api);
  return async (name) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new NodeLabelsError(0, `reading Node ${name} took longer than ${timeoutMs / 1000} s`)), timeoutMs);
    });
    try {
      const node = await Promise.race([core.readNode({ name }), timeout]);
      return node.metadata?.labels ?? {};
    } catch (err) {
      if (err instanceof NodeLabelsError) throw err;
      if (err instanceof ApiException) {
        const code = (err as ApiException<unknown>).code;
        if (code === 404) return undefined;
        throw new NodeLabelsError(code, `reading Node ${name}: HTTP ${code}${code === 403 ? " (the plugin's service account may not get nodes)" : ""}`);
      }
      throw new NodeLabelsError(0, `reading Node ${name}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      clearTimeout(timer);
    }
  };
}
