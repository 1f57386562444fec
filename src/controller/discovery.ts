// Where the gluster-blockd daemons are: a static list of host:port (flag), or
// the pods of the blockd DaemonSet in the driver's namespace, found by label
// selector, addressed by their hostIP (blockd runs with the host network).
// With topology on, each storage node's zone too: for pods, the zone label of
// the Node the pod runs on (spec.nodeName); for a static list, the zones the
// --blockd-zones flag gives its endpoints (none: in no zone).
import type { V1Pod } from "@kubernetes/client-node";
import type { KubeApi } from "./kube-api.js";
import { mapLimit } from "../util/map-limit.js";

export const DEFAULT_BLOCKD_SELECTOR = "app.kubernetes.io/name=gluster-blockd";

/** One configured storage node: counted as an endpoint or not, and why not. */
export interface PoolMember {
  /** the pod's name, or the static endpoint */
  name: string;
  endpoint?: string;
  /** why it is not an endpoint now (undefined: it is one) */
  notCounted?: string;
  /** the storage node's address: the pod's host IP, or the static endpoint's host */
  address?: string;
  /** the storage node's zone; undefined: in no zone (no label, or none configured) */
  zone?: string;
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
  /** where the storage nodes' zones come from, for messages */
  describeZones(): string;
}

export const endpointOf = (host: string, port: number): string => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);

/** The host of "host:port" or "[v6]:port". */
export const hostOfEndpoint = (endpoint: string): string => endpoint.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");

export class StaticDiscovery implements BlockdDiscovery {
  /** `zones`: endpoint -> zone (--blockd-zones); an endpoint it does not name is in no zone */
  constructor(
    private readonly list: readonly string[],
    private readonly zones: ReadonlyMap<string, string> = new Map(),
  ) {}
  endpoints(): Promise<string[]> {
    return Promise.resolve([...this.list]);
  }
  pool(): Promise<PoolMember[]> {
    return Promise.resolve(
      this.list.map((e) => {
        const zone = this.zones.get(e);
        return { name: e, endpoint: e, address: hostOfEndpoint(e), ...(zone !== undefined ? { zone } : {}) };
      }),
    );
  }
  describe(): string {
    return `static ${this.list.join(", ") || "(none)"}`;
  }
  describeZones(): string {
    return this.zones.size > 0 ? "zones from --blockd-zones" : "--blockd-endpoints without --blockd-zones: every storage node is in no zone";
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

export interface KubeDiscoveryOptions {
  /** pods change rarely; one list per burst of calls is enough (default 15 s) */
  ttlMs?: number;
  /** with topology on: the Node label holding a storage node's zone (read from each blockd pod's Node) */
  zoneLabel?: string;
}

export class KubeDiscovery implements BlockdDiscovery {
  private cache: { at: number; list: string[]; pool: PoolMember[] } | undefined;

  constructor(
    private readonly kube: KubeApi,
    private readonly namespace: string,
    private readonly selector: string,
    private readonly port: number,
    private readonly opts: KubeDiscoveryOptions = {},
  ) {}

  async endpoints(): Promise<string[]> {
    return (await this.load()).list;
  }

  async pool(): Promise<PoolMember[]> {
    return (await this.load()).pool;
  }

  private async load(): Promise<{ list: string[]; pool: PoolMember[] }> {
    if (this.cache && Date.now() - this.cache.at < (this.opts.ttlMs ?? 15_000)) return this.cache;
    const pods = await this.kube.listPods(this.namespace, this.selector);
    const zones = await this.zonesOf(pods);
    const pool = pods
      .map((p): PoolMember => {
        const endpoint = podEndpoint(p, this.port);
        const why = whyNotCounted(p);
        const address = p.status?.hostIP;
        const zone = zones.get(p.spec?.nodeName ?? "");
        return {
          name: p.metadata?.name ?? "?",
          ...(endpoint ? { endpoint } : {}),
          ...(why ? { notCounted: why } : {}),
          ...(address ? { address } : {}),
          ...(zone ? { zone } : {}),
        };
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const list = [...new Set(pool.map((m) => m.endpoint).filter((e): e is string => e !== undefined))].sort();
    this.cache = { at: Date.now(), list, pool };
    return this.cache;
  }

  /** node name -> zone, for the nodes the pods run on (none read without a zone label); a Node gone or unlabelled has none */
  private async zonesOf(pods: readonly V1Pod[]): Promise<Map<string, string>> {
    const label = this.opts.zoneLabel;
    const out = new Map<string, string>();
    if (label === undefined) return out;
    const names = [...new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => Boolean(n)))];
    const labels = await mapLimit(names, 8, (n) => this.kube.nodeLabels(n));
    names.forEach((n, i) => {
      const zone = labels[i]?.[label];
      if (zone) out.set(n, zone);
    });
    return out;
  }

  describe(): string {
    return `pods ${this.selector} in ${this.namespace}, port ${this.port}`;
  }

  describeZones(): string {
    return this.opts.zoneLabel ? `zones from the label ${this.opts.zoneLabel} of each blockd pod's Node` : "no zones read (topology off)";
  }
}
