// Where the gluster-blockd daemons are: a static list of host:port (flag), or
// the pods of the blockd DaemonSet in the driver's namespace, found by label
// selector, addressed by their hostIP (blockd runs with the host network).
import type { V1Pod } from "@kubernetes/client-node";
import type { KubeApi } from "./kube-api.js";

export const DEFAULT_BLOCKD_SELECTOR = "app.kubernetes.io/name=gluster-blockd";

export interface BlockdDiscovery {
  /** "host:port" (IPv6 in brackets), in a stable order */
  endpoints(): Promise<string[]>;
  describe(): string;
}

export const endpointOf = (host: string, port: number): string => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);

export class StaticDiscovery implements BlockdDiscovery {
  constructor(private readonly list: readonly string[]) {}
  endpoints(): Promise<string[]> {
    return Promise.resolve([...this.list]);
  }
  describe(): string {
    return `static ${this.list.join(", ") || "(none)"}`;
  }
}

/** A pod counts when it runs, has a host IP, and is not reported unready. */
export function podEndpoint(pod: V1Pod, port: number): string | undefined {
  if (pod.status?.phase !== "Running" || !pod.status.hostIP || pod.metadata?.deletionTimestamp) return undefined;
  const ready = pod.status.conditions?.find((c) => c.type === "Ready");
  if (ready && ready.status !== "True") return undefined;
  return endpointOf(pod.status.hostIP, port);
}

export class KubeDiscovery implements BlockdDiscovery {
  private cache: { at: number; list: string[] } | undefined;

  constructor(
    private readonly kube: KubeApi,
    private readonly namespace: string,
    private readonly selector: string,
    private readonly port: number,
    /** pods change rarely; one list per burst of calls is enough */
    private readonly ttlMs = 15_000,
  ) {}

  async endpoints(): Promise<string[]> {
    if (this.cache && Date.now() - this.cache.at < this.ttlMs) return this.cache.list;
    const pods = await this.kube.listPods(this.namespace, this.selector);
    const list = [...new Set(pods.map((p) => podEndpoint(p, this.port)).filter((e): e is string => e !== undefined))].sort();
    this.cache = { at: Date.now(), list };
    return list;
  }

  describe(): string {
    return `pods ${this.selector} in ${this.namespace}, port ${this.port}`;
  }
}
