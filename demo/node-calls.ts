// CSI Node calls for the demo: made in one client process in the VM (every
// process start is slow under qemu TCG), each call printed as its own step
// with the time the call itself took; the client's start-up is a step of
// its own, so the times add up to the wall clock.
import type { LabNode } from "../lab/harness/lab.js";
import { csiCalls, type Call, type CallResult } from "../lab/harness/node-plugin.js";
import { firstLine, type StepLog } from "./step-log.js";

export interface NodeCall extends Call {
  /** the step line's detail once the call succeeded */
  detail?: (r: CallResult) => string;
}

/** Makes the calls in order; throws at the first failure (the calls after it are not made). */
export async function nodeCalls(log: StepLog, n: LabNode, calls: readonly NodeCall[]): Promise<CallResult[]> {
  const t0 = performance.now();
  const client = `  CSI client start in ${n.name} (node + tsx under qemu TCG)`;
  let results: CallResult[];
  try {
    results = await csiCalls(
      n,
      calls.map((c) => ({ ...c, stopOnError: true })),
    );
  } catch (err) {
    log.record(client, (performance.now() - t0) / 1000, false, `FAILED: ${firstLine(err)}`);
    throw err;
  }
  const wall = (performance.now() - t0) / 1000;
  const callSeconds = results.reduce((s, r) => s + r.ms / 1000, 0);
  log.record(client, Math.max(0, wall - callSeconds), true, "");
  calls.forEach((c, i) => {
    const r = results[i];
    if (!r) return;
    // the plugin answers within its call budget (20 s) and leaves the rest to the next call, as kubelet makes it
    const retried = r.attempts > 1 ? ` (${r.attempts} calls: the plugin returns within its 20 s budget, kubelet calls again)` : "";
    log.record(c.method, r.ms / 1000, r.ok, r.ok ? `${c.detail?.(r) ?? "ok"}${retried}` : `FAILED: code ${r.code} ${r.details}`);
  });
  const failed = results.find((r) => !r.ok);
  if (failed) throw new Error(`${failed.method}: code ${failed.code} ${failed.details}`);
  if (results.length < calls.length) throw new Error(`only ${results.length} of ${calls.length} CSI calls ran`);
  return results;
}
