// What `kubectl describe pv` would show for the volume the demo provisions
// through the CSI controller: the PV external-provisioner would write from
// CreateVolume's response (driver, volumeHandle, fsType, volume_context as
// volumeAttributes, capacity). Secret-named attributes are masked, although
// the controller puts none there: CHAP travels in the node-stage Secret.
import { isSecretKey } from "../src/util/redact.js";
import { HIDDEN } from "./secrets.js";

export interface PvView {
  name: string;
  driver: string;
  storageClass: string;
  /** namespace/name of the claim */
  claim: string;
  reclaimPolicy: "Delete" | "Retain";
  accessModes: string;
  volumeMode: "Filesystem" | "Block";
  capacityBytes: string | number | bigint;
  fsType: string;
  volumeHandle: string;
  readOnly: boolean;
  attributes: Readonly<Record<string, string>>;
}

const BINARY_SUFFIXES = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"] as const;

/** A byte count as Kubernetes prints a quantity: the largest binary suffix that divides it exactly (1073741824 -> "1Gi"). */
export function quantity(bytes: string | number | bigint): string {
  let n = BigInt(bytes);
  if (n < 0n) throw new Error(`negative size ${n}`);
  let i = 0;
  while (n !== 0n && n % 1024n === 0n && i < BINARY_SUFFIXES.length - 1) {
    n /= 1024n;
    i++;
  }
  return `${n}${BINARY_SUFFIXES[i] ?? ""}`;
}

/** key=value lines sorted by key, as kubectl prints a map; secret-named keys masked. */
export function attributeLines(attrs: Readonly<Record<string, string>>): string[] {
  return Object.keys(attrs)
    .sort()
    .map((k) => `${k}=${isSecretKey(k) ? HIDDEN : (attrs[k] ?? "")}`);
}

export function describePv(v: PvView): string {
  const top = (label: string, value: string): string => `${`${label}:`.padEnd(17)}${value}`.trimEnd();
  const src = (label: string, value: string): string => `    ${`${label}:`.padEnd(19)}${value}`.trimEnd();
  const attrs = attributeLines(v.attributes);
  const attrIndent = " ".repeat(4 + 23);
  return [
    top("Name", v.name),
    top("Labels", "<none>"),
    top("Annotations", `pv.kubernetes.io/provisioned-by: ${v.driver}`),
    top("Finalizers", "[kubernetes.io/pv-protection]"),
    top("StorageClass", v.storageClass),
    top("Status", "Bound"),
    top("Claim", v.claim),
    top("Reclaim Policy", v.reclaimPolicy),
    top("Access Modes", v.accessModes),
    top("VolumeMode", v.volumeMode),
    top("Capacity", quantity(v.capacityBytes)),
    top("Node Affinity", "<none>"),
    top("Message", ""),
    "Source:",
    src("Type", "CSI (a Container Storage Interface (CSI) volume source)"),
    src("Driver", v.driver),
    src("FSType", v.fsType),
    src("VolumeHandle", v.volumeHandle),
    src("ReadOnly", String(v.readOnly)),
    `    ${"VolumeAttributes:".padEnd(23)}${attrs[0] ?? "<none>"}`,
    ...attrs.slice(1).map((a) => `${attrIndent}${a}`),
    top("Events", "<none>"),
  ].join("\n");
}
