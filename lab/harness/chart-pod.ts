// One container of a pod the chart renders, as a `podman run` command line:
// what a kubelet would make of it on that node, for the lab VMs, which have
// podman but no kubelet. The pod's host namespaces, privileges, user, env
// (with the downward API's node name and host IP), host paths with their
// mount propagation, Secret volumes (as files the caller provides), command
// and args ($(VAR) expanded as the kubelet does) all come from the rendered
// object; nothing about the programs is written here.
import type { K8sObject } from "../helm.js";
import { shellQuote } from "../ssh.js";

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}
interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  mountPropagation?: "None" | "HostToContainer" | "Bidirectional";
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  volumeMounts?: VolumeMount[];
  securityContext?: { privileged?: boolean; runAsUser?: number; runAsGroup?: number; readOnlyRootFilesystem?: boolean };
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: { httpGet?: { path?: string; port: number | string }; tcpSocket?: { port: number | string } };
}
type HostPathType = "" | "Directory" | "DirectoryOrCreate" | "File" | "FileOrCreate";
interface Volume {
  name: string;
  hostPath?: { path: string; type?: HostPathType };
  secret?: { secretName: string; defaultMode?: number };
}
interface PodSpec {
  hostNetwork?: boolean;
  hostPID?: boolean;
  containers: Container[];
  volumes?: Volume[];
}

export interface PodContext {
  /** the container's name in podman (one per node) */
  name: string;
  /** spec.nodeName */
  nodeName: string;
  /** status.hostIP */
  hostIP: string;
  /** where each Secret volume's files are put on the node: <secretsRoot>/<volume name>/ */
  secretsRoot: string;
  /** files of each Secret volume, by volume name (file name → content) */
  secrets?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** set after the pod's own env (test hooks, a test's settings) */
  extraEnv?: Readonly<Record<string, string>>;
}

export interface SecretFiles {
  dir: string;
  /** the volume's defaultMode (0644 when unset, as Kubernetes) */
  mode: number;
  files: Readonly<Record<string, string>>;
}

export interface PodmanRun {
  /** podman's arguments, from `run` on */
  args: string[];
  /** a shell script that makes the host paths the pod needs, as the kubelet does for each hostPath type */
  prepare: string;
  /** files to write before the run */
  secrets: SecretFiles[];
  /** the container's env, as given to podman (for messages) */
  env: Record<string, string>;
  /**
   * a shell condition that holds once the container's readinessProbe
   * passes, probed as the kubelet probes it (httpGet: a 2xx or 3xx answer;
   * tcpSocket: the port listens), at the pod's IP (the host's); undefined
   * when the container has none
   */
  readiness: string | undefined;
}

/** The pod template of a rendered DaemonSet or Deployment. */
export function podSpecOf(obj: K8sObject): PodSpec {
  const spec = (obj as { spec?: { template?: { spec?: PodSpec } } }).spec?.template?.spec;
  if (!spec) throw new Error(`${obj.kind}/${obj.metadata.name} has no pod template`);
  return spec;
}

/** Docker's normalization, as the kubelet's runtime applies it: `name:tag` is docker.io/library/name:tag. */
export function normalizeImage(ref: string): string {
  const first = ref.split("/")[0] ?? "";
  const hasRegistry = ref.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasRegistry) return ref;
  return ref.includes("/") ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}

/** $(VAR) from the container's env, $$(VAR) an escaped literal, an unknown $(VAR) left as it is: the kubelet's expansion. */
export function expandVars(s: string, env: Readonly<Record<string, string>>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => {
    if (m === "$$") return "$";
    return name !== undefined && name in env ? (env[name] ?? "") : m;
  });
}

function envOf(c: Container, ctx: PodContext): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = expandVars(e.value, env);
    else if (e.valueFrom?.fieldRef) {
      const path = e.valueFrom.fieldRef.fieldPath;
      if (path === "spec.nodeName") env[e.name] = ctx.nodeName;
      else if (path === "status.hostIP") env[e.name] = ctx.hostIP;
      else throw new Error(`env ${e.name}: fieldRef ${path} is not one the lab provides`);
    } else throw new Error(`env ${e.name}: neither value nor a fieldRef the lab provides`);
  }
  return { ...env, ...ctx.extraEnv };
}

function hostPathPrepare(path: string, type: HostPathType): string {
  const q = `'${path.replace(/'/g, `'\\''`)}'`;
  switch (type) {
    case "DirectoryOrCreate":
      return `mkdir -p ${q}`;
    case "FileOrCreate":
      return `mkdir -p "$(dirname ${q})"; [ -e ${q} ] || : > ${q}`;
    case "Directory":
      return `[ -d ${q} ] || { echo "hostPath ${path} is not a directory (type Directory)" >&2; exit 1; }`;
    case "File":
      return `[ -f ${q} ] || { echo "hostPath ${path} is not a file (type File)" >&2; exit 1; }`;
    default:
      return "";
  }
}

const PROPAGATION = { None: "", HostToContainer: "rslave", Bidirectional: "rshared" } as const;

/** The container `containerName` of `obj`'s pod as `podman run` arguments, run with `image` (already loaded on the node). */
export function podmanRun(obj: K8sObject, containerName: string, ctx: PodContext): PodmanRun {
  const pod = podSpecOf(obj);
  const c = pod.containers.find((x) => x.name === containerName);
  if (!c) throw new Error(`${obj.kind}/${obj.metadata.name} has no container ${containerName} (it has ${pod.containers.map((x) => x.name).join(", ")})`);
  const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
  const env = envOf(c, ctx);
  const args = ["run", "--rm", "--replace", `--name=${ctx.name}`, "--pull=never", "--log-driver=passthrough"];
  if (pod.hostNetwork) args.push("--network=host");
  if (pod.hostPID) args.push("--pid=host");
  const sc = c.securityContext ?? {};
  if (sc.privileged) args.push("--privileged");
  if (sc.runAsUser !== undefined) args.push(`--user=${sc.runAsUser}${sc.runAsGroup !== undefined ? `:${sc.runAsGroup}` : ""}`);
  if (sc.readOnlyRootFilesystem) args.push("--read-only");
  for (const [k, v] of Object.entries(env)) args.push(`--env=${k}=${v}`);
  const prepare: string[] = [];
  const secrets: SecretFiles[] = [];
  for (const m of c.volumeMounts ?? []) {
    const v = volumes.get(m.name);
    if (!v) throw new Error(`container ${c.name} mounts ${m.name}, which the pod does not define`);
    let source: string;
    let ro = m.readOnly === true;
    if (v.hostPath) {
      source = v.hostPath.path;
      const p = hostPathPrepare(source, v.hostPath.type ?? "");
      if (p) prepare.push(p);
    } else if (v.secret) {
      source = `${ctx.secretsRoot}/${v.name}`;
      const files = ctx.secrets?.[v.name];
      if (!files) throw new Error(`Secret volume ${v.name} (${v.secret.secretName}): no files given for it`);
      secrets.push({ dir: source, mode: v.secret.defaultMode ?? 0o644, files });
      ro = true; // Kubernetes mounts Secret volumes read-only
    } else throw new Error(`volume ${v.name}: only hostPath and secret volumes are run in the lab`);
    const opts = [ro ? "ro" : "", PROPAGATION[m.mountPropagation ?? "None"]].filter(Boolean).join(",");
    args.push(`--volume=${source}:${m.mountPath}${opts ? `:${opts}` : ""}`);
  }
  if (c.command && c.command.length > 0) args.push(`--entrypoint=${JSON.stringify(c.command.map((a) => expandVars(a, env)))}`);
  args.push(normalizeImage(c.image), ...(c.args ?? []).map((a) => expandVars(a, env)));
  return { args, prepare: prepare.join("\n"), secrets, env, readiness: readinessOf(c, pod, ctx.hostIP) };
}

function readinessOf(c: Container, pod: PodSpec, hostIP: string): string | undefined {
  const probe = c.readinessProbe;
  if (!probe) return undefined;
  if (!pod.hostNetwork) throw new Error(`container ${c.name}: the lab probes only host-network pods (the pod IP is the host's)`);
  const portOf = (p: number | string): number => {
    const n = typeof p === "number" ? p : c.ports?.find((x) => x.name === p)?.containerPort;
    if (n === undefined) throw new Error(`container ${c.name}: its readinessProbe names port ${JSON.stringify(p)}, which it does not declare`);
    return n;
  };
  if (probe.httpGet) {
    const request = `GET ${probe.httpGet.path ?? "/"} HTTP/1.0\\r\\nHost: ${hostIP}\\r\\n\\r\\n`;
    const script = `exec 3<>/dev/tcp/${hostIP}/${portOf(probe.httpGet.port)} && printf '${request}' >&3 && head -n1 <&3 | grep -Eq '^HTTP/[0-9.]+ [23][0-9][0-9] '`;
    return `bash -c ${shellQuote(script)} 2>/dev/null`;
  }
  if (probe.tcpSocket) return `ss -Hltn 'sport = :${portOf(probe.tcpSocket.port)}' | grep -q .`;
  throw new Error(`container ${c.name}: the lab runs httpGet and tcpSocket readiness probes only`);
}
