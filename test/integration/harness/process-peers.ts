// A coordinating gluster-blockd process that can be "killed" mid-operation:
// the engine's fault hook throws SimulatedCrash after a chosen step, and the
// process's peer calls stop with it.
import type { Peers, PeerRef, TargetResult, TargetStatusAnswer, NodeStatusInfo, TargetInspection } from "../../../src/glusterblock/engine/peers.js";

export class SimulatedCrash extends Error {
  override readonly name = "SimulatedCrash";
}

/**
 * The peer calls of one coordinating process: one at a time, so the steps
 * come in the same order every run, and none once the process has "died"
 * (calls it had queued never reach a node).
 */
export class ProcessPeers implements Peers {
  dead = false;
  private tail: Promise<unknown> = Promise.resolve();
  constructor(private readonly inner: Peers) {}
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(() => {
      if (this.dead) throw new Error("connect ECONNREFUSED: the coordinator was stopped");
      return fn();
    });
    this.tail = run.catch(() => undefined);
    return run;
  }
  /** resolves once every call made so far has settled */
  async idle(): Promise<void> {
    await this.tail;
  }
  apply(host: string, ref: PeerRef): Promise<TargetResult> {
    return this.serial(() => this.inner.apply(host, ref));
  }
  remove(host: string, ref: PeerRef): Promise<TargetResult> {
    return this.serial(() => this.inner.remove(host, ref));
  }
  status(host: string, ref: PeerRef): Promise<TargetResult> {
    return this.inner.status(host, ref);
  }
  statusMany(host: string, refs: readonly PeerRef[]): Promise<TargetStatusAnswer[]> {
    return this.inner.statusMany(host, refs);
  }
  ping(host: string, timeoutMs?: number): Promise<NodeStatusInfo> {
    return this.inner.ping(host, timeoutMs);
  }
  inspect(host: string, ref: PeerRef): Promise<TargetInspection> {
    return this.serial(() => this.inner.inspect(host, ref));
  }
}

/** Fault hooks that stop the process after the step named `step` (its first occurrence). */
export function stopAfter(peers: ProcessPeers, step: string): { afterStep(s: string): void } {
  return {
    afterStep(s: string): void {
      if (s === step && !peers.dead) {
        peers.dead = true;
        throw new SimulatedCrash(`stopped after ${s}`);
      }
    },
  };
}
