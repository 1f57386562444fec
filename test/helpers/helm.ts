// The real helm (lab/helm.ts fetches it once) and the chart's rendered
// objects, plus the schema checks the chart tests run on them.
export {
  CHART_DIR,
  findObject,
  helm,
  helmBinary,
  helmWithCluster,
  renderChart,
  renderChartWithCluster,
  type HelmResult,
  type K8sObject,
  type RenderOptions,
} from "../../lab/helm.js";
import type { K8sObject } from "../../lab/helm.js";

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
