// What `gluster-block-csi import` prints: the plan of a dry run, the changes
// of a run, what it left as it was, and how to roll back. Plain text for an
// admin at a terminal; no CHAP password ever reaches it.
import { chapSecretName } from "../chap-secrets.js";
import { ORIGINAL_CLAIM, ORIGINAL_RECLAIM_POLICY } from "./claim-copy.js";
import type { ImportDone, ImportResult, ImportStoppedError } from "./import-claim.js";

const bullets = (lines: readonly string[]): string[] => lines.map((l) => `  - ${l}`);

/** kubectl's jsonpath for an annotation key: its dots escaped */
const jsonpathKey = (key: string): string => key.replace(/\./g, "\\.");

/** The rollback, as commands: back to the in-tree PV, in the order that never deletes the block. */
export function rollbackLines(d: ImportDone, driverNamespace: string): string[] {
  const [ns = "", claim = ""] = d.claim.split("/");
  return [
    `1. keep the block whatever happens to the CSI PV: kubectl patch pv ${d.csiPv} -p '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}'`,
    `2. scale the workload down, then: kubectl -n ${ns} delete pvc ${claim}; kubectl delete pv ${d.csiPv}; kubectl -n ${driverNamespace} delete secret ${chapSecretName(d.csiPv)}`,
    `3. free the in-tree PV for the claim: kubectl patch pv ${d.pv} -p '{"spec":{"claimRef":{"uid":null,"resourceVersion":null}}}'`,
    `4. the claim again, pre-bound to it: kubectl get pv ${d.pv} -o jsonpath='{.metadata.annotations.${jsonpathKey(ORIGINAL_CLAIM)}}' | kubectl create -f -`,
    `5. its reclaim policy back: kubectl patch pv ${d.pv} -p '{"spec":{"persistentVolumeReclaimPolicy":"${d.originalPolicy}"}}' (kept in ${ORIGINAL_RECLAIM_POLICY})`,
    "6. the block keeps per-initiator ACLs: no command turns generated ACLs back on, so the in-tree plugin's logins are refused " +
      'unless the node\'s initiator is let in (see README.md, "Moving off the original gluster-block")',
  ];
}

export function formatImport(r: ImportResult, o: { pv: string; driverNamespace: string; flagsFrom: string }): string {
  const out: string[] = [`gluster-block-csi import: PV ${o.pv}`, `blockd and Kubernetes flags: ${o.flagsFrom}`];
  if (r.outcome === "refused") {
    out.push("REFUSED, nothing was changed:", ...bullets(r.reasons));
    return `${out.join("\n")}\n`;
  }
  if (r.outcome === "dry-run") {
    out.push("DRY RUN, nothing was changed. A run would:", ...bullets(r.plan.length > 0 ? r.plan : ["nothing: it is imported"]));
    out.push("notes:", ...bullets(r.notes));
    return `${out.join("\n")}\n`;
  }
  const d = r.done;
  out.push(`imported: claim ${d.claim} is on PV ${d.csiPv} (${d.claimPhase}); PV ${d.pv} stays, Retain, released once the claim is bound again`);
  out.push("changed by this run:", ...bullets(r.changes.length > 0 ? r.changes : ["nothing: an earlier run did it all"]));
  out.push("notes:", ...bullets(r.notes));
  out.push(
    `let in now: ${d.initiators.length > 0 ? d.initiators.join(", ") : "no initiator"}; from here ControllerPublish lets in the node a pod is scheduled to`,
  );
  out.push("next: scale the workload up; its pods mount the same data through this driver.");
  out.push("rollback:", ...rollbackLines(d, o.driverNamespace).map((l) => `  ${l}`));
  return `${out.join("\n")}\n`;
}

export function formatStopped(err: ImportStoppedError, o: { pv: string; flagsFrom: string }): string {
  return [
    `gluster-block-csi import: PV ${o.pv}`,
    `blockd and Kubernetes flags: ${o.flagsFrom}`,
    `STOPPED: ${err.message}`,
    "changed before it stopped:",
    ...bullets(err.changes.length > 0 ? err.changes : ["nothing in this run"]),
    "What was done is kept, and the in-tree PV is Retain from the first step on, so no delete reaches the block.",
    "Run the same command again: it finds what is done and goes on from there.",
    "",
  ].join("\n");
}
