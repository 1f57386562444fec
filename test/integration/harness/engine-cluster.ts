// An engine cluster on the host: real glusterd peers in network namespaces
// (the hosting volume, its journals and files are real), three LocalNodes
// whose LIO is the in-memory configfs imitation (the host kernel has no LIO),
// and in-process peers between them. What needs the real LIO runs in the VM lab.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startGlusterNetns, type GlusterNetns } from "./gluster-netns.js";
import { exec } from "../../../src/util/exec.js";
import { nullLogger } from "../../../src/util/log.js";
import { GlusterCli } from "../../../src/glusterblock/gluster/gluster-cli.js";
import { VolumeMounts } from "../../../src/glusterblock/volume/mounts.js";
import { ConfigfsLioTargets } from "../../../src/glusterblock/lio/configfs-lio-targets.js";
import { FakeConfigfs } from "../../doubles/fake-configfs.js";
import { LocalNode } from "../../../src/glusterblock/engine/local-node.js";
import { BlockEngine, type BlockEngineOptions } from "../../../src/glusterblock/engine/block-engine.js";
import type { Peers, PeerRef, TargetResult, TargetStatusAnswer, NodeStatusInfo, TargetInspection } from "../../../src/glusterblock/engine/peers.js";

export interface EngineNode {
  host: string;
  configfs: FakeConfigfs;
  lio: ConfigfsLioTargets;
  local: LocalNode;
  /** when set, calls to this node fail as if it were unreachable */
  down: boolean;
  /** a configfs crash here is transient: the node recovers after the failed call (a restarted blockd) */
  recoverAfterCrash: boolean;
}

/** Peers that route to in-process LocalNodes; a node marked down throws. */
export class InProcessPeers implements Peers {
  constructor(readonly nodes: Map<string, EngineNode>) {}
  private node(host: string): EngineNode {
    const n = this.nodes.get(host);
    if (!n || n.down) throw new Error(`connect ECONNREFUSED ${host}:24010`);
    return n;
  }
  apply(host: string, ref: PeerRef): Promise<TargetResult> {
    return Promise.resolve()
      .then(() => this.node(host).local.apply(ref))
      .catch((err: unknown) => {
        const n = this.nodes.get(host);
        if (n?.recoverAfterCrash) n.configfs.crashAt = undefined;
        throw err;
      });
  }
  remove(host: string, ref: PeerRef): Promise<TargetResult> {
    return Promise.resolve().then(() => this.node(host).local.remove(ref));
  }
  status(host: string, ref: PeerRef): Promise<TargetResult> {
    return Promise.resolve().then(() => this.node(host).local.status(ref));
  }
  statusMany(host: string, refs: readonly PeerRef[]): Promise<TargetStatusAnswer[]> {
    return Promise.resolve().then(() => this.node(host).local.statusMany(refs));
  }
  ping(host: string): Promise<NodeStatusInfo> {
    return Promise.resolve().then(() => this.node(host).local.nodeStatus());
  }
  inspect(host: string, ref: PeerRef): Promise<TargetInspection> {
    return Promise.resolve().then(() => this.node(host).local.inspect(ref));
  }
}

export interface EngineCluster {
  gluster: GlusterNetns;
  volume: string;
  hosts: string[];
  nodes: Map<string, EngineNode>;
  peers: InProcessPeers;
  mounts: VolumeMounts;
  /** an engine coordinating from node i (1-based); `over` replaces options (peers, faults, log) */
  engine(i: number, over?: Partial<BlockEngineOptions>): BlockEngine;
  down(): Promise<void>;
}

export async function startEngineCluster(volume = "block-test"): Promise<EngineCluster> {
  const gluster = await startGlusterNetns({ nodes: 3, volume });
  const hosts = [1, 2, 3].map((i) => gluster.address(i));
  const mounts = new VolumeMounts({ exec, root: await mkdtemp(join(tmpdir(), "gb-mnt-")), volfileServer: hosts[0] ?? "" });
  const nodes = new Map<string, EngineNode>();
  for (const host of hosts) {
    const configfs = new FakeConfigfs();
    const lio = new ConfigfsLioTargets({ fs: configfs });
    nodes.set(host, {
      host,
      configfs,
      lio,
      local: new LocalNode({ host, mounts, lio, exec, volfileServer: "localhost", log: nullLogger }),
      down: false,
      recoverAfterCrash: false,
    });
  }
  const peers = new InProcessPeers(nodes);
  return {
    gluster,
    volume,
    hosts,
    nodes,
    peers,
    mounts,
    engine: (i, over) =>
      new BlockEngine({
        host: hosts[i - 1] ?? "",
        mounts,
        gluster: new GlusterCli({ exec, glusterdSocket: gluster.socket(i) }),
        peers,
        exec,
        log: nullLogger,
        lockWaitMs: 5_000,
        ...over,
      }),
    async down() {
      await mounts.unmount(volume).catch(() => undefined);
      await gluster.down();
    },
  };
}
