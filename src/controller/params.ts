// StorageClass parameters of CreateVolume (and GetCapacity). Every parameter
// is checked before anything is created; all bad ones are reported at once,
// each by name, as INVALID_ARGUMENT. Unknown keys are refused (a typo must not
// silently become a default), except the csi.storage.k8s.io/* keys the
// sidecars add.
import { invalidArgument } from "../rpc/errors.js";
import { canonicalHost, validateHostAddress, validateVolumeName } from "../identity/names.js";
import { SUPPORTED_FS_TYPES } from "./capabilities.js";
import { BLOCK_SIZES, HA_COUNT, IO_TIMEOUT_SEC, RING_BUFFER_MB } from "../identity/limits.js";

export const PARAM = {
  hostingVolume: "hostingVolume",
  haCount: "haCount",
  hosts: "hosts",
  auth: "auth",
  prealloc: "prealloc",
  ringBuffer: "ringBuffer",
  blockSize: "blockSize",
  ioTimeout: "ioTimeout",
  fsType: "csi.storage.k8s.io/fstype",
  pvName: "csi.storage.k8s.io/pv/name",
  pvcName: "csi.storage.k8s.io/pvc/name",
  pvcNamespace: "csi.storage.k8s.io/pvc/namespace",
} as const;

const KNOWN = new Set<string>([
  PARAM.hostingVolume,
  PARAM.haCount,
  PARAM.hosts,
  PARAM.auth,
  PARAM.prealloc,
  PARAM.ringBuffer,
  PARAM.blockSize,
  PARAM.ioTimeout,
  PARAM.fsType,
]);
const SIDECAR_PREFIX = "csi.storage.k8s.io/";

/** Defaults for parameters a StorageClass leaves out (controller flags). */
export interface ParameterDefaults {
  haCount: number;
  auth: boolean;
  prealloc: boolean;
  fsType: string;
}

export const BUILTIN_DEFAULTS: ParameterDefaults = { haCount: 3, auth: true, prealloc: false, fsType: "xfs" };

export interface PvcRef {
  name: string;
  namespace: string;
}

export interface VolumeParameters {
  hostingVolume: string;
  haCount: number;
  /** explicit HA hosts (canonical IPs), in preference order; undefined = choose among live blockd nodes */
  hosts?: string[];
  auth: boolean;
  prealloc: boolean;
  ringBufferMb?: number;
  blockSize?: number;
  ioTimeoutS?: number;
  /** the csi.storage.k8s.io/fstype parameter, when given */
  fsType?: string;
  pvName?: string;
  pvc?: PvcRef;
}

class Problems {
  readonly list: string[] = [];
  add(name: string, msg: string): void {
    this.list.push(`parameter ${name}: ${msg}`);
  }
}

function parseBool(v: string): boolean | undefined {
  const t = v.trim().toLowerCase();
  return t === "true" ? true : t === "false" ? false : undefined;
}

function parseInt(v: string, min: number, max: number): number | undefined {
  if (!/^\d{1,9}$/.test(v.trim())) return undefined;
  const n = Number(v.trim());
  return n >= min && n <= max ? n : undefined;
}

export function parseParameters(params: Readonly<Record<string, string>>, defaults: ParameterDefaults = BUILTIN_DEFAULTS): VolumeParameters {
  const p = new Problems();
  for (const key of Object.keys(params).sort()) {
    if (!KNOWN.has(key) && !key.startsWith(SIDECAR_PREFIX)) p.add(key, `unknown parameter (known: ${[...KNOWN].join(", ")})`);
  }
  const get = (k: string): string | undefined => (Object.prototype.hasOwnProperty.call(params, k) ? params[k] : undefined);

  let hostingVolume = get(PARAM.hostingVolume) ?? "";
  if (hostingVolume === "") p.add(PARAM.hostingVolume, "is required: the gluster volume that holds the block files");
  else {
    try {
      validateVolumeName(hostingVolume);
    } catch (err) {
      p.add(PARAM.hostingVolume, err instanceof Error ? err.message : String(err));
      hostingVolume = "";
    }
  }

  let haCount = defaults.haCount;
  const ha = get(PARAM.haCount);
  if (ha !== undefined) {
    const n = parseInt(ha, HA_COUNT.min, HA_COUNT.max);
    if (n === undefined) p.add(PARAM.haCount, `${JSON.stringify(ha)} is not a whole number from ${HA_COUNT.min} to ${HA_COUNT.max}`);
    else haCount = n;
  }

  let hosts: string[] | undefined;
  const hostsText = get(PARAM.hosts);
  if (hostsText !== undefined) {
    const list = hostsText
      .split(",")
      .map((h) => h.trim())
      .filter((h) => h !== "");
    const bad: string[] = [];
    const canon: string[] = [];
    for (const h of list) {
      try {
        validateHostAddress(h);
        canon.push(canonicalHost(h));
      } catch {
        bad.push(h);
      }
    }
    if (list.length === 0) p.add(PARAM.hosts, "is empty; give comma-separated IP addresses, or leave it out to choose among live nodes");
    else if (bad.length > 0)
      p.add(
        PARAM.hosts,
        `${bad.map((b) => JSON.stringify(b)).join(", ")} ${bad.length > 1 ? "are not IP addresses" : "is not an IP address"}; hostnames are not supported`,
      );
    else if (new Set(canon).size !== canon.length) p.add(PARAM.hosts, `lists a host twice (${hostsText})`);
    else if (canon.length < haCount) p.add(PARAM.hosts, `names ${canon.length} host(s), fewer than ${PARAM.haCount} ${haCount}`);
    else hosts = canon;
  }

  const bool = (name: string, dflt: boolean, extra: Record<string, boolean> = {}): boolean => {
    const v = get(name);
    if (v === undefined) return dflt;
    const b = extra[v.trim().toLowerCase()] ?? parseBool(v);
    if (b === undefined) p.add(name, `${JSON.stringify(v)} is not one of ${["true", "false", ...Object.keys(extra)].join(", ")}`);
    return b ?? dflt;
  };
  const auth = bool(PARAM.auth, defaults.auth);
  const prealloc = bool(PARAM.prealloc, defaults.prealloc, { full: true, no: false });

  const optInt = (name: string, min: number, max: number, unit: string): number | undefined => {
    const v = get(name);
    if (v === undefined) return undefined;
    const n = parseInt(v, min, max);
    if (n === undefined) p.add(name, `${JSON.stringify(v)} is not a whole number of ${unit} from ${min} to ${max}`);
    return n;
  };
  const ringBufferMb = optInt(PARAM.ringBuffer, RING_BUFFER_MB.min, RING_BUFFER_MB.max, "MiB");
  const ioTimeoutS = optInt(PARAM.ioTimeout, IO_TIMEOUT_SEC.min, IO_TIMEOUT_SEC.max, "seconds");
  let blockSize: number | undefined;
  const bs = get(PARAM.blockSize);
  if (bs !== undefined) {
    const n = parseInt(bs, 512, 4096);
    if (n === undefined || !BLOCK_SIZES.includes(n)) p.add(PARAM.blockSize, `${JSON.stringify(bs)} is not one of ${BLOCK_SIZES.join(", ")}`);
    else blockSize = n;
  }

  let fsType: string | undefined;
  const fs = get(PARAM.fsType);
  if (fs !== undefined && fs !== "") {
    if (!SUPPORTED_FS_TYPES.includes(fs)) p.add(PARAM.fsType, `${JSON.stringify(fs)} is not supported (supported: ${SUPPORTED_FS_TYPES.join(", ")})`);
    else fsType = fs;
  }

  if (p.list.length > 0) throw invalidArgument(`invalid StorageClass parameters: ${p.list.join("; ")}`);

  const pvName = get(PARAM.pvName) || undefined;
  const pvcName = get(PARAM.pvcName);
  const pvcNamespace = get(PARAM.pvcNamespace);
  return {
    hostingVolume,
    haCount,
    ...(hosts ? { hosts } : {}),
    auth,
    prealloc,
    ...(ringBufferMb !== undefined ? { ringBufferMb } : {}),
    ...(blockSize !== undefined ? { blockSize } : {}),
    ...(ioTimeoutS !== undefined ? { ioTimeoutS } : {}),
    ...(fsType !== undefined ? { fsType } : {}),
    ...(pvName ? { pvName } : {}),
    ...(pvcName && pvcNamespace ? { pvc: { name: pvcName, namespace: pvcNamespace } } : {}),
  };
}
