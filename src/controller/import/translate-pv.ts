// From an in-tree `iscsi` PV that heketi or the external-storage gluster-block
// provisioner made, and the block gluster-blockd says it is, to the CSI PV
// this driver would have made for the same block and the CHAP Secret it keeps
// in its own namespace. Pure: no API call, nothing written; the import
// (import-claim.ts) reads what this needs and writes what it answers.
//
// What those provisioners wrote (kubernetes-incubator/external-storage,
// gluster/block/cmd/glusterblock-provisioner/glusterblock-provisioner.go,
// v0.9 and v2.0.0): a PV whose source is `iscsi` (targetPortal = the first
// portal, portals = the others, iqn, lun 0, fsType ext4 before v2.0.0 and xfs
// since, chapAuthSession, secretRef {name: glusterblk-<username>-secret}),
// annotated `gluster.org/type: block`, `glusterBlockShare: <block name>`
// (heketi's `blockvol_<id>`), `glusterBlkProvIdentity`, `kubernetes.io/createdby:
// heketi|gluster-block`, `gluster.org/volume-id` (heketi's block volume id),
// and since v2.0.0 `AccessKey`/`AccessKeyNs` naming the CHAP Secret; that
// Secret in the claim's namespace, type kubernetes.io/iscsi-chap, keys
// node.session.auth.username (the GBID) and node.session.auth.password. The
// hosting volume is in none of them (heketi alone knows it): the caller names it.
//
// Nothing the initiators know changes: the IQN, the portals, the LUN, the CHAP
// username and password must be the block's own, or the PV is refused.
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Secret } from "@kubernetes/client-node";
import { IQN_PREFIX, iqnFor, validateBlockName, validateVolumeName } from "../../identity/names.js";
import { DEFAULT_ISCSI_PORT } from "../../identity/portal.js";
import { formatVolumeId, MAX_VOLUME_ID_BYTES } from "../../csi/volume-id.js";
import { toVolumeContext } from "../../csi/volume-context.js";
import { ChapSecrets, chapSecretName, type ChapSecretSpec } from "../chap-secrets.js";
import { nullLogger } from "../../util/log.js";

/** The in-tree plugin's CHAP Secret keys and type, as those provisioners wrote them. */
export const IN_TREE_CHAP = { type: "kubernetes.io/iscsi-chap", username: "node.session.auth.username", password: "node.session.auth.password" } as const;

export const GLUSTER_ANNOTATION = {
  type: "gluster.org/type",
  share: "glusterBlockShare",
  identity: "glusterBlkProvIdentity",
  createdBy: "kubernetes.io/createdby",
  volumeId: "gluster.org/volume-id",
  accessKey: "AccessKey",
  accessKeyNs: "AccessKeyNs",
} as const;

/** On the CSI PV: the in-tree PV it was made from (a re-run finds its own PV by it). */
export const IMPORTED_FROM = "block.csi.gluster.org/imported-from";
/** The PV controller's annotation naming the driver that deletes a Delete PV: external-provisioner reclaims only PVs that carry it. */
export const PROVISIONED_BY = "pv.kubernetes.io/provisioned-by";

/** What gluster-blockd says of the block (GetBlock). */
export interface BlockFacts {
  hostingVolume: string;
  block: string;
  gbid: string;
  iqn: string;
  wwid: string;
  /** "ip:port" in HA (TPG) order */
  portals: string[];
  ha: number;
  sizeBytes: bigint;
  auth: boolean;
  /** the block's CHAP password ("" without auth): a secret */
  password: string;
}

export interface TranslateInput {
  pv: V1PersistentVolume;
  claim: V1PersistentVolumeClaim;
  /** the PV's CHAP Secret (in-tree keys); undefined when the PV has none */
  chapSecret?: V1Secret;
  block: BlockFacts;
  driverName: string;
  /** the driver's namespace, where its CHAP Secrets live */
  namespace: string;
  /** the reclaim policy the in-tree PV had before the import set Retain */
  reclaimPolicy: string;
}

/** `secret` is the CHAP Secret to write, `chap` what ChapSecrets.ensure() writes it from (both absent without CHAP). */
export type Translation = { ok: true; pv: V1PersistentVolume; secret?: V1Secret; chap?: ChapSecretSpec; notes: string[] } | { ok: false; reasons: string[] };

/** The block an in-tree PV names, or why it is not a gluster-block PV. */
export function glusterBlockOf(pv: V1PersistentVolume): { block: string; heketiId?: string } | { reasons: string[] } {
  const a = pv.metadata?.annotations ?? {};
  const name = pv.metadata?.name ?? "(unnamed)";
  if (!pv.spec?.iscsi) return { reasons: [`PV ${name} is not an in-tree iscsi PV${pv.spec?.csi ? ` (it is a CSI PV of ${pv.spec.csi.driver})` : ""}`] };
  if (a[GLUSTER_ANNOTATION.type] !== "block" || !pv.spec.iscsi.iqn.startsWith(IQN_PREFIX))
    return { reasons: [`PV ${name} was not made by gluster-block (no ${GLUSTER_ANNOTATION.type}: block annotation, or its IQN is not ${IQN_PREFIX}<gbid>)`] };
  const block = a[GLUSTER_ANNOTATION.share];
  if (!block) return { reasons: [`PV ${name} has no ${GLUSTER_ANNOTATION.share} annotation naming its block`] };
  const heketiId = a[GLUSTER_ANNOTATION.volumeId];
  return { block, ...(heketiId ? { heketiId } : {}) };
}

/** "10.0.0.1" or "10.0.0.1:3260" -> "10.0.0.1:3260" */
const withPort = (p: string): string => (/:\d+$/.test(p) && !p.endsWith("]") ? p : `${p}:${DEFAULT_ISCSI_PORT}`);

const decode = (v: string | undefined): string | undefined => (v === undefined ? undefined : Buffer.from(v, "base64").toString("utf8"));

/** The PV name the import gives the CSI PV: the in-tree PV keeps its own until the claim is bound again. */
export function importedPvName(inTreeName: string): string {
  return `${inTreeName.slice(0, 253 - 4)}-csi`;
}

/** A Kubernetes quantity for a byte count, as external-provisioner writes CreateVolume's capacity_bytes (binary SI). */
export function byteQuantity(bytes: bigint): string {
  for (const [unit, size] of [
    ["Ti", 1n << 40n],
    ["Gi", 1n << 30n],
    ["Mi", 1n << 20n],
    ["Ki", 1n << 10n],
  ] as const) {
    if (bytes >= size && bytes % size === 0n) return `${bytes / size}${unit}`;
  }
  return bytes.toString();
}

/** A quantity's bytes, for the binary and decimal suffixes claims use; undefined when it is not one. */
export function quantityBytes(q: string): bigint | undefined {
  const m = /^(\d+)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/.exec(q);
  if (!m?.[1]) return undefined;
  const mult: Record<string, bigint> = {
    Ki: 1n << 10n,
    Mi: 1n << 20n,
    Gi: 1n << 30n,
    Ti: 1n << 40n,
    Pi: 1n << 50n,
    k: 10n ** 3n,
    M: 10n ** 6n,
    G: 10n ** 9n,
    T: 10n ** 12n,
    P: 10n ** 15n,
  };
  return BigInt(m[1]) * (m[2] ? (mult[m[2]] ?? 1n) : 1n);
}

export function translatePv(input: TranslateInput): Translation {
  const { pv, claim, block } = input;
  const reasons: string[] = [];
  const notes: string[] = [];
  const pvName = pv.metadata?.name ?? "";
  const of = glusterBlockOf(pv);
  if ("reasons" in of) return { ok: false, reasons: of.reasons };
  const iscsi = pv.spec?.iscsi;
  if (!iscsi) return { ok: false, reasons: [`PV ${pvName} is not an in-tree iscsi PV`] };
  if (of.block !== block.block) reasons.push(`PV ${pvName} names block ${of.block}, not ${block.block}`);

  // identity: what the initiators know must be the block's own
  if (iscsi.iqn !== iqnFor(block.gbid)) reasons.push(`the PV's IQN ${iscsi.iqn} is not the block's (${block.iqn})`);
  const pvPortals = [iscsi.targetPortal, ...(iscsi.portals ?? [])].filter((p) => p !== "").map(withPort);
  const missing = pvPortals.filter((p) => !block.portals.includes(p));
  if (missing.length > 0) reasons.push(`the PV's portals ${missing.join(", ")} are not the block's (${block.portals.join(", ")})`);
  const unnamed = block.portals.filter((p) => !pvPortals.includes(p));
  if (unnamed.length > 0) notes.push(`the block is exported on ${unnamed.join(", ")} too, which the in-tree PV did not name: the CSI PV names every portal`);
  if ((iscsi.lun ?? 0) !== 0) reasons.push(`the PV's LUN is ${iscsi.lun ?? 0}; gluster-block exports LUN 0 only`);
  if (iscsi.iscsiInterface && iscsi.iscsiInterface !== "default")
    reasons.push(`the PV uses the iSCSI interface ${iscsi.iscsiInterface}; this driver logs in through the default one`);
  if (iscsi.initiatorName)
    reasons.push(`the PV sets its own initiator name ${iscsi.initiatorName}; this driver logs in as the node's initiator, which ControllerPublish lets in`);
  if (iscsi.chapAuthDiscovery) notes.push("the PV asked for discovery CHAP; this driver does no discovery (it logs in to each portal by IQN)");

  // CHAP: the same credentials, or none on both sides
  const chap = iscsi.chapAuthSession === true;
  if (chap !== block.auth) reasons.push(`the PV ${chap ? "uses" : "does not use"} CHAP, and the block has auth ${block.auth ? "enabled" : "disabled"}`);
  if (chap && block.auth) {
    const s = input.chapSecret;
    if (!s) reasons.push(`the PV's CHAP Secret ${iscsi.secretRef?.name ?? "(none named)"} was not found`);
    else {
      if (s.type !== undefined && s.type !== IN_TREE_CHAP.type) notes.push(`the PV's CHAP Secret is of type ${s.type}, not ${IN_TREE_CHAP.type}`);
      const user = decode(s.data?.[IN_TREE_CHAP.username]) ?? s.stringData?.[IN_TREE_CHAP.username];
      const password = decode(s.data?.[IN_TREE_CHAP.password]) ?? s.stringData?.[IN_TREE_CHAP.password];
      if (user !== block.gbid) reasons.push(`the PV's CHAP username is not the block's (its GBID ${block.gbid})`);
      if (password !== block.password) reasons.push("the PV's CHAP password is not the block's: the initiators would be refused");
    }
  }

  // names this driver's volume IDs can hold
  try {
    validateVolumeName(block.hostingVolume);
    validateBlockName(block.block);
  } catch (err) {
    reasons.push(`${block.hostingVolume}/${block.block} cannot be a volume ID of this driver: ${err instanceof Error ? err.message : String(err)}`);
  }
  const volumeHandle = formatVolumeId({ hostingVolume: block.hostingVolume, block: block.block });
  if (Buffer.byteLength(volumeHandle) > MAX_VOLUME_ID_BYTES) reasons.push(`the volume ID ${volumeHandle} is longer than ${MAX_VOLUME_ID_BYTES} bytes`);

  // the claim it is bound to
  const ns = claim.metadata?.namespace ?? "";
  const cn = claim.metadata?.name ?? "";
  const ref = pv.spec?.claimRef;
  if (!ref || ref.namespace !== ns || ref.name !== cn) reasons.push(`PV ${pvName} is not bound to the claim ${ns}/${cn}`);
  if (claim.spec?.volumeName !== pvName) reasons.push(`the claim ${ns}/${cn} is not bound to PV ${pvName}`);
  const request = quantityBytes(claim.spec?.resources?.requests?.storage ?? "0");
  if (request === undefined) reasons.push(`the claim's request ${claim.spec?.resources?.requests?.storage ?? ""} is not a quantity this import reads`);
  else if (request > block.sizeBytes) reasons.push(`the claim asks for ${request} bytes; the block has ${block.sizeBytes}`);
  if ((pv.spec?.storageClassName ?? "") !== (claim.spec?.storageClassName ?? "")) reasons.push("the PV's storage class is not the claim's");
  if (reasons.length > 0) return { ok: false, reasons };

  const volumeMode = pv.spec?.volumeMode ?? "Filesystem";
  const fsType = volumeMode === "Filesystem" ? iscsi.fsType || "ext4" : "";
  const name = importedPvName(pvName);
  const chapSpec: ChapSecretSpec | undefined = block.auth
    ? {
        csiName: name,
        volumeId: volumeHandle,
        gbid: block.gbid,
        username: block.gbid,
        password: block.password,
        pvName: name,
        pvc: { namespace: ns, name: cn },
      }
    : undefined;
  const secret = chapSpec ? new ChapSecrets(undefined, input.namespace, input.driverName, nullLogger).build(chapSpec) : undefined;
  const csiPv: V1PersistentVolume = {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: {
      name,
      ...(pv.metadata?.labels ? { labels: { ...pv.metadata.labels } } : {}),
      annotations: { [PROVISIONED_BY]: input.driverName, [IMPORTED_FROM]: pvName },
    },
    spec: {
      capacity: { storage: byteQuantity(block.sizeBytes) },
      accessModes: [...(pv.spec?.accessModes ?? ["ReadWriteOnce"])],
      volumeMode,
      persistentVolumeReclaimPolicy: input.reclaimPolicy,
      ...(pv.spec?.storageClassName ? { storageClassName: pv.spec.storageClassName } : {}),
      ...(pv.spec?.mountOptions ? { mountOptions: [...pv.spec.mountOptions] } : {}),
      // no uid: a pre-bound PV waits for its claim, and is never released while the claim is made again
      claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: ns, name: cn },
      csi: {
        driver: input.driverName,
        volumeHandle,
        ...(fsType ? { fsType } : {}),
        ...(iscsi.readOnly ? { readOnly: true } : {}),
        volumeAttributes: toVolumeContext({
          iqn: block.iqn,
          portals: block.portals,
          lun: 0,
          hostingVolume: block.hostingVolume,
          gbid: block.gbid,
          ha: block.ha,
          wwid: block.wwid,
          fsType,
          auth: block.auth,
        }),
        ...(secret ? { nodeStageSecretRef: { name: chapSecretName(name), namespace: input.namespace } } : {}),
      },
    },
  };
  return { ok: true, pv: csiPv, ...(secret && chapSpec ? { secret, chap: chapSpec } : {}), notes };
}
