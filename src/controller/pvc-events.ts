// Events on the PersistentVolumeClaim for what a user should see in
// `kubectl describe pvc`: create failures with the storage-side reason, and
// a degraded HA set. Best effort: an Event that cannot be written is logged,
// never an error of the CSI call; without a Kubernetes API nothing is sent.
//
// One Event per claim, type and reason, as the kubelet's recorder aggregates:
// the provisioner retries a failing create with backoff for as long as the
// claim exists, and an Event per attempt would pile up (a dozen an hour per
// stuck claim). A repeat raises the Event's count and lastTimestamp and
// carries the latest message. The count is the API object's, read before each
// write; nothing is counted in memory.
import type { CoreV1Event } from "@kubernetes/client-node";
import { createHash } from "node:crypto";
import { KubeApiError } from "./errors.js";
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

/** The claim a volume's Events go to, from CreateVolume's parameters or the block's OWNER; none without a claim. */
export function eventTarget(p: { pvc?: { name: string; namespace: string }; pvName?: string }): EventTarget | undefined {
  if (!p.pvc) return undefined;
  const uid = pvcUidFromPvName(p.pvName);
  return { ...p.pvc, ...(uid ? { uid } : {}) };
}

/** the longest Kubernetes object name (a DNS subdomain) */
const MAX_NAME = 253;

/**
 * The Event's name: the claim's, then a hash of what makes it the same Event
 * (claim, its UID, type, reason). Not the message: a create failure's often
 * carries numbers that change from one attempt to the next, and each would be
 * another Event again.
 */
export function eventName(target: EventTarget, type: EventType, reason: string): string {
  const hash = createHash("sha256")
    .update([target.namespace, target.name, target.uid ?? "", type, reason].join("\0"))
    .digest("hex")
    .slice(0, 16);
  // a claim name near the limit is cut where it leaves a valid name ("a-." is not)
  const claim = target.name.slice(0, MAX_NAME - hash.length - 1).replace(/[.-]+$/, "");
  return `${claim}.${hash}`;
}

const statusOf = (err: unknown): number | undefined => (err instanceof KubeApiError ? err.httpStatus : undefined);

/** rounds of read and write before giving up on one Event (each conflict is another writer's progress) */
const WRITE_ROUNDS = 3;

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
    const text = scrubSecrets(message).slice(0, 1024);
    const name = eventName(target, type, reason);
    const event: CoreV1Event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace: target.namespace },
      involvedObject: {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        name: target.name,
        namespace: target.namespace,
        ...(target.uid ? { uid: target.uid } : {}),
      },
      type,
      reason,
      message: text,
      source: { component: this.component, ...(this.host ? { host: this.host } : {}) },
      reportingComponent: this.component,
      reportingInstance: this.host || this.component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.record(this.kube, event, now, text);
    } catch (err) {
      this.log.warn("could not record an event on the claim", {
        pvc: `${target.namespace}/${target.name}`,
        reason,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /** Creates the Event, or raises the count of the one already there. */
  private async record(kube: KubeApi, event: CoreV1Event, now: Date, message: string): Promise<void> {
    const namespace = event.metadata.namespace ?? "";
    const name = event.metadata.name ?? "";
    let current = await kube.readEvent(namespace, name);
    for (let round = 1; ; round++) {
      try {
        if (current) {
          const bump = { count: (current.count ?? 1) + 1, lastTimestamp: now, message };
          const rv = current.metadata.resourceVersion;
          await kube.bumpEvent(namespace, name, rv ? { ...bump, resourceVersion: rv } : bump);
        } else {
          await kube.createEvent(namespace, event);
        }
        return;
      } catch (err) {
        const code = statusOf(err);
        // 404 on the patch: the Event expired (the API server keeps them an hour) or was deleted since the read:
        // create it. 409: another writer created it, or raised its count, first: read it again and count on theirs
        const expired = code === 404 && current !== undefined;
        if (round >= WRITE_ROUNDS || (!expired && code !== 409)) throw err;
        current = expired ? undefined : await kube.readEvent(namespace, name);
      }
    }
  }
}
