import { test } from "node:test";
import assert from "node:assert/strict";
import { status as grpcStatus } from "@grpc/grpc-js";
import { BATCH, statusInBatches } from "../../../../src/glusterblock/blockd/status-batches.js";
import type { PeerRef, TargetResult, TargetStatusAnswer } from "../../../../src/glusterblock/engine/peers.js";

const HOST = "10.213.0.12";
const refs = (n: number): PeerRef[] => Array.from({ length: n }, (_, i) => ({ volume: "block-test", block: `b${i}`, gbid: `g${i}` }));
const ok = (ref: PeerRef): TargetResult => ({ host: HOST, present: true, matches: true, detail: ref.block });
const grpcError = (code: number, message: string): Error => Object.assign(new Error(message), { code });

test("a volume's blocks go to a peer in calls of at most BATCH, answers in the refs' order", async () => {
  const sizes: number[] = [];
  const all = refs(2 * BATCH + 3);
  const answers = await statusInBatches(HOST, all, {
    batch: (part) => {
      sizes.push(part.length);
      return Promise.resolve(part.map(ok));
    },
    one: () => Promise.reject(new Error("not called")),
  });
  assert.deepEqual(sizes, [BATCH, BATCH, 3]);
  assert.deepEqual(answers, all.map(ok));
});

test("a peer that does not know TargetStatuses is asked one block at a time; a block's failure is its answer", async () => {
  const asked: string[] = [];
  const answers = await statusInBatches(HOST, refs(5), {
    batch: () => Promise.reject(grpcError(grpcStatus.UNIMPLEMENTED, "12 UNIMPLEMENTED: TargetStatuses")),
    one: (ref) => {
      asked.push(ref.block);
      return ref.block === "b2" ? Promise.reject(grpcError(grpcStatus.NOT_FOUND, "5 NOT_FOUND: no block b2")) : Promise.resolve(ok(ref));
    },
  });
  assert.deepEqual(asked.sort(), ["b0", "b1", "b2", "b3", "b4"]);
  const want: TargetStatusAnswer[] = refs(5).map((r) => (r.block === "b2" ? { host: HOST, error: "5 NOT_FOUND: no block b2" } : ok(r)));
  assert.deepEqual(answers, want);
});

test("a peer that cannot be reached fails the whole status (each block is then reported unreachable by the caller)", async () => {
  await assert.rejects(
    statusInBatches(HOST, refs(3), {
      batch: () => Promise.reject(grpcError(grpcStatus.UNAVAILABLE, "14 UNAVAILABLE: connect ECONNREFUSED")),
      one: () => Promise.reject(new Error("not called")),
    }),
    /UNAVAILABLE/,
  );
});

test("an answer with the wrong number of results is refused, not matched up by position", async () => {
  await assert.rejects(
    statusInBatches(HOST, refs(3), { batch: (part) => Promise.resolve(part.slice(1).map(ok)), one: () => Promise.reject(new Error("not called")) }),
    /2 results for 3 blocks/,
  );
});
