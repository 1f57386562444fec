// The Kubernetes calls of `gluster-block-csi import`, apart from the
// controller's KubeApi: they reach beyond what the controller needs to serve
// CSI (an in-tree CHAP Secret in the claim's namespace, deleting and making
// claims), so the chart grants them only with controller.import.enabled
// (templates/controller-import-clusterrole.yaml), and the RBAC test reads
// this file for them as it reads kube-api.ts for the controller's.
import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
  type V1Pod,
  type V1Secret,
} from "@kubernetes/client-node";
import { kubeCall, kubeRead } from "../kube-api.js";

/** A merge patch of a PV's annotations and reclaim policy: the only changes the import makes to an existing PV. */
export interface PvPatch {
  /** a null value removes the annotation */
  annotations?: Record<string, string | null>;
  reclaimPolicy?: string;
}

export interface ImportKube {
  /** undefined when there is no such PV */
  readPv(name: string): Promise<V1PersistentVolume | undefined>;
  createPv(pv: V1PersistentVolume): Promise<V1PersistentVolume>;
  patchPv(name: string, patch: PvPatch): Promise<V1PersistentVolume>;
  /** undefined when there is no such claim */
  readClaim(namespace: string, name: string): Promise<V1PersistentVolumeClaim | undefined>;
  createClaim(namespace: string, claim: V1PersistentVolumeClaim): Promise<V1PersistentVolumeClaim>;
  /** Deletes the claim only while its uid and resourceVersion are these (HTTP 409 otherwise); false when it was gone. */
  deleteClaim(namespace: string, name: string, precondition: { uid: string; resourceVersion: string }): Promise<boolean>;
  /** every Pod in the namespace */
  listPods(namespace: string): Promise<V1Pod[]>;
  /** undefined when there is no such Secret */
  readSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
}

export class ClientNodeImportKube implements ImportKube {
  private readonly core: CoreV1Api;

  constructor(config: KubeConfig) {
    this.core = config.makeApiClient(CoreV1Api);
  }

  readPv(name: string): Promise<V1PersistentVolume | undefined> {
    return kubeRead(`read PersistentVolume ${name}`, () => this.core.readPersistentVolume({ name }));
  }

  createPv(body: V1PersistentVolume): Promise<V1PersistentVolume> {
    return kubeCall(`create PersistentVolume ${body.metadata?.name ?? ""}`, () => this.core.createPersistentVolume({ body }));
  }

  patchPv(name: string, patch: PvPatch): Promise<V1PersistentVolume> {
    const body = {
      ...(patch.annotations ? { metadata: { annotations: patch.annotations } } : {}),
      ...(patch.reclaimPolicy ? { spec: { persistentVolumeReclaimPolicy: patch.reclaimPolicy } } : {}),
    };
    // client-node sends a JSON patch (a list of operations) unless told otherwise: this is a merge patch
    return kubeCall(`patch PersistentVolume ${name}`, () =>
      this.core.patchPersistentVolume({ name, body }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch)),
    );
  }

  readClaim(namespace: string, name: string): Promise<V1PersistentVolumeClaim | undefined> {
    return kubeRead(`read PersistentVolumeClaim ${namespace}/${name}`, () => this.core.readNamespacedPersistentVolumeClaim({ namespace, name }));
  }

  createClaim(namespace: string, body: V1PersistentVolumeClaim): Promise<V1PersistentVolumeClaim> {
    return kubeCall(`create PersistentVolumeClaim ${namespace}/${body.metadata?.name ?? ""}`, () =>
      this.core.createNamespacedPersistentVolumeClaim({ namespace, body }),
    );
  }

  async deleteClaim(namespace: string, name: string, precondition: { uid: string; resourceVersion: string }): Promise<boolean> {
    const gone = await kubeRead(`delete PersistentVolumeClaim ${namespace}/${name}`, () =>
      this.core.deleteNamespacedPersistentVolumeClaim({ namespace, name, body: { preconditions: precondition } }),
    );
    return gone !== undefined;
  }

  async listPods(namespace: string): Promise<V1Pod[]> {
    const l = await kubeCall(`list Pods in ${namespace}`, () => this.core.listNamespacedPod({ namespace }));
    return l.items;
  }

  readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    return kubeRead(`read Secret ${namespace}/${name}`, () => this.core.readNamespacedSecret({ namespace, name }));
  }
}
