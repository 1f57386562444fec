// `gluster-block-csi import`: one in-tree gluster-block PV and its claim moved
// to this driver, the block and its data untouched. The steps, each durable
// before the next and each skipped when a run finds it done, so a run cut
// short anywhere is finished by running it again:
//   a. read and judge everything (import-state.ts); a refusal changes nothing
//   b. a dry run stops here, with the plan
//   c. the in-tree PV: its reclaim policy recorded in an annotation, then
//      Retain, before anything else is written: from here no delete of the
//      old PV or claim can delete the block
//   d. our CHAP Secret in the driver's namespace, then the CSI PV <old>-csi
//      (reclaim policy the original one, pre-bound to the claim by name)
//   e. the claim: not while a pod uses it; its copy written on the in-tree PV,
//      deleted (only that very claim: uid and resourceVersion preconditions),
//      made again pre-bound to the CSI PV
//   f. the block converted to per-initiator ACLs (AdoptBlock): from here
//      ControllerPublish/Unpublish let each node in and out
// A run never deletes what it did not make: the only delete is the claim,
// whose copy is on the PV first.
import type { V1PersistentVolumeClaim } from "@kubernetes/client-node";
import type { ChapSecrets } from "../chap-secrets.js";
import { KubeApiError } from "../errors.js";
import type { ImportBlockd } from "./import-blockd.js";
import type { ImportKube } from "./import-kube.js";
import { findImportState, type ImportState } from "./import-state.js";
import { claimDifferences, ORIGINAL_CLAIM, ORIGINAL_CLAIM_UID, ORIGINAL_RECLAIM_POLICY, podsUsingClaim, recreatedClaim } from "./claim-copy.js";
import { describeError } from "./describe-error.js";

export interface ImportDeps {
  kube: ImportKube;
  blockd: ImportBlockd;
  /** the driver's CHAP Secrets (its namespace) */
  secrets: ChapSecrets;
  driverName: string;
  sleep(ms: number): Promise<void>;
  now(): number;
}

export interface ImportRequest {
  /** the in-tree PV */
  pv: string;
  /** the Gluster volume the block is on (heketi alone knew it; no PV says it) */
  hostingVolume: string;
  dryRun: boolean;
  /** how long to wait for the pods that use the claim to be gone; 0: refuse at once while any does */
  waitForPodsGoneMs: number;
  /** how long to wait for the deleted claim to be gone (its pvc-protection finalizer); default 120 s */
  claimGoneTimeoutMs?: number;
}

export interface ImportDone {
  pv: string;
  csiPv: string;
  claim: string;
  originalPolicy: string;
  /** the claim's phase when the run ended */
  claimPhase: string;
  /** the block's initiators after the adoption (those logged in while it ran) */
  initiators: string[];
}

export type ImportResult =
  | { outcome: "refused"; reasons: string[] }
  | { outcome: "dry-run"; plan: string[]; notes: string[] }
  | { outcome: "imported"; changes: string[]; notes: string[]; done: ImportDone };

/** An import that stopped after it began writing: what it did is kept, and a run again goes on from there. */
export class ImportStoppedError extends Error {
  override readonly name = "ImportStoppedError";
  constructor(
    readonly step: string,
    readonly changes: readonly string[],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const POLL_MS = 2_000;

/** The plan: one line per change still to make, in order. */
function planOf(s: ImportState, secretExists: boolean): string[] {
  const plan: string[] = [];
  const pv = s.inTreePv.metadata?.name ?? "";
  const policy = s.inTreePv.spec?.persistentVolumeReclaimPolicy;
  if (!s.inTreePv.metadata?.annotations?.[ORIGINAL_RECLAIM_POLICY] || policy !== "Retain")
    plan.push(`PV ${pv}: annotate ${ORIGINAL_RECLAIM_POLICY}=${s.originalPolicy}; reclaim policy ${policy ?? "(none)"} -> Retain`);
  const secret = s.translation.secret?.metadata;
  if (secret && !secretExists) plan.push(`Secret ${secret.namespace ?? ""}/${secret.name ?? ""}: the block's CHAP credentials (keys username, password)`);
  if (!s.csiPv) {
    const csi = s.translation.pv.spec?.csi;
    plan.push(
      `PV ${s.csiName}: create: driver ${csi?.driver ?? ""}, volume ${csi?.volumeHandle ?? ""}, reclaim policy ${s.originalPolicy}, pre-bound to claim ${s.namespace}/${s.claimName}`,
    );
  }
  const claim = `PVC ${s.namespace}/${s.claimName}`;
  if (s.stage === "on-in-tree-pv") {
    plan.push(`PV ${pv}: annotate ${ORIGINAL_CLAIM} with the claim as it is, pre-bound to ${pv} (for a run again and a rollback), ${ORIGINAL_CLAIM_UID}`);
    plan.push(`${claim}: delete (uid ${s.claim?.metadata?.uid ?? "?"})`);
  }
  if (s.stage === "deleting") plan.push(`${claim}: wait until its delete is done`);
  if (s.stage !== "on-csi-pv") {
    plan.push(`${claim}: create again, volumeName ${s.csiName}, storageClassName ${JSON.stringify(s.translation.pv.spec?.storageClassName ?? "")}`);
    for (const d of claimDifferences(s.claimWas, s.translation.pv)) plan.push(`${claim}: ${d}`);
  }
  const block = `block ${s.block.volume}/${s.block.name}`;
  if (s.adoptPreview.outcome !== "already-adopted") for (const c of s.adoptPreview.changes) plan.push(`${block}: ${c}`);
  return plan;
}

function notesOf(s: ImportState): string[] {
  const notes = [...s.translation.notes];
  notes.push(
    `kept as they are: GBID ${s.block.gbid}, IQN ${s.block.iqn}, WWID ${s.block.wwid}, portals ${s.block.portals.join(" ")}, the CHAP credentials, the data`,
  );
  for (const h of s.adoptPreview.sessions)
    if (h.initiators.length > 0) notes.push(`logged in to ${h.host} now (the adoption lets them in): ${h.initiators.join(", ")}`);
  if (s.adoptPreview.outcome === "already-adopted") notes.push(`block ${s.block.volume}/${s.block.name} has per-initiator ACLs already`);
  return notes;
}

/** Waits for `done` to answer true, asking every POLL_MS until `timeoutMs` passed; the last answer. */
async function waitFor(d: ImportDeps, timeoutMs: number, done: () => Promise<boolean>): Promise<boolean> {
  const end = d.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (d.now() >= end) return false;
    await d.sleep(POLL_MS);
  }
}

async function claimUsers(d: ImportDeps, req: ImportRequest, namespace: string, name: string): Promise<string[]> {
  let users = podsUsingClaim(await d.kube.listPods(namespace), name);
  if (users.length > 0 && req.waitForPodsGoneMs > 0)
    await waitFor(d, req.waitForPodsGoneMs, async () => {
      users = podsUsingClaim(await d.kube.listPods(namespace), name);
      return users.length === 0;
    });
  return users;
}

const inUse = (namespace: string, name: string, users: readonly string[]): string =>
  `claim ${namespace}/${name} is in use by pod(s) ${users.join(", ")}: scale its workload down first, ` +
  "or pass --wait-for-pods-gone <seconds> to wait for that";

export async function importClaim(d: ImportDeps, req: ImportRequest): Promise<ImportResult> {
  let s: ImportState;
  let secretExists = false;
  try {
    const found = await findImportState(d.kube, d.blockd, {
      pv: req.pv,
      hostingVolume: req.hostingVolume,
      driverName: d.driverName,
      namespace: d.secrets.namespace,
    });
    if (!found.ok) return { outcome: "refused", reasons: found.reasons };
    s = found.state;
    const secretName = s.translation.secret?.metadata?.name;
    if (secretName) secretExists = (await d.kube.readSecret(d.secrets.namespace, secretName)) !== undefined;
    if (s.stage === "on-in-tree-pv") {
      const users = await claimUsers(d, req, s.namespace, s.claimName);
      if (users.length > 0) return { outcome: "refused", reasons: [inUse(s.namespace, s.claimName, users)] };
    }
  } catch (err) {
    return { outcome: "refused", reasons: [`${describeError(err)}; nothing was changed`] };
  }
  const notes = notesOf(s);
  if (req.dryRun) return { outcome: "dry-run", plan: planOf(s, secretExists), notes };
  return { outcome: "imported", ...(await write(d, req, s, secretExists, notes)) };
}

async function write(
  d: ImportDeps,
  req: ImportRequest,
  s: ImportState,
  secretExists: boolean,
  notes: string[],
): Promise<{ changes: string[]; notes: string[]; done: ImportDone }> {
  const changes: string[] = [];
  let step = "c. in-tree PV to Retain";
  const pv = s.inTreePv.metadata?.name ?? "";
  const { namespace, claimName } = s;
  const claimRef = `${namespace}/${claimName}`;
  try {
    // c. nothing else is written before the in-tree PV keeps its block whatever happens to it or its claim
    const annotated = s.inTreePv.metadata?.annotations?.[ORIGINAL_RECLAIM_POLICY] !== undefined;
    if (!annotated || s.inTreePv.spec?.persistentVolumeReclaimPolicy !== "Retain") {
      await d.kube.patchPv(pv, { ...(annotated ? {} : { annotations: { [ORIGINAL_RECLAIM_POLICY]: s.originalPolicy } }), reclaimPolicy: "Retain" });
      changes.push(`PV ${pv}: ${ORIGINAL_RECLAIM_POLICY}=${s.originalPolicy}, reclaim policy Retain`);
    }

    step = "d. CHAP Secret";
    if (s.translation.chap) {
      // made, or brought back to the block's credentials; refused when a Secret by its name is not ours
      const name = await d.secrets.ensure(s.translation.chap);
      if (!secretExists) changes.push(`Secret ${d.secrets.namespace}/${name}: the block's CHAP credentials`);
    }

    step = "d. CSI PV";
    let csiPv = s.csiPv;
    if (!csiPv) {
      try {
        csiPv = await d.kube.createPv(s.translation.pv);
        changes.push(`PV ${s.csiName}: created (${s.translation.pv.spec?.csi?.volumeHandle ?? ""}, reclaim policy ${s.originalPolicy})`);
      } catch (err) {
        // made by a run racing this one: findImportState of a run again judges it
        if (err instanceof KubeApiError && err.httpStatus === 409) throw new Error(`PV ${s.csiName} appeared while this run made it; run again to judge it`);
        throw err;
      }
    }

    step = "e. claim";
    let stage = s.stage;
    if (stage === "on-in-tree-pv") {
      // read again: the claim deleted must be the very one copied, and no pod may have started on it
      const live = await d.kube.readClaim(namespace, claimName);
      if (!live || live.spec?.volumeName !== pv || live.metadata?.deletionTimestamp) throw new Error(`claim ${claimRef} changed since it was read; run again`);
      const users = podsUsingClaim(await d.kube.listPods(namespace), claimName);
      if (users.length > 0) throw new Error(inUse(namespace, claimName, users));
      const uid = live.metadata?.uid ?? "";
      await d.kube.patchPv(pv, { annotations: { [ORIGINAL_CLAIM]: JSON.stringify(recreatedClaim(live, s.inTreePv)), [ORIGINAL_CLAIM_UID]: uid } });
      changes.push(`PV ${pv}: ${ORIGINAL_CLAIM} holds the claim as it was, pre-bound to ${pv} (for a run again and a rollback)`);
      const resourceVersion = live.metadata?.resourceVersion ?? "";
      await d.kube.deleteClaim(namespace, claimName, { uid, resourceVersion });
      changes.push(`PVC ${claimRef}: deleted (uid ${uid})`);
      stage = "deleting";
    }
    if (stage === "deleting") {
      let last: V1PersistentVolumeClaim | undefined;
      const gone = await waitFor(d, req.claimGoneTimeoutMs ?? 120_000, async () => {
        last = await d.kube.readClaim(namespace, claimName);
        return last === undefined || last.spec?.volumeName === s.csiName;
      });
      if (!gone)
        throw new Error(
          `claim ${claimRef} is still being deleted (finalizers: ${(last?.metadata?.finalizers ?? []).join(", ") || "none"}); ` +
            "kubernetes.io/pvc-protection waits for every pod using it to be gone",
        );
      stage = last === undefined ? "gone" : "on-csi-pv";
    }
    if (stage === "gone") {
      const want = recreatedClaim(s.claimWas, csiPv);
      try {
        await d.kube.createClaim(namespace, want);
        changes.push(`PVC ${claimRef}: created again, volumeName ${s.csiName}, storageClassName ${JSON.stringify(want.spec?.storageClassName ?? "")}`);
      } catch (err) {
        if (!(err instanceof KubeApiError && err.httpStatus === 409)) throw err;
        const now = await d.kube.readClaim(namespace, claimName);
        if (now?.spec?.volumeName !== s.csiName)
          throw new Error(`claim ${claimRef} was made again by someone else (volumeName ${now?.spec?.volumeName ?? "none"})`);
      }
    }

    step = "f. AdoptBlock";
    let initiators = s.adoptPreview.initiators;
    if (s.adoptPreview.outcome !== "already-adopted") {
      const r = await d.blockd.adoptBlock(s.block.volume, s.block.name, false);
      for (const c of r.changes) changes.push(`block ${s.block.volume}/${s.block.name}: ${c}`);
      initiators = r.initiators;
    }

    step = "g. report";
    const claimNow = await d.kube.readClaim(namespace, claimName);
    return {
      changes,
      notes,
      done: {
        pv,
        csiPv: s.csiName,
        claim: claimRef,
        originalPolicy: s.originalPolicy,
        claimPhase: claimNow?.status?.phase ?? (claimNow ? "Pending" : "gone"),
        initiators: [...initiators],
      },
    };
  } catch (err) {
    throw new ImportStoppedError(step, changes, `import of PV ${pv} stopped at step ${step}: ${describeError(err)}`, { cause: err });
  }
}
