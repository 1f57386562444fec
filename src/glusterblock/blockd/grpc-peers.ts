// Peers reached over blockd's TCP API; this node itself is called in-process.
// With TLS, this node's peer certificate is the client certificate (the
// BlockdPeer RPCs serve only peers), and each peer is checked against
// DNS:gluster-blockd, not the IP address dialled (rpc/tls.ts).
import { blockdProto } from "../../rpc/proto.js";
import { unary } from "../../rpc/unary-client.js";
import type { BlockdPeerClient } from "../../generated/glusterblock/v1/BlockdPeer.js";
import type { PeerTargetResult__Output } from "../../generated/glusterblock/v1/PeerTargetResult.js";
import type { PeerTargetResults__Output } from "../../generated/glusterblock/v1/PeerTargetResults.js";
import type { NodeStatus__Output } from "../../generated/glusterblock/v1/NodeStatus.js";
import type { PeerTargetInspection__Output } from "../../generated/glusterblock/v1/PeerTargetInspection.js";
import {
  PING_TIMEOUT_MS,
  type Peers,
  type PeerRef,
  type TargetResult,
  type TargetStatusAnswer,
  type NodeStatusInfo,
  type TargetInspection,
} from "../engine/peers.js";
import { statusInBatches } from "./status-batches.js";
import type { LocalNode } from "../engine/local-node.js";
import { withKey } from "../../rpc/peer-auth.js";
import { blockdTransport, type BlockdTls, type BlockdTransport } from "../../rpc/tls.js";

export interface GrpcPeersOptions {
  local: LocalNode;
  port: number;
  key?: string;
  /** mutual TLS; without it the channels are plain TCP */
  tls?: BlockdTls;
  /** per call (a converge of one target takes well under a second; allow for a slow node) */
  timeoutMs?: number;
}

export class GrpcPeers implements Peers {
  private readonly clients = new Map<string, BlockdPeerClient>();
  private readonly transport: BlockdTransport;

  constructor(private readonly opts: GrpcPeersOptions) {
    this.transport = blockdTransport(opts.tls);
  }

  private client(host: string): BlockdPeerClient {
    let c = this.clients.get(host);
    if (!c) {
      const addr = host.includes(":") ? `[${host}]:${this.opts.port}` : `${host}:${this.opts.port}`;
      c = new (blockdProto().glusterblock.v1.BlockdPeer)(addr, this.transport.credentials, this.transport.options);
      this.clients.set(host, c);
    }
    return c;
  }

  private async call(host: string, method: "ApplyTarget" | "RemoveTarget" | "TargetStatus", ref: PeerRef): Promise<TargetResult> {
    const r = await unary<PeerTargetResult__Output>(this.client(host), method, ref, {
      timeoutMs: this.opts.timeoutMs ?? 120_000,
      metadata: withKey(this.opts.key),
    });
    return { host: r.host || host, present: r.present, matches: r.matches, detail: r.detail };
  }

  apply(host: string, ref: PeerRef): Promise<TargetResult> {
    return host === this.opts.local.host ? this.opts.local.apply(ref) : this.call(host, "ApplyTarget", ref);
  }
  remove(host: string, ref: PeerRef): Promise<TargetResult> {
    return host === this.opts.local.host ? this.opts.local.remove(ref) : this.call(host, "RemoveTarget", ref);
  }
  status(host: string, ref: PeerRef): Promise<TargetResult> {
    return host === this.opts.local.host ? this.opts.local.status(ref) : this.call(host, "TargetStatus", ref);
  }
  statusMany(host: string, refs: readonly PeerRef[]): Promise<TargetStatusAnswer[]> {
    if (host === this.opts.local.host) return this.opts.local.statusMany(refs);
    return statusInBatches(host, refs, {
      batch: async (part) => {
        const r = await unary<PeerTargetResults__Output>(
          this.client(host),
          "TargetStatuses",
          { refs: part },
          { timeoutMs: this.opts.timeoutMs ?? 120_000, metadata: withKey(this.opts.key) },
        );
        return r.results.map((x) =>
          x.error ? { host: x.host || host, error: x.error } : { host: x.host || host, present: x.present, matches: x.matches, detail: x.detail },
        );
      },
      one: (ref) => this.status(host, ref),
    });
  }
  async ping(host: string, timeoutMs = PING_TIMEOUT_MS): Promise<NodeStatusInfo> {
    if (host === this.opts.local.host) return this.opts.local.nodeStatus();
    const r = await unary<NodeStatus__Output>(this.client(host), "Ping", {}, { timeoutMs, metadata: withKey(this.opts.key) });
    return { host: r.host, version: r.version, targets: r.targets, activePaths: r.active_paths, ready: r.ready };
  }

  async inspect(host: string, ref: PeerRef): Promise<TargetInspection> {
    if (host === this.opts.local.host) return this.opts.local.inspect(ref);
    const r = await unary<PeerTargetInspection__Output>(this.client(host), "InspectTarget", ref, {
      timeoutMs: this.opts.timeoutMs ?? 120_000,
      metadata: withKey(this.opts.key),
    });
    return {
      host: r.host || host,
      present: r.present,
      tpgs: r.tpgs.map((t) => ({
        tag: t.tag,
        enabled: t.enabled,
        portals: t.portals,
        generateNodeAcls: t.generate_node_acls,
        dynamicSessions: t.dynamic_sessions,
        aclSessions: t.acl_sessions,
      })),
    };
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
