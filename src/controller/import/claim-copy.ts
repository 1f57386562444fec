// The claim an import re-creates, and what it keeps of the one it deletes.
// A claim's spec.volumeName cannot be changed, so the claim is deleted and
// made again under the same namespace and name, pre-bound to the CSI PV.
// Before the delete, the claim as it would be made again pre-bound to the
// in-tree PV is written into an annotation of that PV (ORIGINAL_CLAIM), and
// its uid into another: an import cut short between the delete and the create
// makes it again from there (pre-bound to the CSI PV instead), and a rollback
// creates it as it stands (`kubectl create -f`). Pure.
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from "@kubernetes/client-node";

/** On the in-tree PV: its reclaim policy before the import set Retain. */
export const ORIGINAL_RECLAIM_POLICY = "block.csi.gluster.org/original-reclaim-policy";
/** On the in-tree PV: the claim bound to it, as recreatedClaim() makes it pre-bound to that PV, written just before the import deleted it (JSON). */
export const ORIGINAL_CLAIM = "block.csi.gluster.org/original-claim";
/** On the in-tree PV: the uid of the claim the import deleted. */
export const ORIGINAL_CLAIM_UID = "block.csi.gluster.org/original-claim-uid";

/**
 * Annotations the PV controller and the provisioners write on a claim as it
 * binds: a re-created claim carrying them would look bound already, or
 * provisioned by the old provisioner. The beta storage-class annotation goes
 * too: the class is spec.storageClassName's, set to the CSI PV's.
 */
export const BINDING_ANNOTATIONS: readonly string[] = [
  "pv.kubernetes.io/bind-completed",
  "pv.kubernetes.io/bound-by-controller",
  "volume.beta.kubernetes.io/storage-provisioner",
  "volume.kubernetes.io/storage-provisioner",
  "volume.kubernetes.io/selected-node",
  "volume.beta.kubernetes.io/storage-class",
];

/** The claim an ORIGINAL_CLAIM annotation holds; undefined when it holds none or not one for namespace/name. */
export function parseClaimSnapshot(text: string | undefined, namespace: string, name: string): V1PersistentVolumeClaim | undefined {
  if (!text) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const c = v as V1PersistentVolumeClaim;
  if (c.metadata?.namespace !== namespace || c.metadata.name !== name || typeof c.spec !== "object") return undefined;
  return c;
}

/**
 * The claim to create again: the same namespace, name, labels and
 * annotations (less the binding ones), access modes, resources, volume mode
 * and selector; pre-bound to `pv`, of its class ("" when it has none, so no
 * default class is put in and the binder binds the two).
 */
export function recreatedClaim(was: V1PersistentVolumeClaim, pv: V1PersistentVolume): V1PersistentVolumeClaim {
  const m = was.metadata ?? {};
  const annotations = Object.fromEntries(Object.entries(m.annotations ?? {}).filter(([k]) => !BINDING_ANNOTATIONS.includes(k)));
  const s = was.spec ?? {};
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: m.name ?? "",
      namespace: m.namespace ?? "",
      ...(m.labels ? { labels: { ...m.labels } } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: {
      accessModes: [...(s.accessModes ?? pv.spec?.accessModes ?? [])],
      ...(s.resources ? { resources: s.resources } : {}),
      ...(s.volumeMode ? { volumeMode: s.volumeMode } : {}),
      ...(s.selector ? { selector: s.selector } : {}),
      storageClassName: pv.spec?.storageClassName ?? "",
      volumeName: pv.metadata?.name ?? "",
    },
  };
}

/** What the re-created claim leaves out of the one it replaces, for the report. */
export function claimDifferences(was: V1PersistentVolumeClaim, csiPv: V1PersistentVolume): string[] {
  const out: string[] = [];
  const dropped = Object.keys(was.metadata?.annotations ?? {}).filter((k) => BINDING_ANNOTATIONS.includes(k));
  if (dropped.length > 0) out.push(`annotations left out (binding): ${dropped.join(", ")}`);
  const s = was.spec ?? {};
  if (s.dataSource || s.dataSourceRef) out.push("dataSource left out: the volume exists already");
  if ((was.metadata?.ownerReferences ?? []).length > 0) out.push("ownerReferences left out (a StatefulSet's retention policy sets its own again)");
  if ((was.metadata?.finalizers ?? []).some((f) => f !== "kubernetes.io/pvc-protection")) out.push("finalizers other than pvc-protection left out");
  if (s.volumeAttributesClassName) out.push(`volumeAttributesClassName ${s.volumeAttributesClassName} left out`);
  const cls = csiPv.spec?.storageClassName ?? "";
  if ((s.storageClassName ?? undefined) !== cls)
    out.push(`storageClassName ${JSON.stringify(cls)} (the CSI PV's; was ${s.storageClassName === undefined ? "unset" : JSON.stringify(s.storageClassName)})`);
  return out;
}

/** Pods that use the claim and have not ended (a Succeeded or Failed pod holds no volume). */
export function podsUsingClaim(pods: readonly V1Pod[], claimName: string): string[] {
  return pods
    .filter((p) => p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed")
    .filter((p) => (p.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claimName))
    .map((p) => p.metadata?.name ?? "")
    .sort();
}
