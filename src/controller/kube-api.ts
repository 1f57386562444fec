// The few Kubernetes API calls the controller makes, over
// @kubernetes/client-node: CHAP Secrets, blockd pod discovery, Events on
// claims, StorageClasses (hosting volumes for ListVolumes), CSINodes
// (node IDs for ControllerGetVolume) and Nodes (the zones of the storage
// nodes, with topology on). ApiExceptions and network errors become
// KubeApiError here; nothing from the client library leaks further.
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  StorageV1Api,
  setHeaderOptions,
  type CoreV1Event,
  type V1Pod,
  type V1Secret,
} from "@kubernetes/client-node";
import { KubeApiError } from "./errors.js";

export interface KubeApi {
  createSecret(namespace: string, secret: V1Secret): Promise<V1Secret>;
  /** undefined when there is no such Secret */
  readSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  replaceSecret(namespace: string, name: string, secret: V1Secret): Promise<V1Secret>;
  listSecrets(namespace: string, labelSelector: string): Promise<V1Secret[]>;
  /** false when it was already gone */
  deleteSecret(namespace: string, name: string): Promise<boolean>;
  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]>;
  /** undefined when there is no such Event */
  readEvent(namespace: string, name: string): Promise<CoreV1Event | undefined>;
  createEvent(namespace: string, event: CoreV1Event): Promise<void>;
  /** A repeat of an Event: its count, last time and message. With `resourceVersion`, HTTP 409 when the Event changed since it was read. */
  bumpEvent(namespace: string, name: string, bump: EventBump): Promise<void>;
  /** parameters of the StorageClasses whose provisioner is `driverName` */
  storageClassParameters(driverName: string): Promise<Record<string, string>[]>;
  /** node name -> node ID this driver registered on each node (CSINode) */
  csiNodeIds(driverName: string): Promise<Map<string, string>>;
  /** a Node's labels; undefined when there is no such Node */
  nodeLabels(name: string): Promise<Record<string, string> | undefined>;
}

export interface EventBump {
  count: number;
  lastTimestamp: Date;
  message: string;
  resourceVersion?: string;
}

interface StatusBody {
  message?: string;
  reason?: string;
}

function toKubeError(op: string, err: unknown): KubeApiError {
  if (err instanceof ApiException) {
    const e = err as ApiException<unknown>;
    let body: StatusBody = {};
    try {
      body = (typeof e.body === "string" ? JSON.parse(e.body) : e.body) as StatusBody;
    } catch {
      // not a Status object
    }
    // only the Status message: the exception's own text carries headers and bodies
    return new KubeApiError(op, e.code, body?.reason ?? "", `${op}: HTTP ${e.code}${body?.message ? `: ${body.message}` : ""}`);
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new KubeApiError(op, 0, "NetworkError", `${op}: ${msg}`);
}

/** One API call: its failure as a KubeApiError naming `op`. */
export async function kubeCall<T>(op: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toKubeError(op, err);
  }
}

/** One read: undefined for HTTP 404, other failures as kubeCall's. */
export async function kubeRead<T>(op: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await kubeCall(op, fn);
  } catch (err) {
    if (err instanceof KubeApiError && err.httpStatus === 404) return undefined;
    throw err;
  }
}

const call = kubeCall;

export class ClientNodeKubeApi implements KubeApi {
  private readonly core: CoreV1Api;
  private readonly storage: StorageV1Api;

  constructor(readonly config: KubeConfig) {
    this.core = config.makeApiClient(CoreV1Api);
    this.storage = config.makeApiClient(StorageV1Api);
  }

  createSecret(namespace: string, body: V1Secret): Promise<V1Secret> {
    return call(`create Secret ${namespace}/${body.metadata?.name ?? ""}`, () => this.core.createNamespacedSecret({ namespace, body }));
  }

  async readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    try {
      return await call(`read Secret ${namespace}/${name}`, () => this.core.readNamespacedSecret({ namespace, name }));
    } catch (err) {
      if (err instanceof KubeApiError && err.httpStatus === 404) return undefined;
      throw err;
    }
  }

  replaceSecret(namespace: string, name: string, body: V1Secret): Promise<V1Secret> {
    return call(`replace Secret ${namespace}/${name}`, () => this.core.replaceNamespacedSecret({ namespace, name, body }));
  }

  async listSecrets(namespace: string, labelSelector: string): Promise<V1Secret[]> {
    const l = await call(`list Secrets in ${namespace} (${labelSelector})`, () => this.core.listNamespacedSecret({ namespace, labelSelector }));
    return l.items;
  }

  async deleteSecret(namespace: string, name: string): Promise<boolean> {
    try {
      await call(`delete Secret ${namespace}/${name}`, () => this.core.deleteNamespacedSecret({ namespace, name }));
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.httpStatus === 404) return false;
      throw err;
    }
  }

  async listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    const l = await call(`list Pods in ${namespace} (${labelSelector})`, () => this.core.listNamespacedPod({ namespace, labelSelector }));
    return l.items;
  }

  async readEvent(namespace: string, name: string): Promise<CoreV1Event | undefined> {
    try {
      return await call(`read Event ${namespace}/${name}`, () => this.core.readNamespacedEvent({ namespace, name }));
    } catch (err) {
      if (err instanceof KubeApiError && err.httpStatus === 404) return undefined;
      throw err;
    }
  }

  async createEvent(namespace: string, body: CoreV1Event): Promise<void> {
    await call(`create Event in ${namespace}`, () => this.core.createNamespacedEvent({ namespace, body }));
  }

  async bumpEvent(namespace: string, name: string, bump: EventBump): Promise<void> {
    // a JSON merge patch; a resourceVersion in it is a precondition (409 when stale)
    const body = {
      ...(bump.resourceVersion ? { metadata: { resourceVersion: bump.resourceVersion } } : {}),
      count: bump.count,
      lastTimestamp: bump.lastTimestamp.toISOString(),
      message: bump.message,
    };
    // client-node 1.x sends the first patch type the API lists (application/json-patch+json, which wants an
    // array of operations) unless a middleware sets the Content-Type
    await call(`patch Event ${namespace}/${name}`, () =>
      this.core.patchNamespacedEvent({ namespace, name, body }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch)),
    );
  }

  async storageClassParameters(driverName: string): Promise<Record<string, string>[]> {
    const l = await call("list StorageClasses", () => this.storage.listStorageClass());
    return l.items.filter((sc) => sc.provisioner === driverName).map((sc) => sc.parameters ?? {});
  }

  async csiNodeIds(driverName: string): Promise<Map<string, string>> {
    const l = await call("list CSINodes", () => this.storage.listCSINode());
    const out = new Map<string, string>();
    for (const n of l.items) {
      const d = n.spec.drivers.find((x) => x.name === driverName);
      if (d?.nodeID && n.metadata?.name) out.set(n.metadata.name, d.nodeID);
    }
    return out;
  }

  async nodeLabels(name: string): Promise<Record<string, string> | undefined> {
    try {
      const n = await call(`read Node ${name}`, () => this.core.readNode({ name }));
      return n.metadata?.labels ?? {};
    } catch (err) {
      if (err instanceof KubeApiError && err.httpStatus === 404) return undefined;
      throw err;
    }
  }
}

export type KubeMode = "auto" | "off";

/**
 * The Kubernetes client configuration: an explicit kubeconfig file, else the
 * in-cluster service account when running in a pod, else none (the API is
 * optional: static blockd endpoints, no CHAP Secrets, no Events).
 */
export function loadKubeConfig(opts: { kubeconfig?: string; mode: KubeMode; env?: NodeJS.ProcessEnv }): KubeConfig | undefined {
  if (opts.mode === "off") return undefined;
  const kc = new KubeConfig();
  if (opts.kubeconfig) {
    kc.loadFromFile(opts.kubeconfig);
    return kc;
  }
  const env = opts.env ?? process.env;
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) {
    kc.loadFromCluster();
    return kc;
  }
  return undefined;
}
