// A peer's status of many blocks, over the wire: TargetStatuses calls of at
// most BATCH refs each (a bounded message and deadline however large the
// volume), one after another. A peer too old to know TargetStatuses answers
// UNIMPLEMENTED: its blocks are then asked one TargetStatus each, a few at a
// time, as before the batch call existed.
import { status as grpcStatus } from "@grpc/grpc-js";
import type { PeerRef, TargetResult, TargetStatusAnswer } from "../engine/peers.js";
import { mapLimit } from "../../util/map-limit.js";

/** refs per TargetStatuses call: ~150 bytes each in the request, ~100-300 in the answer */
export const BATCH = 1000;
/** TargetStatus calls at once to a peer without TargetStatuses */
const ONE_BY_ONE = 4;

export interface StatusCalls {
  batch(refs: readonly PeerRef[]): Promise<TargetStatusAnswer[]>;
  one(ref: PeerRef): Promise<TargetResult>;
}

const isUnimplemented = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === grpcStatus.UNIMPLEMENTED;

export async function statusInBatches(host: string, refs: readonly PeerRef[], calls: StatusCalls): Promise<TargetStatusAnswer[]> {
  const out: TargetStatusAnswer[] = [];
  for (let i = 0; i < refs.length; i += BATCH) {
    const part = refs.slice(i, i + BATCH);
    try {
      const answers = await calls.batch(part);
      if (answers.length !== part.length) throw new Error(`TargetStatuses answered ${answers.length} results for ${part.length} blocks`);
      out.push(...answers);
    } catch (err) {
      if (!isUnimplemented(err)) throw err;
      return [...out, ...(await oneByOne(host, refs.slice(i), calls))];
    }
  }
  return out;
}

function oneByOne(host: string, refs: readonly PeerRef[], calls: StatusCalls): Promise<TargetStatusAnswer[]> {
  return mapLimit(refs, ONE_BY_ONE, (ref) =>
    calls.one(ref).catch((err: unknown): TargetStatusAnswer => ({ host, error: err instanceof Error ? err.message : String(err) })),
  );
}
