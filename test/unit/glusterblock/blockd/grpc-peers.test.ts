// GrpcPeers.statusMany over real gRPC on loopback, against the product's peer
// service: one TargetStatuses call per peer, each block's error carried in its
// own result; and a peer too old to know TargetStatuses still answers, one
// TargetStatus per block.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serveTcpApi, type RunningTcpApi } from "../../../../src/glusterblock/blockd/tcp-api.js";
import { GrpcPeers } from "../../../../src/glusterblock/blockd/grpc-peers.js";
import { peerService } from "../../../../src/glusterblock/blockd/services.js";
import { blockErrorToCsi } from "../../../../src/glusterblock/blockd/error-map.js";
import { BlockNotFoundError } from "../../../../src/glusterblock/errors.js";
import type { LocalNode } from "../../../../src/glusterblock/engine/local-node.js";
import type { PeerRef, TargetResult, TargetStatusAnswer } from "../../../../src/glusterblock/engine/peers.js";
import { nullLogger } from "../../../../src/util/log.js";

const KEY = "grpc-peers-test-key-0123456789";
const HOST = "127.0.0.1";
const calls: string[] = [];

const judged = (ref: PeerRef): TargetResult => ({
  host: HOST,
  present: true,
  matches: ref.block !== "b1",
  detail: ref.block === "b1" ? "size 1 instead of 2" : "ok",
});

/** a node whose block "gone" has no journal */
const node = {
  host: HOST,
  status(ref: PeerRef): Promise<TargetResult> {
    calls.push(`TargetStatus ${ref.block}`);
    return ref.block === "gone" ? Promise.reject(new BlockNotFoundError(ref.volume, ref.block)) : Promise.resolve(judged(ref));
  },
  statusMany(refs: readonly PeerRef[]): Promise<TargetStatusAnswer[]> {
    calls.push(`TargetStatuses ${refs.length}`);
    return Promise.resolve(refs.map((r) => (r.block === "gone" ? { host: HOST, error: new BlockNotFoundError(r.volume, r.block).message } : judged(r))));
  },
} as unknown as LocalNode;

const full = peerService(node);
const { TargetStatuses: _unknownToOldPeers, ...old } = full;

let current: RunningTcpApi;
let previous: RunningTcpApi;
const peersOf = (api: RunningTcpApi): GrpcPeers =>
  new GrpcPeers({ local: { host: "192.0.2.99" } as LocalNode, port: Number(api.address.split(":").pop()), key: KEY });

before(async () => {
  const serve = (peer: object): Promise<RunningTcpApi> =>
    // plain TCP on loopback: what is tested here is the batching, not the transport (test/integration/blockd-tls.test.ts)
    serveTcpApi({
      listen: { kind: "tcp", host: HOST, port: 0 },
      key: KEY,
      insecureKeyOverPlaintext: true,
      blockd: {},
      peer,
      wrap: { log: nullLogger, mapError: blockErrorToCsi },
      log: nullLogger,
    });
  current = await serve(full);
  previous = await serve(old);
});

after(async () => {
  await Promise.all([current.server.stop(), previous.server.stop()]);
});

const refs = ["b0", "b1", "gone", "b3"].map((block) => ({ volume: "hv", block, gbid: `gbid-${block}` }));

test("a peer is asked for many blocks in one call; a block it cannot read answers its own error", async () => {
  calls.length = 0;
  const peers = peersOf(current);
  try {
    const answers = await peers.statusMany(HOST, refs);
    assert.deepEqual(calls, ["TargetStatuses 4"]);
    assert.deepEqual(answers, [
      judged(refs[0] as PeerRef),
      judged(refs[1] as PeerRef),
      { host: HOST, error: new BlockNotFoundError("hv", "gone").message },
      judged(refs[3] as PeerRef),
    ]);
  } finally {
    peers.close();
  }
});

test("a peer without TargetStatuses (an older blockd) is asked one block at a time, with the same answers", async () => {
  calls.length = 0;
  const peers = peersOf(previous);
  try {
    const answers = await peers.statusMany(HOST, refs);
    assert.deepEqual(calls.sort(), refs.map((r) => `TargetStatus ${r.block}`).sort());
    assert.deepEqual(answers[0], judged(refs[0] as PeerRef));
    assert.deepEqual(answers[3], judged(refs[3] as PeerRef));
    const gone = answers[2];
    assert.ok(gone && "error" in gone, "the block with no journal answers an error");
    assert.match(gone.error, /NOT_FOUND/);
  } finally {
    peers.close();
  }
});
