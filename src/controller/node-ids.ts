// Initiator IQNs (what blockd keeps as ACLs) back to CSI node IDs (what
// ControllerGetVolume and ListVolumes report as published_node_ids, and what
// the external-attacher compares with its VolumeAttachments): node IDs seen
// by ControllerPublishVolume in this process, and those each node registered
// in its CSINode object. An IQN no CSINode claims (a node gone since, whose
// ACL stayed) names no node of the cluster and is left out.
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

  /** Whether every node can be named (CSINodes through a Kubernetes API), not only those published since start. */
  get fromCluster(): boolean {
    return this.kube !== undefined;
  }

  remember(nodeId: string): void {
    try {
      this.byIqn.set(parseNodeId(nodeId).initiatorIqn, nodeId);
    } catch {
      // not a node ID of ours: nothing to learn
    }
  }

  /**
   * Lists CSINodes when an IQN is not known yet (one listing per call,
   * whatever the number of IQNs). A failed listing is logged; with `strict`
   * it is thrown (ListVolumes: a published node left out would tell the
   * attacher the volume is detached).
   */
  async refresh(iqns: readonly string[], opts: { strict?: boolean } = {}): Promise<void> {
    if (!this.kube || iqns.every((i) => this.byIqn.has(i))) return;
    try {
      for (const id of (await this.kube.csiNodeIds(this.driverName)).values()) this.remember(id);
    } catch (err) {
      if (opts.strict) throw err;
      this.log.warn("could not read CSINodes to name published nodes", { error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** The node IDs known for these IQNs, in order; unknown ones left out. */
  lookup(iqns: readonly string[]): string[] {
    return iqns.map((i) => this.byIqn.get(i)).filter((id): id is string => id !== undefined);
  }

  async resolve(iqns: readonly string[]): Promise<string[]> {
    await this.refresh(iqns);
    return this.lookup(iqns);
  }
}
