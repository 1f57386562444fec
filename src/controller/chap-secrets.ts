// Per-volume CHAP credentials in a Kubernetes Secret in the driver's
// namespace, which the StorageClass hands to NodeStageVolume:
//   csi.storage.k8s.io/node-stage-secret-name: gluster-block-chap-${pv.name}
//   csi.storage.k8s.io/node-stage-secret-namespace: <driver namespace>
// The Secret's name is the prefix plus the CSI volume name, which the
// external-provisioner makes equal to the PV name. It is labelled with the
// block's GBID (random per create) and annotated with the volume ID, so
// DeleteVolume, which only knows the ID, finds it again by the annotation,
// also after the block is gone and when the name could not be derived.
import type { V1Secret } from "@kubernetes/client-node";
import { createHash } from "node:crypto";
import type { KubeApi } from "./kube-api.js";
import { KubeApiError } from "./errors.js";
import { SECRET_KEYS } from "../csi/volume-context.js";
import { alreadyExists } from "../rpc/errors.js";
import { addCallSecrets } from "../util/secrets.js";
import type { Logger } from "../util/log.js";
import type { PvcRef } from "./params.js";

export const CHAP_SECRET_PREFIX = "gluster-block-chap-";
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "gluster-block-csi";
export const LABEL_COMPONENT = "app.kubernetes.io/component";
export const LABEL_GBID = "block.csi.gluster.org/gbid";
export const LABEL_DRIVER = "block.csi.gluster.org/driver";
export const ANNOTATION = {
  volumeId: "block.csi.gluster.org/volume-id",
  csiName: "block.csi.gluster.org/csi-name",
  pvName: "block.csi.gluster.org/pv-name",
  pvcName: "block.csi.gluster.org/pvc-name",
  pvcNamespace: "block.csi.gluster.org/pvc-namespace",
} as const;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The Secret's name for a CSI volume name: what `gluster-block-chap-${pv.name}` expands to. */
export function chapSecretName(csiName: string): string {
  const direct = `${CHAP_SECRET_PREFIX}${csiName}`;
  if (direct.length <= 253 && DNS_SUBDOMAIN.test(direct)) return direct;
  // not a Kubernetes name (another CO): a stable, valid stand-in; templating cannot match it
  const hash = createHash("sha256").update(csiName, "utf8").digest("hex").slice(0, 12);
  const base = csiName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 200);
  return `${CHAP_SECRET_PREFIX}${base ? `${base}-` : ""}${hash}`;
}

export interface ChapSecretSpec {
  csiName: string;
  volumeId: string;
  gbid: string;
  username: string;
  password: string;
  pvName?: string;
  pvc?: PvcRef;
}

const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64");

export class ChapSecrets {
  constructor(
    private readonly kube: KubeApi | undefined,
    readonly namespace: string,
    private readonly driverName: string,
    private readonly log: Logger,
  ) {}

  /** Without the Kubernetes API no Secret can be stored, so CHAP volumes cannot be made. */
  get enabled(): boolean {
    return this.kube !== undefined;
  }

  build(spec: ChapSecretSpec): V1Secret {
    const annotations: Record<string, string> = {
      [ANNOTATION.volumeId]: spec.volumeId,
      [ANNOTATION.csiName]: spec.csiName,
      ...(spec.pvName ? { [ANNOTATION.pvName]: spec.pvName } : {}),
      ...(spec.pvc ? { [ANNOTATION.pvcName]: spec.pvc.name, [ANNOTATION.pvcNamespace]: spec.pvc.namespace } : {}),
    };
    return {
      apiVersion: "v1",
      kind: "Secret",
      type: "Opaque",
      metadata: {
        name: chapSecretName(spec.csiName),
        namespace: this.namespace,
        labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_COMPONENT]: "chap", [LABEL_GBID]: spec.gbid, [LABEL_DRIVER]: this.driverName },
        annotations,
      },
      data: { [SECRET_KEYS.username]: b64(spec.username), [SECRET_KEYS.password]: b64(spec.password) },
    };
  }

  /** Creates the Secret, or brings an existing one of ours up to date (a retried create may carry a new password). */
  async ensure(spec: ChapSecretSpec): Promise<string> {
    const kube = this.need();
    addCallSecrets(spec.password);
    const want = this.build(spec);
    const name = want.metadata?.name ?? "";
    const existing = await kube.readSecret(this.namespace, name);
    if (!existing) {
      try {
        await kube.createSecret(this.namespace, want);
        this.log.info("CHAP secret created", { secret: `${this.namespace}/${name}`, volumeId: spec.volumeId });
        return name;
      } catch (err) {
        // created by a racing call in between: fall through to the compare
        if (!(err instanceof KubeApiError && err.httpStatus === 409)) throw err;
      }
    }
    const current = existing ?? (await kube.readSecret(this.namespace, name));
    if (!current) throw alreadyExists(`Secret ${this.namespace}/${name} vanished while being created; retry`);
    const labels = current.metadata?.labels ?? {};
    if (labels[LABEL_MANAGED_BY] !== MANAGED_BY) {
      throw alreadyExists(`Secret ${this.namespace}/${name} exists and is not managed by ${MANAGED_BY}; refusing to overwrite it`);
    }
    const same =
      labels[LABEL_GBID] === spec.gbid &&
      current.data?.[SECRET_KEYS.username] === want.data?.[SECRET_KEYS.username] &&
      current.data?.[SECRET_KEYS.password] === want.data?.[SECRET_KEYS.password];
    if (!same) {
      const body: V1Secret = {
        ...want,
        metadata: { ...want.metadata, ...(current.metadata?.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}) },
      };
      await kube.replaceSecret(this.namespace, name, body);
      this.log.info("CHAP secret updated", { secret: `${this.namespace}/${name}`, volumeId: spec.volumeId });
    }
    return name;
  }

  /**
   * Deletes every CHAP Secret of ours made for the volume ID (its annotation);
   * returns their names. Needs no block: a DeleteVolume retried after the
   * block is gone still finds them.
   */
  async deleteForVolume(volumeId: string): Promise<string[]> {
    if (!this.kube) return [];
    const kube = this.kube;
    const found = await kube.listSecrets(this.namespace, `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_COMPONENT}=chap`);
    const names = found
      .filter((s) => s.metadata?.annotations?.[ANNOTATION.volumeId] === volumeId)
      .map((s) => s.metadata?.name ?? "")
      .filter((n) => n !== "");
    for (const n of names) {
      await kube.deleteSecret(this.namespace, n);
      this.log.info("CHAP secret deleted", { secret: `${this.namespace}/${n}`, volumeId });
    }
    return names;
  }

  private need(): KubeApi {
    if (!this.kube) throw new Error("no Kubernetes API configured");
    return this.kube;
  }
}
