// Where the gluster-blockd daemons are: a static list of host:port (flag), or
// the pods of the blockd DaemonSet in the driver's namespace, found by label
// selector, addressed by their hostIP (blockd runs with the host network).
import type { V1Pod } from "@kubernetes/client-node";
import type { KubeApi } from "./kube-api.js";

export const DEFAULT_BLOCKD_SELECTOR = "app.kubernetes.io/name=gluster-blockd";

/** One configured storage node: counted as an endpoint or not, and why not. */
export interface PoolMember {
  /** the pod's name, or the static endpoint */
  name: string;
  endpoint?: string;
  /** why it is not an endpoint now (undefined: it is one) */
  notCounted?: string;
}

export interface BlockdDiscovery {
  /** "host:port" (IPv6 in brackets), in a stable order */
  endpoints(): Promise<string[]>;
  /**
   * Every storage node configured, ready or not (the static list; every blockd
   * pod, also unready or being replaced): what haCount can ever reach, as
   * against what answers now.
   */
  pool(): Promise<PoolMember[]>;
  describe(): string;
}

export const endpointOf = (host: string, port: number): string => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);

export class StaticDiscovery implements BlockdDiscovery {
  constructor(private readonly list: readonly string[]) {}
  endpoints(): Promise<string[]> {
    return Promise.resolve([...this.list]);
  }
  pool(): Promise<PoolMember[]> {
    return Promise.resolve(this.list.map((e) => ({ name: e, endpoint: e })));
  }
  describe(): string {
    return `static ${this.list.join(", ") || "(none)"}`;
  }
}

/** Why a pod is not an endpoint, or undefined when it counts: it runs, has a host IP, is not being deleted and is not reported unready. */
function whyNotCounted(pod: V1Pod): string | undefined {
  if (pod.status?.phase !== "Running") return `phase ${pod.status?.phase ?? "unknown"}`;
  if (!pod.status.hostIP) return "no host IP";
  if (pod.metadata?.deletionTimestamp) return "being deleted";
  const ready = pod.status.conditions?.find((c) => c.type === "Ready");
  if (ready && ready.status !== "True") return `not Ready${ready.reason ? ` (${ready.reason})` : ""}`;
  return undefined;
}

/** A pod counts when it runs, has a host IP, and is not reported unready. */
export function podEndpoint(pod: V1Pod, port: number): string | undefined {
  return whyNotCounted(pod) === undefined && pod.status?.hostIP ? endpointOf(pod.status.hostIP, port) : undefined;
}

export class KubeDiscovery implements BlockdDiscovery {
  private cache: { at: number; list: string[]; pool: PoolMember[] } | undefined;

  constructor(
    private readonly kube: KubeApi,
    private readonly namespace: string,
    private readonly selector: string,
    private readonly port: number,
    /** pods change rarely; one list per burst of calls is enough */
    private readonly ttlMs = 15_000,
  ) {}

  async endpoints(): Promise<string[]> {
    return (await this.load()).list;
  }

  async pool(): Promise<PoolMember[]> {
    return (await this.load()).pool;
  }

  private async load(): Promise<{ list: string[]; pool: PoolMember[] }> {
    if (this.cache && Date.now() - this.cache.at < this.ttlMs) return this.cache;
    const pods = await this.kube.listPods(this.namespace, this.selector);
    const pool = pods
      .map((p): PoolMember => {
        const endpoint = podEndpoint(p, this.port);
        const why = whyNotCounted(p);
        return { name: p.metadata?.name ?? "?", ...(endpoint ? { endpoint } : {}), ...(why ? { notCounted: why } : {}) };
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const list = [...new Set(pool.map((m) => m.endpoint).filter((e): e is string => e !== undefined))].sort();
    this.cache = { at: Date.now(), list, pool };
    return this.cache;
  }

  describe(): string {
    return `pods ${this.selector} in ${this.namespace}, port ${this.port}`;
  }
}
