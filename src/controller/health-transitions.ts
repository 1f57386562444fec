// Which volumes the controller last saw abnormal, so that an Event marks a
// change of condition (DegradedHA when a volume becomes abnormal, HARestored
// when it is normal again), not every look at it. ControllerGetVolume and the
// periodic health check share it, so a change is one Event whoever sees it
// first. Only the abnormal volumes are kept (normal is the default): memory
// grows with the degraded volumes, never with the healthy ones, and a restart
// forgets them, so each volume still degraded gets its DegradedHA once more
// (one Event per claim and reason: that raises the Event's count).
import type { BlockInfo__Output } from "../generated/glusterblock/v1/BlockInfo.js";
import type { VolumeCondition } from "../generated/csi/v1/VolumeCondition.js";
import { parseOwner } from "./owner.js";
import { eventTarget, type PvcEvents } from "./pvc-events.js";

export class HealthTransitions {
  private readonly abnormal = new Set<string>();

  constructor(private readonly events: PvcEvents) {}

  /** Whether recording this condition for the volume is a change (an Event). */
  changes(volumeId: string, abnormal: boolean): boolean {
    return this.abnormal.has(volumeId) !== abnormal;
  }

  /** Records the volume's condition; on a change, one Event on the claim in the block's OWNER. True when it was a change. */
  async note(volumeId: string, info: BlockInfo__Output, condition: VolumeCondition): Promise<boolean> {
    const abnormal = condition.abnormal ?? false;
    if (!this.changes(volumeId, abnormal)) return false;
    if (abnormal) this.abnormal.add(volumeId);
    else this.abnormal.delete(volumeId);
    const owner = parseOwner(info.owner);
    await this.events.emit(
      owner ? eventTarget(owner) : undefined,
      abnormal ? "Warning" : "Normal",
      abnormal ? "DegradedHA" : "HARestored",
      `gluster-block volume ${volumeId}: ${condition.message ?? ""}`,
    );
    return true;
  }

  /** A deleted volume: nothing to restore. */
  forget(volumeId: string): void {
    this.abnormal.delete(volumeId);
  }

  /** Drops the volumes `exists` says are gone. */
  prune(exists: (volumeId: string) => boolean): void {
    for (const id of this.abnormal) if (!exists(id)) this.abnormal.delete(id);
  }

  /** how many volumes are recorded abnormal */
  get degraded(): number {
    return this.abnormal.size;
  }
}
