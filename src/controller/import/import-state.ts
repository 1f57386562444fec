// What an import finds before it writes anything: the in-tree PV, its claim
// (or the copy of it the PV keeps once the claim was deleted), the CSI PV if
// an earlier run made it, the in-tree CHAP Secret, the block as blockd knows
// it, and AdoptBlock's dry run. Every refusal is decided here, so a refused
// import has changed nothing. Reads only.
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Secret } from "@kubernetes/client-node";
import type { AdoptBlockResponse__Output } from "../../generated/glusterblock/v1/AdoptBlockResponse.js";
import type { BlockInfo__Output } from "../../generated/glusterblock/v1/BlockInfo.js";
import { blockFacts, type ImportBlockd } from "./import-blockd.js";
import type { ImportKube } from "./import-kube.js";
import { ORIGINAL_CLAIM, ORIGINAL_CLAIM_UID, ORIGINAL_RECLAIM_POLICY, parseClaimSnapshot } from "./claim-copy.js";
import { glusterBlockOf, IMPORTED_FROM, importedPvName, translatePv, type Translation } from "./translate-pv.js";

/**
 * Where the claim stands: still bound to the in-tree PV, being deleted by an
 * import cut short, gone (deleted, not yet made again), or made again and
 * pre-bound to the CSI PV.
 */
export type ClaimStage = "on-in-tree-pv" | "deleting" | "gone" | "on-csi-pv";

export interface ImportState {
  inTreePv: V1PersistentVolume;
  /** the reclaim policy the in-tree PV had before any import: its annotation, else its policy now */
  originalPolicy: string;
  csiName: string;
  /** undefined until an import made it */
  csiPv?: V1PersistentVolume;
  namespace: string;
  claimName: string;
  /** the claim now; undefined when it is gone */
  claim?: V1PersistentVolumeClaim;
  /** the claim as bound to the in-tree PV: the live one, or the copy on the PV once deleted */
  claimWas: V1PersistentVolumeClaim;
  stage: ClaimStage;
  block: BlockInfo__Output;
  translation: Extract<Translation, { ok: true }>;
  adoptPreview: AdoptBlockResponse__Output;
}

export type Found = { ok: true; state: ImportState } | { ok: false; reasons: string[] };

export interface FindRequest {
  pv: string;
  hostingVolume: string;
  driverName: string;
  /** the driver's namespace (its CHAP Secrets) */
  namespace: string;
}

const refused = (...reasons: string[]): Found => ({ ok: false, reasons });

function claimStage(
  claim: V1PersistentVolumeClaim | undefined,
  deletedUid: string | undefined,
  inTreePv: V1PersistentVolume,
  csiName: string,
): { stage: ClaimStage } | { refusal: string } {
  const pvName = inTreePv.metadata?.name ?? "";
  const boundUid = inTreePv.spec?.claimRef?.uid;
  if (!claim) return { stage: "gone" };
  const uid = claim.metadata?.uid;
  if (claim.spec?.volumeName === csiName)
    return claim.metadata?.deletionTimestamp
      ? { refusal: "the claim the import made, pre-bound to the CSI PV, is being deleted: let that finish, then run again" }
      : { stage: "on-csi-pv" };
  if (claim.spec?.volumeName !== pvName) return { refusal: `the claim asks for PV ${claim.spec?.volumeName || "(none)"}, neither ${pvName} nor ${csiName}` };
  if (boundUid && uid !== boundUid)
    return { refusal: `the claim (uid ${uid ?? "?"}) is not the one PV ${pvName} was bound to (uid ${boundUid}): it was made again outside this import` };
  if (claim.metadata?.deletionTimestamp) {
    if (deletedUid === undefined || deletedUid !== uid)
      return { refusal: "the claim is being deleted, and not by this import (the in-tree PV holds no copy of it)" };
    return { stage: "deleting" };
  }
  return { stage: "on-in-tree-pv" };
}

/** Reads everything the import needs and judges it; nothing is written. */
export async function findImportState(kube: ImportKube, blockd: ImportBlockd, req: FindRequest): Promise<Found> {
  const inTreePv = await kube.readPv(req.pv);
  if (!inTreePv) return refused(`PV ${req.pv} does not exist`);
  const of = glusterBlockOf(inTreePv);
  if ("reasons" in of) return refused(...of.reasons);
  const ref = inTreePv.spec?.claimRef;
  if (!ref?.namespace || !ref.name) return refused(`PV ${req.pv} is bound to no claim: the import moves a claim, and there is none`);
  const namespace = ref.namespace;
  const claimName = ref.name;
  const annotations = inTreePv.metadata?.annotations ?? {};
  const originalPolicy = annotations[ORIGINAL_RECLAIM_POLICY] ?? inTreePv.spec?.persistentVolumeReclaimPolicy ?? "Delete";

  const csiName = importedPvName(req.pv);
  const csiPv = await kube.readPv(csiName);
  if (csiPv && (csiPv.metadata?.annotations?.[IMPORTED_FROM] !== req.pv || csiPv.spec?.csi?.driver !== req.driverName))
    return refused(`PV ${csiName} exists and was not made by an import of ${req.pv} for ${req.driverName}; nothing was changed`);

  const claim = await kube.readClaim(namespace, claimName);
  const copy = parseClaimSnapshot(annotations[ORIGINAL_CLAIM], namespace, claimName);
  const judged = claimStage(claim, copy ? annotations[ORIGINAL_CLAIM_UID] : undefined, inTreePv, csiName);
  if ("refusal" in judged) return refused(`claim ${namespace}/${claimName}: ${judged.refusal}`);
  const stage = judged.stage;
  if (stage !== "on-in-tree-pv" && !copy)
    return refused(
      `claim ${namespace}/${claimName} is ${stage === "gone" ? "gone" : `at stage ${stage}`}, and PV ${req.pv} holds no copy of it (${ORIGINAL_CLAIM})`,
    );
  if (stage !== "on-in-tree-pv" && !csiPv) return refused(`claim ${namespace}/${claimName} was moved off PV ${req.pv}, but PV ${csiName} does not exist`);
  const claimWas = stage === "on-in-tree-pv" && claim ? claim : copy;
  if (!claimWas) return refused(`claim ${namespace}/${claimName}: no copy of it`);

  const iscsi = inTreePv.spec?.iscsi;
  let chapSecret: V1Secret | undefined;
  if (iscsi?.chapAuthSession && iscsi.secretRef?.name) chapSecret = await kube.readSecret(iscsi.secretRef.namespace || namespace, iscsi.secretRef.name);

  const block = await blockd.getBlock(req.hostingVolume, of.block);
  if (block.state !== "ready")
    return refused(`block ${req.hostingVolume}/${of.block} is ${block.state}, not ready: repair it first (gluster-block info/reload)`);
  const translation = translatePv({
    pv: inTreePv,
    claim: claimWas,
    ...(chapSecret ? { chapSecret } : {}),
    block: blockFacts(block),
    driverName: req.driverName,
    namespace: req.namespace,
    reclaimPolicy: originalPolicy,
  });
  if (!translation.ok) return refused(...translation.reasons);
  if (csiPv) {
    const want = translation.pv.spec;
    const has = csiPv.spec;
    if (has?.csi?.volumeHandle !== want?.csi?.volumeHandle || has?.claimRef?.namespace !== namespace || has.claimRef.name !== claimName)
      return refused(
        `PV ${csiName} (volume ${has?.csi?.volumeHandle ?? "?"}) is not the one this import makes (volume ${want?.csi?.volumeHandle ?? "?"}, claim ${namespace}/${claimName})`,
      );
  }
  // the block's own refusals: a journal with unknown fields, a host down, an LIO it cannot read one TPG order from
  const adoptPreview = await blockd.adoptBlock(req.hostingVolume, of.block, true);
  return {
    ok: true,
    state: {
      inTreePv,
      originalPolicy,
      csiName,
      ...(csiPv ? { csiPv } : {}),
      namespace,
      claimName,
      ...(claim ? { claim } : {}),
      claimWas,
      stage,
      block,
      translation,
      adoptPreview,
    },
  };
}
