// The bench's existing volumes: fill0, fill1, ... (ha 3, 16 MiB, through the
// gluster-block CLI), made in waves of `wave` at a time, the CLI run on each
// node in turn (a CLI process costs its VM's one emulated CPU ~2 s, and the
// node it runs on coordinates the create), so that hundreds of them take
// minutes, not hours. A failed create is retried once, after a delete of
// whatever it left; a second failure fails the bench with both messages.
// Afterwards the fill is wiped, not deleted one by one (500 deletes would
// take longer than the bench): blockd stopped on every node, each node's LIO
// cleared, the hosting volume emptied, blockd started again.
import type { Lab } from "../lab/harness/lab.js";
import { cli, startBlockdEverywhere, stopBlockdEverywhere } from "../lab/harness/product.js";
import { BENCH_BLOCKD_ARGS } from "./blockd-stats.js";

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);
const reasonOf = (r: PromiseSettledResult<unknown>[]): Error | undefined => {
  const failed = r.find((x): x is PromiseRejectedResult => x.status === "rejected");
  if (!failed) return undefined;
  return failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
};

export interface Filler {
  readonly existing: number;
  /** creates volumes until `target` exist */
  fill(target: number): Promise<void>;
  /** removes every volume (and any other block) from the lab, leaving blockd running */
  wipe(): Promise<void>;
}

export function filler(lab: Lab, wave: number, log: (s: string) => void): Filler {
  const cliNode = (i: number) => lab.nodes[i % lab.nodes.length]!;
  const hosts = lab.addresses.join(",");
  const name = (i: number): string => `${lab.volume}/fill${i}`;
  let existing = 0;
  const createOne = async (i: number): Promise<void> => {
    const args = ["create", name(i), "ha", "3", "prealloc", "no", hosts, "16MiB"];
    const n = cliNode(i);
    const first = await cli(n, args);
    if (first.code === 0) return;
    log(`create fill${i} failed (${first.code}), retrying once: ${(first.stderr || first.stdout).trim()}`);
    await cli(n, ["delete", name(i), "force"]);
    const again = await cli(n, args);
    if (again.code !== 0)
      throw new Error(`gluster-block create fill${i} failed twice: ${(first.stderr || first.stdout).trim()} / then: ${(again.stderr || again.stdout).trim()}`);
  };
  return {
    get existing(): number {
      return existing;
    },
    async fill(target: number): Promise<void> {
      const t0 = performance.now();
      while (existing < target) {
        const batch = range(existing, Math.min(existing + wave, target));
        const err = reasonOf(await Promise.allSettled(batch.map(createOne)));
        if (err) throw err;
        existing += batch.length;
      }
      log(`${existing} existing volumes (filled ${wave} at a time in ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    },
    async wipe(): Promise<void> {
      const t0 = performance.now();
      await stopBlockdEverywhere(lab);
      // targetctl, not targetcli: no shell loading every object first
      await Promise.all(lab.nodes.map((n) => n.must("targetctl clear", { timeoutMs: 900_000 })));
      await lab.resetState();
      await startBlockdEverywhere(lab, BENCH_BLOCKD_ARGS);
      log(`wiped the lab's volumes (${existing} filled) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      existing = 0;
    },
  };
}
