// Initiator IQNs (what blockd keeps as ACLs) back to CSI node IDs (what
// ControllerGetVolume reports): node IDs seen by ControllerPublishVolume in
// this process, and those each node registered in its CSINode object.
import type { KubeApi } from "./kube-api.js";
import type { Logger } from "../util/log.js";
import { parseNodeId } from "../csi/node-id.js";

export class NodeIdBook {
  private readonly byIqn = new Map<string, string>();

  constructor(
    private readonly kube: KubeApi | undefined,
    private readonly driverName: string,
    private readonly log: Logger,
  ) {}

  remember(nodeId: string): void {
    try {
      this.byIqn.set(parseNodeId(nodeId).initiatorIqn, nodeId);
    } catch {
      // not a node ID of ours: nothing to learn
    }
  }

  async resolve(iqns: readonly string[]): Promise<string[]> {
    if (iqns.some((i) => !this.byIqn.has(i)) && this.kube) {
      try {
        for (const id of (await this.kube.csiNodeIds(this.driverName)).values()) this.remember(id);
      } catch (err) {
        this.log.warn("could not read CSINodes to name published nodes", { error: err instanceof Error ? err.message : String(err) });
      }
    }
    return iqns.map((i) => this.byIqn.get(i)).filter((id): id is string => id !== undefined);
  }
}
