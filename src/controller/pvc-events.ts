// Events on the PersistentVolumeClaim for what a user should see in
// `kubectl describe pvc`: create failures with the storage-side reason, and
// a degraded HA set. Best effort: an Event that cannot be written is logged,
// never an error of the CSI call; without a Kubernetes API nothing is sent.
import type { CoreV1Event } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import type { KubeApi } from "./kube-api.js";
import type { Logger } from "../util/log.js";
import type { PvcRef } from "./params.js";
import { scrubSecrets } from "../util/secrets.js";

export type EventType = "Normal" | "Warning";

export interface EventTarget extends PvcRef {
  /** the PVC's UID; kubectl describe matches events by it */
  uid?: string;
}

/** The external-provisioner names PVs "pvc-<claim uid>": the UID without an API read. */
export function pvcUidFromPvName(pvName: string | undefined): string | undefined {
  const m = /^pvc-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(pvName ?? "");
  return m?.[1];
}

export class PvcEvents {
  constructor(
    private readonly kube: KubeApi | undefined,
    private readonly component: string,
    private readonly log: Logger,
    private readonly host = "",
  ) {}

  async emit(target: EventTarget | undefined, type: EventType, reason: string, message: string): Promise<void> {
    if (!this.kube || !target) return;
    const now = new Date();
    const event: CoreV1Event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `${target.name}.${randomBytes(8).toString("hex")}`, namespace: target.namespace },
      involvedObject: {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        name: target.name,
        namespace: target.namespace,
        ...(target.uid ? { uid: target.uid } : {}),
      },
      type,
      reason,
      message: scrubSecrets(message).slice(0, 1024),
      source: { component: this.component, ...(this.host ? { host: this.host } : {}) },
      reportingComponent: this.component,
      reportingInstance: this.host || this.component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.kube.createEvent(target.namespace, event);
    } catch (err) {
      this.log.warn("could not record an event on the claim", {
        pvc: `${target.namespace}/${target.name}`,
        reason,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}
