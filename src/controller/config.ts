// Controller flags to a configuration (build-controller.ts makes the
// configuration a running set of dependencies). Nothing here loads the
// Kubernetes client: gluster-block-csi's other modes read these flags too.
import { bool, int, str, strList, UsageError, type FlagSpecs, type ParsedFlags } from "../util/flags.js";
import { parseEndpoint } from "../rpc/endpoint.js";
import { parseSize } from "../identity/size.js";
import { validateVolumeName } from "../identity/names.js";
import { tlsFiles, type TlsFiles, type TlsFlagNames } from "../rpc/tls.js";
import { transportRefusal, type TransportChoice, type TransportWords } from "../rpc/transport-refusal.js";
import { BUILTIN_DEFAULTS, type ParameterDefaults } from "./params.js";
import { HA_COUNT } from "../identity/limits.js";
import { BLOCKD_PORT } from "../rpc/blockd-port.js";
import { SUPPORTED_FS_TYPES } from "./capabilities.js";
import { DEFAULT_VOLUME_BYTES, MiB } from "./capacity.js";
import { DEFAULT_BLOCKD_SELECTOR, endpointOf } from "./discovery.js";
import type { KubeMode } from "./kube-api.js";
import { driverNamespace } from "./driver-namespace.js";
import { isLabelKey, isLabelValue, ZONE_NODE_LABEL } from "../csi/topology.js";

/** seconds between two passes of the volume health check */
export const DEFAULT_HEALTH_INTERVAL_S = 60;

/** The controller's flags (gluster-block-csi adds them to its own). */
export const CONTROLLER_FLAGS: FlagSpecs = {
  "blockd-endpoints": {
    type: "string",
    help: "controller: comma-separated gluster-blockd addresses host:port; when set, Kubernetes discovery is off",
    multiple: true,
  },
  "blockd-key-file": {
    type: "string",
    help: "controller: file with blockd's shared TCP key (sent as x-blockd-key), on top of TLS (without TLS only with --blockd-insecure-key-over-plaintext)",
  },
  "blockd-tls-cert": {
    type: "string",
    help: "controller: mutual TLS to blockd: the controller's own PEM client certificate (SAN DNS:gluster-block-csi-controller, clientAuth; not a blockd peer's), signed by blockd's CA",
  },
  "blockd-tls-key": { type: "string", help: "controller: mutual TLS: the client certificate's PEM private key" },
  "blockd-tls-ca": { type: "string", help: "controller: mutual TLS: PEM CA bundle that signs blockd's certificates (checked against DNS:gluster-blockd)" },
  "blockd-insecure-no-auth": {
    type: "boolean",
    help: "controller: INSECURE: call gluster-blockd over plain TCP with neither TLS nor a key (for blockd run with --insecure-no-auth): no blockd is authenticated, CHAP passwords cross the network in cleartext",
  },
  "blockd-insecure-key-over-plaintext": {
    type: "boolean",
    help: "controller: INSECURE: send --blockd-key-file over plain TCP (for blockd run with --insecure-key-over-plaintext): the key and CHAP passwords cross the network in cleartext",
  },
  "blockd-port": { type: "string", help: "controller: blockd TCP port of discovered pods", default: String(BLOCKD_PORT) },
  "blockd-selector": { type: "string", help: "controller: label selector of the blockd DaemonSet's pods, in --namespace", default: DEFAULT_BLOCKD_SELECTOR },
  "blockd-timeout": { type: "string", help: "controller: seconds a changing blockd call may take (create with full prealloc is slow)", default: "300" },
  namespace: {
    type: "string",
    help: "controller: the driver's namespace (CHAP Secrets, blockd pods); default $POD_NAMESPACE or the pod's service account namespace",
  },
  kubeconfig: { type: "string", help: "controller: kubeconfig file for the Kubernetes API (default: in-cluster when running in a pod)" },
  "kube-api": { type: "string", help: "controller: auto|off; off = no Secrets (auth volumes refused), no Events, static endpoints only", default: "auto" },
  "hosting-volumes": { type: "string", help: "controller: hosting volumes ListVolumes/GetCapacity look at besides those StorageClasses name", multiple: true },
  "default-ha-count": { type: "string", help: "controller: haCount when a StorageClass names none", default: String(BUILTIN_DEFAULTS.haCount) },
  "default-auth": { type: "string", help: "controller: auth (CHAP) when a StorageClass names none: true|false", default: String(BUILTIN_DEFAULTS.auth) },
  "default-prealloc": {
    type: "string",
    help: "controller: prealloc when a StorageClass names none: true|false (false = thin files)",
    default: String(BUILTIN_DEFAULTS.prealloc),
  },
  "default-fstype": {
    type: "string",
    help: "controller: filesystem when neither the StorageClass nor the capability names one",
    default: BUILTIN_DEFAULTS.fsType,
  },
  "default-size": { type: "string", help: "controller: size of a CreateVolume without a capacity range", default: "1GiB" },
  topology: {
    type: "string",
    help: "controller: true|false; true = place volumes by zone (CreateVolume's accessibility requirements, accessible_topology, GetCapacity per zone) and advertise VOLUME_ACCESSIBILITY_CONSTRAINTS",
    default: "false",
  },
  "topology-zone-label": {
    type: "string",
    help: "controller: with --topology, the Node label a storage node's zone is read from (the blockd pod's Node)",
    default: ZONE_NODE_LABEL,
  },
  "blockd-zones": {
    type: "string",
    help: "controller: with --topology and --blockd-endpoints, each endpoint's zone: endpoint=zone,... (an endpoint not named is in no zone)",
    multiple: true,
  },
  "health-interval": {
    type: "string",
    help: "controller: seconds between volume health checks (each volume judged as ControllerGetVolume does: DegradedHA/HARestored Events, the volume gauges); 0 = off",
    default: String(DEFAULT_HEALTH_INTERVAL_S),
  },
};

/** The controller's names of blockd's three TLS flags. */
export const CONTROLLER_TLS_FLAGS: TlsFlagNames = { cert: "blockd-tls-cert", key: "blockd-tls-key", ca: "blockd-tls-ca" };

export interface ControllerConfig {
  driverName: string;
  staticEndpoints: string[];
  keyFile?: string;
  /** mutual TLS to blockd */
  tls?: TlsFiles;
  /** without TLS (only with --blockd-insecure-*): which insecure flag allowed it */
  insecure?: "no-auth" | "key-over-plaintext";
  blockdPort: number;
  blockdSelector: string;
  blockdTimeoutMs: number;
  namespace: string;
  kubeconfig?: string;
  kubeMode: KubeMode;
  hostingVolumes: string[];
  defaults: ParameterDefaults;
  defaultSizeBytes: bigint;
  /** the periodic volume health check; 0 = off */
  healthIntervalMs: number;
  /** --topology: zone placement on; undefined: off */
  topology?: {
    /** the Node label storage nodes' zones are read from (blockd pods) */
    zoneLabel: string;
    /** --blockd-zones: static endpoint -> zone */
    staticZones: Map<string, string>;
  };
}

const TLS_FLAGS_TEXT = "--blockd-tls-cert, --blockd-tls-key, --blockd-tls-ca";

/** The controller's words for the secure-by-default rule (src/rpc/transport-refusal.ts). */
const CONTROLLER_WORDS: TransportWords = {
  tlsFlags: "--blockd-tls-*",
  keyFile: "--blockd-key-file",
  insecureNoAuth: "--blockd-insecure-no-auth",
  insecureKeyOverPlaintext: "--blockd-insecure-key-over-plaintext",
  noAuthDoes: "calls blockd",
  noAuth:
    "the controller refuses to call gluster-blockd without TLS: it could not tell blockd from an impostor, and the CHAP passwords blockd answers with would cross the network in cleartext. " +
    `Give ${TLS_FLAGS_TEXT}, or --blockd-insecure-no-auth for a blockd run with --insecure-no-auth`,
  keyWithoutTls:
    "the controller refuses to send --blockd-key-file without TLS: the key, and the CHAP passwords blockd answers with, would cross the network in cleartext. " +
    `Give ${TLS_FLAGS_TEXT} (the key may stay, on top), or --blockd-insecure-key-over-plaintext for a blockd run with --insecure-key-over-plaintext`,
};

/** Why the controller must not call blockd so, in the words of its flags; undefined when it may. */
export function blockdTransportRefusal(c: TransportChoice): string | undefined {
  return transportRefusal(c, CONTROLLER_WORDS);
}

function boolFlag(f: ParsedFlags, name: string, dflt: boolean): boolean {
  const v = str(f, name);
  if (v === undefined) return dflt;
  if (v === "true" || v === "false") return v === "true";
  throw new UsageError(`--${name} must be true or false, got ${JSON.stringify(v)}`);
}

/** "host:port" as the endpoints are kept (IPv6 in brackets), or a UsageError naming `flag`. */
function staticEndpoint(t: string, flag: string): string {
  const e = parseEndpoint(t.includes("://") ? t : `tcp://${t}`);
  if (e.kind !== "tcp") throw new UsageError(`--${flag}: ${t} is not host:port`);
  return endpointOf(e.host.replace(/^\[|\]$/g, ""), e.port);
}

/** --topology and its two companions; undefined when it is off. */
function topologyConfig(f: ParsedFlags, staticEndpoints: readonly string[]): ControllerConfig["topology"] {
  const zoneEntries = strList(f, "blockd-zones");
  if (!boolFlag(f, "topology", false)) {
    if (zoneEntries.length > 0) throw new UsageError("--blockd-zones needs --topology=true");
    return undefined;
  }
  const zoneLabel = str(f, "topology-zone-label") ?? ZONE_NODE_LABEL;
  if (!isLabelKey(zoneLabel)) throw new UsageError(`--topology-zone-label: ${JSON.stringify(zoneLabel)} is not a label key`);
  if (zoneEntries.length > 0 && staticEndpoints.length === 0)
    throw new UsageError("--blockd-zones names the zones of --blockd-endpoints; discovered blockd pods take theirs from their Nodes (--topology-zone-label)");
  const staticZones = new Map<string, string>();
  for (const entry of zoneEntries) {
    const eq = entry.lastIndexOf("=");
    const endpoint = eq > 0 ? staticEndpoint(entry.slice(0, eq), "blockd-zones") : "";
    const zone = entry.slice(eq + 1);
    if (eq <= 0 || zone === "" || !isLabelValue(zone))
      throw new UsageError(`--blockd-zones: ${JSON.stringify(entry)} is not endpoint=zone (a zone is a label value)`);
    if (!staticEndpoints.includes(endpoint))
      throw new UsageError(`--blockd-zones: ${endpoint} is not one of --blockd-endpoints (${staticEndpoints.join(", ")})`);
    if (staticZones.has(endpoint)) throw new UsageError(`--blockd-zones names ${endpoint} twice`);
    staticZones.set(endpoint, zone);
  }
  return { zoneLabel, staticZones };
}

export function controllerConfig(f: ParsedFlags, driverName: string, env: NodeJS.ProcessEnv = process.env): ControllerConfig {
  const staticEndpoints = strList(f, "blockd-endpoints").map((t) => staticEndpoint(t, "blockd-endpoints"));
  const topology = topologyConfig(f, staticEndpoints);
  const kubeMode = str(f, "kube-api") ?? "auto";
  if (kubeMode !== "auto" && kubeMode !== "off") throw new UsageError(`--kube-api must be auto or off, got ${JSON.stringify(kubeMode)}`);
  const fsType = str(f, "default-fstype") ?? BUILTIN_DEFAULTS.fsType;
  if (!SUPPORTED_FS_TYPES.includes(fsType)) throw new UsageError(`--default-fstype must be one of ${SUPPORTED_FS_TYPES.join(", ")}`);
  let defaultSizeBytes = DEFAULT_VOLUME_BYTES;
  const sizeText = str(f, "default-size");
  if (sizeText !== undefined) {
    try {
      defaultSizeBytes = parseSize(sizeText);
    } catch (err) {
      throw new UsageError(`--default-size: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (defaultSizeBytes < MiB) throw new UsageError("--default-size must be at least 1MiB");
  }
  const hostingVolumes = strList(f, "hosting-volumes");
  for (const v of hostingVolumes) {
    try {
      validateVolumeName(v);
    } catch (err) {
      throw new UsageError(`--hosting-volumes: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const kubeconfig = str(f, "kubeconfig");
  const keyFile = str(f, "blockd-key-file");
  const tls = tlsFiles({ cert: str(f, "blockd-tls-cert"), key: str(f, "blockd-tls-key"), ca: str(f, "blockd-tls-ca") }, CONTROLLER_TLS_FLAGS);
  const insecureNoAuth = bool(f, "blockd-insecure-no-auth");
  const insecureKeyOverPlaintext = bool(f, "blockd-insecure-key-over-plaintext");
  // secure by default: TLS to blockd, unless a flag says otherwise
  const refused = blockdTransportRefusal({ tls: tls !== undefined, key: Boolean(keyFile), insecureNoAuth, insecureKeyOverPlaintext });
  if (refused !== undefined) throw new UsageError(refused);
  return {
    driverName,
    staticEndpoints,
    ...(keyFile ? { keyFile } : {}),
    ...(tls ? { tls } : {}),
    ...(insecureNoAuth ? { insecure: "no-auth" as const } : insecureKeyOverPlaintext ? { insecure: "key-over-plaintext" as const } : {}),
    blockdPort: int(f, "blockd-port", 1, 65535) ?? BLOCKD_PORT,
    blockdSelector: str(f, "blockd-selector") ?? DEFAULT_BLOCKD_SELECTOR,
    blockdTimeoutMs: (int(f, "blockd-timeout", 1, 86_400) ?? 300) * 1000,
    namespace: driverNamespace(str(f, "namespace"), env),
    ...(kubeconfig ? { kubeconfig } : {}),
    kubeMode,
    hostingVolumes,
    defaults: {
      haCount: int(f, "default-ha-count", HA_COUNT.min, HA_COUNT.max) ?? BUILTIN_DEFAULTS.haCount,
      auth: boolFlag(f, "default-auth", BUILTIN_DEFAULTS.auth),
      prealloc: boolFlag(f, "default-prealloc", BUILTIN_DEFAULTS.prealloc),
      fsType,
    },
    defaultSizeBytes,
    healthIntervalMs: (int(f, "health-interval", 0, 86_400) ?? DEFAULT_HEALTH_INTERVAL_S) * 1000,
    ...(topology ? { topology } : {}),
  };
}
