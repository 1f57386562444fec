// The bench's existing volumes: fill0, fill1, ... (ha 3, 16 MiB, through the
// gluster-block CLI on n1), made and deleted in waves of `wave` at a time so
// that a hundred of them take minutes, not half an hour, in the emulated VMs.
// A failed create is retried once, after a delete of whatever it left; a
// second failure fails the bench with both messages.
import type { Lab } from "../test/e2e/harness/lab.js";
import { cli } from "../test/e2e/harness/product.js";

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
  /** deletes every volume a fill tried to make */
  removeAll(): Promise<void>;
}

export function filler(lab: Lab, wave: number, log: (s: string) => void): Filler {
  const n1 = lab.node(1);
  const hosts = lab.addresses.join(",");
  const name = (i: number): string => `${lab.volume}/fill${i}`;
  let existing = 0;
  let tried = 0;
  const createOne = async (i: number): Promise<void> => {
    const args = ["create", name(i), "ha", "3", "prealloc", "no", hosts, "16MiB"];
    const first = await cli(n1, args);
    if (first.code === 0) return;
    log(`create fill${i} failed (${first.code}), retrying once: ${(first.stderr || first.stdout).trim()}`);
    await cli(n1, ["delete", name(i), "force"]);
    const again = await cli(n1, args);
    if (again.code !== 0) throw new Error(`gluster-block create fill${i} failed twice: ${(first.stderr || first.stdout).trim()} / then: ${(again.stderr || again.stdout).trim()}`);
  };
  return {
    get existing(): number {
      return existing;
    },
    async fill(target: number): Promise<void> {
      const t0 = performance.now();
      while (existing < target) {
        const batch = range(existing, Math.min(existing + wave, target));
        tried = Math.max(tried, existing + batch.length);
        const err = reasonOf(await Promise.allSettled(batch.map(createOne)));
        if (err) throw err;
        existing += batch.length;
      }
      log(`${existing} existing volumes (filled ${wave} at a time in ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    },
    async removeAll(): Promise<void> {
      for (const batch of Array.from({ length: Math.ceil(tried / wave) }, (_, k) => range(k * wave, Math.min((k + 1) * wave, tried)))) {
        await Promise.allSettled(batch.map((i) => cli(n1, ["delete", name(i)])));
      }
      existing = tried = 0;
    },
  };
}
