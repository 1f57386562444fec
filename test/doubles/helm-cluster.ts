// A Kubernetes API server as `helm template --dry-run=server` sees it: the
// version, API discovery for the kinds the chart renders, and GET of the
// objects put here (everything else is 404). That is what helm needs to run
// the chart's `lookup` calls, so a test can render an install (nothing in the
// cluster), put the rendered Secrets in, and render the upgrade that follows.
// Plain HTTP on 127.0.0.1; every request recorded. Not an API server: no
// writes, no lists, no watches, no auth.
import { createServer, type Server } from "node:http";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { K8sObject } from "../helpers/helm.js";

interface Resource {
  name: string;
  kind: string;
  namespaced: boolean;
}

const RESOURCES: Record<string, Resource[]> = {
  v1: [
    { name: "secrets", kind: "Secret", namespaced: true },
    { name: "serviceaccounts", kind: "ServiceAccount", namespaced: true },
    { name: "services", kind: "Service", namespaced: true },
    { name: "namespaces", kind: "Namespace", namespaced: false },
  ],
  "apps/v1": [
    { name: "daemonsets", kind: "DaemonSet", namespaced: true },
    { name: "deployments", kind: "Deployment", namespaced: true },
  ],
  "rbac.authorization.k8s.io/v1": [
    { name: "clusterroles", kind: "ClusterRole", namespaced: false },
    { name: "clusterrolebindings", kind: "ClusterRoleBinding", namespaced: false },
    { name: "roles", kind: "Role", namespaced: true },
    { name: "rolebindings", kind: "RoleBinding", namespaced: true },
  ],
  "storage.k8s.io/v1": [
    { name: "csidrivers", kind: "CSIDriver", namespaced: false },
    { name: "storageclasses", kind: "StorageClass", namespaced: false },
  ],
};

const notFound = (path: string) => ({ kind: "Status", apiVersion: "v1", status: "Failure", code: 404, reason: "NotFound", message: `${path} not found` });

export class HelmCluster {
  readonly requests: { method: string; path: string }[] = [];
  /** URL path -> object */
  private readonly objects = new Map<string, K8sObject>();
  private server: Server | undefined;
  private dir = "";
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://cluster").pathname;
      this.requests.push({ method: req.method ?? "", path });
      const [code, body] = req.method === "GET" ? this.get(path) : [405, { kind: "Status", code: 405, message: "read-only" }];
      res.writeHead(code, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    const a = this.server.address();
    this.port = typeof a === "object" && a ? a.port : 0;
    this.dir = await mkdtemp(join(tmpdir(), "gbcsi-helm-cluster-"));
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** A kubeconfig file that points helm here. */
  async kubeconfig(): Promise<string> {
    const path = join(this.dir, "kubeconfig");
    await writeFile(
      path,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: helm-cluster",
        "  cluster:",
        `    server: http://127.0.0.1:${this.port}`,
        "users:",
        "- name: helm",
        "  user:",
        "    token: helm-cluster-token",
        "contexts:",
        "- name: helm-cluster",
        "  context:",
        "    cluster: helm-cluster",
        "    user: helm",
        "current-context: helm-cluster",
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    return path;
  }

  /** Stores an object as the API server would after `helm install` applied it (in `namespace` when namespaced). */
  put(obj: K8sObject, namespace: string): void {
    this.objects.set(this.pathOf(obj.apiVersion, obj.kind, obj.metadata.name, namespace), {
      ...obj,
      metadata: { ...obj.metadata, namespace },
    });
  }

  delete(apiVersion: string, kind: string, name: string, namespace: string): void {
    this.objects.delete(this.pathOf(apiVersion, kind, name, namespace));
  }

  /** GETs of one kind's objects, by name */
  gets(kind: string): string[] {
    const r = Object.values(RESOURCES)
      .flat()
      .find((x) => x.kind === kind);
    return this.requests.filter((q) => q.method === "GET" && r && q.path.includes(`/${r.name}/`)).map((q) => q.path.slice(q.path.lastIndexOf("/") + 1));
  }

  private pathOf(apiVersion: string, kind: string, name: string, namespace: string): string {
    const r = RESOURCES[apiVersion]?.find((x) => x.kind === kind);
    if (!r) throw new Error(`the helm cluster double does not serve ${apiVersion} ${kind}`);
    const base = apiVersion === "v1" ? "/api/v1" : `/apis/${apiVersion}`;
    return `${base}${r.namespaced ? `/namespaces/${namespace}` : ""}/${r.name}/${name}`;
  }

  private get(path: string): [number, unknown] {
    if (path === "/version") return [200, { major: "1", minor: "24", gitVersion: "v1.24.17", platform: "linux/amd64" }];
    if (path === "/api")
      return [200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }] }];
    if (path === "/apis") {
      const groups = Object.keys(RESOURCES)
        .filter((gv) => gv !== "v1")
        .map((gv) => {
          const [name = "", version = ""] = gv.split("/");
          return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
        });
      return [200, { kind: "APIGroupList", apiVersion: "v1", groups }];
    }
    const gv = path === "/api/v1" ? "v1" : path.startsWith("/apis/") ? path.slice("/apis/".length) : "";
    const resources = RESOURCES[gv];
    if (resources) {
      const list = resources.map((r) => ({ ...r, singularName: r.kind.toLowerCase(), verbs: ["get", "list", "create", "update", "patch", "delete"] }));
      return [200, { kind: "APIResourceList", groupVersion: gv, resources: list }];
    }
    const obj = this.objects.get(path);
    return obj ? [200, obj] : [404, notFound(path)];
  }
}
