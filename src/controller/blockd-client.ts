// The controller's side of blockd's TCP API: one channel per endpoint, the
// shared key and the request id on every call, a deadline on every call, the
// CSI call's cancellation passed on (a cancelled CSI call cancels its blockd
// call), and every failure mapped to a StatusError (errors.ts). Calls that may go to any
// node pick the first endpoint whose channel connects, so one node down costs
// a connect timeout, not a failed operation. With TLS, the controller's own
// certificate (DNS:gluster-block-csi-controller: blockd serves it the Blockd
// service, never the peer RPCs) is the client certificate and every blockd is
// checked against DNS:gluster-blockd, not the IP address dialled (rpc/tls.ts).
import { connectivityState, Metadata, status } from "@grpc/grpc-js";
import { blockdProto } from "../rpc/proto.js";
import { unary } from "../rpc/unary-client.js";
import { StatusError, unavailable } from "../rpc/errors.js";
import { REQUEST_ID_HEADER } from "../rpc/rpc.js";
import { withKey } from "../rpc/peer-auth.js";
import { blockdTransport, BLOCKD_TLS_NAME, type BlockdTls, type BlockdTransport } from "../rpc/tls.js";
import type { BlockdClient as GrpcBlockdClient } from "../generated/glusterblock/v1/Blockd.js";
import type { CreateBlockRequest } from "../generated/glusterblock/v1/CreateBlockRequest.js";
import type { CreateBlockResponse__Output } from "../generated/glusterblock/v1/CreateBlockResponse.js";
import type { DeleteBlockRequest } from "../generated/glusterblock/v1/DeleteBlockRequest.js";
import type { DeleteBlockResponse__Output } from "../generated/glusterblock/v1/DeleteBlockResponse.js";
import type { ResizeBlockRequest } from "../generated/glusterblock/v1/ResizeBlockRequest.js";
import type { ResizeBlockResponse__Output } from "../generated/glusterblock/v1/ResizeBlockResponse.js";
import type { GetBlockRequest } from "../generated/glusterblock/v1/GetBlockRequest.js";
import type { BlockInfo__Output } from "../generated/glusterblock/v1/BlockInfo.js";
import type { ListBlocksRequest } from "../generated/glusterblock/v1/ListBlocksRequest.js";
import type { ListBlocksResponse__Output } from "../generated/glusterblock/v1/ListBlocksResponse.js";
import type { SetInitiatorAccessRequest } from "../generated/glusterblock/v1/SetInitiatorAccessRequest.js";
import type { SetInitiatorAccessResponse__Output } from "../generated/glusterblock/v1/SetInitiatorAccessResponse.js";
import type { GetVolumeSpaceRequest } from "../generated/glusterblock/v1/GetVolumeSpaceRequest.js";
import type { VolumeSpace__Output } from "../generated/glusterblock/v1/VolumeSpace.js";
import type { AuditRequest } from "../generated/glusterblock/v1/AuditRequest.js";
import type { AuditReport__Output } from "../generated/glusterblock/v1/AuditReport.js";
import type { NodeStatus__Output } from "../generated/glusterblock/v1/NodeStatus.js";
import type { TargetStatusReport__Output } from "../generated/glusterblock/v1/TargetStatusReport.js";
import type { ReloadBlockResponse__Output } from "../generated/glusterblock/v1/ReloadBlockResponse.js";
import type { GetTargetStatusesRequest } from "../generated/glusterblock/v1/GetTargetStatusesRequest.js";
import type { TargetStatusReports__Output } from "../generated/glusterblock/v1/TargetStatusReports.js";
import type { AdoptBlockRequest } from "../generated/glusterblock/v1/AdoptBlockRequest.js";
import type { AdoptBlockResponse__Output } from "../generated/glusterblock/v1/AdoptBlockResponse.js";
import type { BlockdDiscovery } from "./discovery.js";
import { blockdError } from "./errors.js";
import type { Logger } from "../util/log.js";

/** Request and response of each blockd method the controller uses. */
export interface BlockdMethods {
  CreateBlock: [CreateBlockRequest, CreateBlockResponse__Output];
  DeleteBlock: [DeleteBlockRequest, DeleteBlockResponse__Output];
  ResizeBlock: [ResizeBlockRequest, ResizeBlockResponse__Output];
  GetBlock: [GetBlockRequest, BlockInfo__Output];
  ListBlocks: [ListBlocksRequest, ListBlocksResponse__Output];
  SetInitiatorAccess: [SetInitiatorAccessRequest, SetInitiatorAccessResponse__Output];
  ReloadBlock: [GetBlockRequest, ReloadBlockResponse__Output];
  GetVolumeSpace: [GetVolumeSpaceRequest, VolumeSpace__Output];
  Audit: [AuditRequest, AuditReport__Output];
  GetNodeStatus: [Record<string, never>, NodeStatus__Output];
  GetTargetStatus: [GetBlockRequest, TargetStatusReport__Output];
  GetTargetStatuses: [GetTargetStatusesRequest, TargetStatusReports__Output];
  /** `gluster-block-csi import` only: a block made by the original gluster-block to per-initiator ACLs */
  AdoptBlock: [AdoptBlockRequest, AdoptBlockResponse__Output];
}
export type BlockdMethod = keyof BlockdMethods;

/** Methods that change nothing get the short deadline. */
const READ_ONLY: ReadonlySet<BlockdMethod> = new Set<BlockdMethod>([
  "GetBlock",
  "ListBlocks",
  "GetVolumeSpace",
  "GetNodeStatus",
  "Audit",
  "GetTargetStatus",
  "GetTargetStatuses",
]);

export interface BlockdClientOptions {
  discovery: BlockdDiscovery;
  /** the shared key blockd's TCP API requires */
  key?: string;
  log: Logger;
  /** mutual TLS; without it the channels are plain TCP */
  tls?: BlockdTls;
  /** deadline of calls that change state: create with full prealloc is slow (default 300 s) */
  mutateTimeoutMs?: number;
  /** deadline of queries (default 30 s) */
  queryTimeoutMs?: number;
  /** how long to wait for a channel to connect before trying the next endpoint (default 3 s) */
  connectTimeoutMs?: number;
  /** when no endpoint connected within connectTimeoutMs: how long to wait for the first that does (default 20 s) */
  patientConnectTimeoutMs?: number;
}

/** The CSI call a blockd call is made for (an RpcContext is one): its request id, so logs correlate, and its cancellation. */
export interface Caller {
  readonly requestId?: string;
  readonly signal?: AbortSignal;
}

/**
 * The caller cancelled while its call waited for a channel: reported as the
 * call itself cancelled before it was sent would be (unary-client.ts's
 * CANCELLED, through blockdError).
 */
function notSent(where: string, what: string): StatusError {
  return blockdError(new StatusError(status.CANCELLED, `${what} not sent: the caller cancelled`), where);
}

export interface NodeLoad {
  endpoint: string;
  /** the node's own address, as in portals and HA host lists */
  host: string;
  activePaths: number;
  targets: number;
  ready: boolean;
}

export class BlockdClient {
  private readonly clients = new Map<string, GrpcBlockdClient>();
  private preferred: string | undefined;
  private readonly transport: BlockdTransport;

  constructor(private readonly opts: BlockdClientOptions) {
    this.transport = blockdTransport(opts.tls);
  }

  get discovery(): BlockdDiscovery {
    return this.opts.discovery;
  }

  private client(endpoint: string): GrpcBlockdClient {
    let c = this.clients.get(endpoint);
    if (!c) {
      // a restarted blockd must be found again inside one connect timeout, not after grpc's default backoff of up to 2 minutes
      c = new (blockdProto().glusterblock.v1.Blockd)(endpoint, this.transport.credentials, {
        ...this.transport.options,
        "grpc.initial_reconnect_backoff_ms": 250,
        "grpc.max_reconnect_backoff_ms": 2_000,
        // ListBlocks{details} carries every block's BlockInfo (~600 bytes): the 4 MiB default ends near 7000 blocks
        "grpc.max_receive_message_length": 64 * 1024 * 1024,
      });
      this.clients.set(endpoint, c);
    }
    return c;
  }

  private metadata(requestId?: string): Metadata {
    const md = new Metadata();
    if (requestId) md.set(REQUEST_ID_HEADER, requestId);
    return withKey(this.opts.key, md);
  }

  /** Calls `method` on one endpoint; failures come back as StatusErrors. */
  async call<M extends BlockdMethod>(
    endpoint: string,
    method: M,
    req: BlockdMethods[M][0],
    caller: Caller = {},
    timeoutMs?: number,
  ): Promise<BlockdMethods[M][1]> {
    const deadline = timeoutMs ?? (READ_ONLY.has(method) ? (this.opts.queryTimeoutMs ?? 30_000) : (this.opts.mutateTimeoutMs ?? 300_000));
    const connected = (await this.connects(endpoint, caller.signal)) === "ready";
    if (caller.signal?.aborted) throw notSent(`${endpoint} ${method}`, method);
    if (!connected) throw unavailable(`gluster-blockd ${endpoint} does not connect${this.tlsHint()}`);
    try {
      return await unary<BlockdMethods[M][1]>(this.client(endpoint), method, req, {
        timeoutMs: deadline,
        metadata: this.metadata(caller.requestId),
        ...(caller.signal ? { signal: caller.signal } : {}),
      });
    } catch (err) {
      throw blockdError(err, `${endpoint} ${method}`);
    }
  }

  /** A refused handshake looks like a node that is down; say what else to check. */
  private tlsHint(): string {
    return this.opts.tls
      ? ` (if it is up: is its certificate signed by --blockd-tls-ca and named DNS:${BLOCKD_TLS_NAME}, and is ours signed by the CA it trusts and in date? its log says "refused a TLS client")`
      : "";
  }

  /**
   * Whether the endpoint's channel is or becomes READY within the timeout
   * ("ready"), fails ("failed"), or is still in an attempt to connect when
   * it ends ("timeout"). A first attempt that fails answers at once (a refused
   * connection costs nothing); a channel already failing waits for its next
   * attempt, which the short reconnect backoff keeps inside the timeout.
   * When `signal` fires the wait ends at once, "failed": a cancelled CSI call
   * must not sit out a node that is down.
   */
  private connects(endpoint: string, signal?: AbortSignal, timeoutMs = this.opts.connectTimeoutMs ?? 3_000): Promise<"ready" | "failed" | "timeout"> {
    const ch = this.client(endpoint).getChannel();
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve) => {
      let attempted = false;
      let settled = false;
      const settle = (how: "ready" | "failed" | "timeout"): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        resolve(how);
      };
      const onAbort = (): void => settle("failed");
      const step = (): void => {
        // a watch still pending after the caller cancelled finds the answer given
        if (settled) return;
        const s = ch.getConnectivityState(true);
        if (s === connectivityState.READY) return settle("ready");
        if (s === connectivityState.SHUTDOWN) return settle("failed");
        if (s === connectivityState.CONNECTING) attempted = true;
        if (s === connectivityState.TRANSIENT_FAILURE && attempted) return settle("failed");
        // at the deadline: "timeout" only while an attempt is under way (a slow handshake), not a channel backing off after failures
        ch.watchConnectivityState(s, deadline, (err) =>
          err ? settle(ch.getConnectivityState(false) === connectivityState.CONNECTING ? "timeout" : "failed") : step(),
        );
      };
      if (signal?.aborted) return settle("failed");
      signal?.addEventListener("abort", onAbort, { once: true });
      step();
    });
  }

  /** The first endpoint that connects, trying `prefer` first, then the last one that worked; all are tried at once, each wait ending when the caller cancels. */
  async pick(prefer: readonly string[] = [], caller: Caller = {}): Promise<string> {
    const all = await this.opts.discovery.endpoints();
    if (all.length === 0) throw unavailable(`no gluster-blockd endpoint is known (${this.opts.discovery.describe()})`);
    const order = [...new Set([...prefer.filter((e) => all.includes(e)), ...(this.preferred && all.includes(this.preferred) ? [this.preferred] : []), ...all])];
    const attempts = order.map((e) => this.connects(e, caller.signal));
    const slow: string[] = [];
    for (const [i, e] of order.entries()) {
      const how = await attempts[i];
      if (caller.signal?.aborted) throw notSent(order.join(", "), "the call");
      if (how === "timeout") slow.push(e);
      if (how === "ready") {
        this.preferred = e;
        return e;
      }
      this.opts.log.warn("gluster-blockd endpoint does not connect; trying the next", { endpoint: e, ...(this.opts.tls ? { tls: true } : {}) });
    }
    // None within the short wait: a loaded cluster, or a process of its own first
    // TLS handshakes on busy nodes (the import, run beside the controller in
    // the Kubernetes lab, failed so). One longer wait for the first of those
    // still connecting to connect; those that refused are not waited for, so a
    // cluster that is down answers as fast as before.
    const late = await firstOf(slow, async (e) => (await this.connects(e, caller.signal, this.opts.patientConnectTimeoutMs ?? 20_000)) === "ready");
    if (caller.signal?.aborted) throw notSent(order.join(", "), "the call");
    if (late !== undefined) {
      this.opts.log.info("gluster-blockd endpoint connected after a longer wait", { endpoint: late });
      this.preferred = late;
      return late;
    }
    throw unavailable(`no gluster-blockd reachable (${this.opts.discovery.describe()}: ${order.join(", ")})${this.tlsHint()}`);
  }

  /** Calls `method` on any reachable endpoint (`prefer` first). */
  async any<M extends BlockdMethod>(method: M, req: BlockdMethods[M][0], caller: Caller = {}, prefer: readonly string[] = []): Promise<BlockdMethods[M][1]> {
    return this.call(await this.pick(prefer, caller), method, req, caller);
  }

  /** GetNodeStatus of every known endpoint, in parallel; unreachable ones are left out. */
  async nodes(caller: Caller = {}, timeoutMs = 5_000): Promise<NodeLoad[]> {
    const all = await this.opts.discovery.endpoints();
    const results = await Promise.allSettled(all.map((e) => this.call(e, "GetNodeStatus", {}, caller, timeoutMs)));
    const out: NodeLoad[] = [];
    results.forEach((r, i) => {
      const endpoint = all[i] ?? "";
      if (r.status === "rejected") {
        this.opts.log.warn("gluster-blockd node does not answer", { endpoint, error: r.reason instanceof Error ? r.reason.message : String(r.reason) });
        return;
      }
      const s = r.value;
      out.push({ endpoint, host: s.host, activePaths: s.active_paths, targets: s.targets, ready: s.ready });
    });
    return out;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/** The first of `items` whose check answers true (all checked at once), or undefined when none does. */
function firstOf<T>(items: readonly T[], check: (item: T) => Promise<boolean>): Promise<T | undefined> {
  return new Promise((resolve) => {
    let left = items.length;
    if (left === 0) resolve(undefined);
    for (const item of items)
      void check(item).then(
        (ok) => {
          left--;
          if (ok) resolve(item);
          else if (left === 0) resolve(undefined);
        },
        () => {
          left--;
          if (left === 0) resolve(undefined);
        },
      );
  });
}
