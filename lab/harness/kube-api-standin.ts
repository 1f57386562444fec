// A stand-in for the Kubernetes API server: plain HTTP, the few endpoints the
// controller uses (Secrets create/get/replace/list/delete, Pods list, Events
// create/get/merge-patch, StorageClasses and CSINodes list, Nodes get; the
// node plugin's Node get too; the import's PersistentVolumes get/create/
// merge-patch and PersistentVolumeClaims get/create/delete with
// preconditions; no PV controller binds anything), objects kept in
// memory, every request recorded. `kubeconfig()` writes a kubeconfig that points
// @kubernetes/client-node at it.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string;
  body: unknown;
}

type Obj = Record<string, unknown> & {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    resourceVersion?: string;
    finalizers?: string[];
    deletionTimestamp?: string;
  };
};

/** RFC 7386: objects merge, null removes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function matches(labels: Record<string, string> | undefined, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(",").every((term) => {
    const [k = "", v = ""] = term.split("=");
    return (labels ?? {})[k.trim()] === v.trim();
  });
}

const status = (code: number, reason: string, message: string) => ({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message });

export class KubeApiStandin {
  readonly requests: RecordedRequest[] = [];
  /** namespace/name -> Secret */
  readonly secrets = new Map<string, Obj>();
  /** the Events as stored (one object per name: a patch changes it in place) */
  readonly events: Obj[] = [];
  pods: object[] = [];
  storageClasses: Obj[] = [];
  csiNodes: Obj[] = [];
  /** Nodes, cluster-scoped (their zone labels) */
  nodes: Obj[] = [];
  /** name -> PersistentVolume */
  readonly pvs = new Map<string, Obj>();
  /** namespace/name -> PersistentVolumeClaim; a delete of one with finalizers only sets its deletionTimestamp */
  readonly claims = new Map<string, Obj>();
  /** a deleted claim stays, with its deletionTimestamp, until a test removes it (pvc-protection waiting for a pod) */
  claimsLinger = false;
  /** "METHOD path-regex" -> HTTP status to answer once */
  readonly failNext = new Map<string, number>();
  private server: Server | undefined;
  private rv = 1;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c.toString("utf8")));
      req.on("end", () => this.handle(req, res, text));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    const a = this.server.address();
    this.port = typeof a === "object" && a ? a.port : 0;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  async kubeconfig(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "gbcsi-kube-"));
    const path = join(dir, "kubeconfig");
    await writeFile(
      path,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: standin",
        "  cluster:",
        `    server: http://127.0.0.1:${this.port}`,
        "    insecure-skip-tls-verify: true",
        "users:",
        "- name: controller",
        "  user:",
        "    token: standin-token",
        "contexts:",
        "- name: standin",
        "  context:",
        "    cluster: standin",
        "    user: controller",
        "current-context: standin",
        "",
      ].join("\n"),
    );
    return path;
  }

  requestsTo(method: string, pathPart: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.includes(pathPart));
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  private handle(req: IncomingMessage, res: ServerResponse, text: string): void {
    const url = new URL(req.url ?? "/", "http://standin");
    const method = req.method ?? "GET";
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    this.requests.push({ method, path: url.pathname, query: url.searchParams, contentType: req.headers["content-type"] ?? "", body });
    for (const [key, code] of this.failNext) {
      const [m = "", re = ""] = key.split(" ");
      if (m === method && new RegExp(re).test(url.pathname)) {
        this.failNext.delete(key);
        this.send(res, code, status(code, code === 409 ? "AlreadyExists" : "InternalError", `injected ${code}`));
        return;
      }
    }
    const p = url.pathname.split("/").filter((s) => s !== "");
    // /api/v1/namespaces/{ns}/{kind}[/{name}]
    if (p[0] === "api" && p[1] === "v1" && p[2] === "namespaces" && p[3]) {
      const ns = p[3];
      const kind = p[4];
      const name = p[5];
      if (kind === "secrets") return this.secretsRoute(res, method, ns, name, body as Obj, url.searchParams);
      if (kind === "pods" && method === "GET" && !name) {
        const items = (this.pods as Obj[]).filter((x) => x.metadata?.namespace === ns && matches(x.metadata?.labels, url.searchParams.get("labelSelector")));
        return this.send(res, 200, { kind: "PodList", apiVersion: "v1", metadata: {}, items });
      }
      if (kind === "events") return this.eventsRoute(res, method, ns, name, body as Obj, req.headers["content-type"] ?? "");
      if (kind === "persistentvolumeclaims") return this.claimsRoute(res, method, ns, name, body as Obj);
    }
    if (p[0] === "api" && p[1] === "v1" && p[2] === "persistentvolumes")
      return this.pvsRoute(res, method, p[3], body as Obj, req.headers["content-type"] ?? "");
    if (p[0] === "api" && p[1] === "v1" && p[2] === "nodes" && p[3] && !p[4] && method === "GET") {
      const node = this.nodes.find((x) => x.metadata?.name === p[3]);
      return node
        ? this.send(res, 200, { kind: "Node", apiVersion: "v1", ...node })
        : this.send(res, 404, status(404, "NotFound", `nodes "${p[3]}" not found`));
    }
    if (url.pathname === "/apis/storage.k8s.io/v1/storageclasses" && method === "GET") {
      return this.send(res, 200, { kind: "StorageClassList", apiVersion: "storage.k8s.io/v1", metadata: {}, items: this.storageClasses });
    }
    if (url.pathname === "/apis/storage.k8s.io/v1/csinodes" && method === "GET") {
      return this.send(res, 200, { kind: "CSINodeList", apiVersion: "storage.k8s.io/v1", metadata: {}, items: this.csiNodes });
    }
    this.send(res, 404, status(404, "NotFound", `the API stand-in has no ${method} ${url.pathname}`));
  }

  private eventsRoute(res: ServerResponse, method: string, ns: string, name: string | undefined, body: Obj, contentType: string): void {
    const at = this.events.findIndex((e) => e.metadata?.namespace === ns && e.metadata.name === (name ?? body.metadata?.name));
    const cur = this.events[at];
    if (!name && method === "POST") {
      const n = body.metadata?.name ?? "";
      if (cur) return this.send(res, 409, status(409, "AlreadyExists", `events "${n}" already exists`));
      const obj = { ...body, metadata: { ...body.metadata, namespace: ns, resourceVersion: String(this.rv++) } };
      this.events.push(obj);
      return this.send(res, 201, obj);
    }
    if (!name) return this.send(res, 405, status(405, "MethodNotAllowed", method));
    if (!cur) return this.send(res, 404, status(404, "NotFound", `events "${name}" not found`));
    if (method === "GET") return this.send(res, 200, cur);
    if (method === "PATCH") {
      // the API server reads a JSON patch as a list of operations: an object under that type is refused
      if (contentType.split(";")[0] !== "application/merge-patch+json")
        return this.send(res, 415, status(415, "UnsupportedMediaType", `the API stand-in takes merge patches only, not ${contentType}`));
      const want = body.metadata?.resourceVersion;
      if (want !== undefined && want !== cur.metadata?.resourceVersion)
        return this.send(
          res,
          409,
          status(409, "Conflict", `the object has been modified; resourceVersion ${want} is not ${cur.metadata?.resourceVersion ?? ""}`),
        );
      const obj = { ...cur, ...body, metadata: { ...cur.metadata, resourceVersion: String(this.rv++) } };
      this.events[at] = obj;
      return this.send(res, 200, obj);
    }
    this.send(res, 405, status(405, "MethodNotAllowed", method));
  }

  private secretsRoute(res: ServerResponse, method: string, ns: string, name: string | undefined, body: Obj, q: URLSearchParams): void {
    if (!name && method === "POST") {
      const n = body.metadata?.name ?? "";
      if (this.secrets.has(`${ns}/${n}`)) return this.send(res, 409, status(409, "AlreadyExists", `secrets "${n}" already exists`));
      const obj = { ...body, metadata: { ...body.metadata, namespace: ns, resourceVersion: String(this.rv++) } };
      this.secrets.set(`${ns}/${n}`, obj);
      return this.send(res, 201, obj);
    }
    if (!name && method === "GET") {
      const items = [...this.secrets.values()].filter((s) => s.metadata?.namespace === ns && matches(s.metadata?.labels, q.get("labelSelector")));
      return this.send(res, 200, { kind: "SecretList", apiVersion: "v1", metadata: {}, items });
    }
    const key = `${ns}/${name ?? ""}`;
    const cur = this.secrets.get(key);
    if (!cur) return this.send(res, 404, status(404, "NotFound", `secrets "${name ?? ""}" not found`));
    if (method === "GET") return this.send(res, 200, cur);
    if (method === "PUT") {
      const obj = { ...body, metadata: { ...body.metadata, namespace: ns, resourceVersion: String(this.rv++) } };
      this.secrets.set(key, obj);
      return this.send(res, 200, obj);
    }
    if (method === "DELETE") {
      this.secrets.delete(key);
      return this.send(res, 200, { kind: "Status", apiVersion: "v1", status: "Success" });
    }
    this.send(res, 405, status(405, "MethodNotAllowed", method));
  }

  private stored(body: Obj, extra: Obj["metadata"] = {}): Obj {
    return { ...body, metadata: { ...body.metadata, ...extra, resourceVersion: String(this.rv++) } };
  }

  private pvsRoute(res: ServerResponse, method: string, name: string | undefined, body: Obj, contentType: string): void {
    if (!name && method === "POST") {
      const n = body.metadata?.name ?? "";
      if (this.pvs.has(n)) return this.send(res, 409, status(409, "AlreadyExists", `persistentvolumes "${n}" already exists`));
      const obj = this.stored(body, { uid: randomUUID() });
      this.pvs.set(n, obj);
      return this.send(res, 201, obj);
    }
    const cur = name ? this.pvs.get(name) : undefined;
    if (!name || !cur) return this.send(res, 404, status(404, "NotFound", `persistentvolumes "${name ?? ""}" not found`));
    if (method === "GET") return this.send(res, 200, cur);
    if (method === "PATCH") {
      if (contentType.split(";")[0] !== "application/merge-patch+json")
        return this.send(res, 415, status(415, "UnsupportedMediaType", `the API stand-in takes merge patches only, not ${contentType}`));
      const obj = this.stored(mergePatch(cur, body) as Obj);
      this.pvs.set(name, obj);
      return this.send(res, 200, obj);
    }
    this.send(res, 405, status(405, "MethodNotAllowed", method));
  }

  private claimsRoute(res: ServerResponse, method: string, ns: string, name: string | undefined, body: Obj): void {
    if (!name && method === "POST") {
      const n = body.metadata?.name ?? "";
      if (this.claims.has(`${ns}/${n}`)) return this.send(res, 409, status(409, "AlreadyExists", `persistentvolumeclaims "${n}" already exists`));
      // as the API server does: the uid is its own, and pvc-protection's admission adds the finalizer
      const obj = this.stored(body, { namespace: ns, uid: randomUUID(), finalizers: ["kubernetes.io/pvc-protection"] });
      this.claims.set(`${ns}/${n}`, { ...obj, status: { phase: "Pending" } });
      return this.send(res, 201, this.claims.get(`${ns}/${n}`));
    }
    const key = `${ns}/${name ?? ""}`;
    const cur = this.claims.get(key);
    if (!name || !cur) return this.send(res, 404, status(404, "NotFound", `persistentvolumeclaims "${name ?? ""}" not found`));
    if (method === "GET") return this.send(res, 200, cur);
    if (method === "DELETE") {
      const pre = (body as { preconditions?: { uid?: string; resourceVersion?: string } } | undefined)?.preconditions;
      if ((pre?.uid && pre.uid !== cur.metadata?.uid) || (pre?.resourceVersion && pre.resourceVersion !== cur.metadata?.resourceVersion))
        return this.send(
          res,
          409,
          status(409, "Conflict", `Precondition failed: UID in precondition: ${pre.uid ?? ""}, UID in object meta: ${cur.metadata?.uid ?? ""}`),
        );
      if (this.claimsLinger && (cur.metadata?.finalizers ?? []).length > 0) {
        const obj = this.stored(cur, { deletionTimestamp: new Date().toISOString() });
        this.claims.set(key, obj);
        return this.send(res, 200, obj);
      }
      this.claims.delete(key);
      return this.send(res, 200, cur);
    }
    this.send(res, 405, status(405, "MethodNotAllowed", method));
  }
}
