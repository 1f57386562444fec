// What every host's LIO holds for many blocks, against their journals: each
// host asked once for all the blocks it exports (Peers.statusMany), every host
// at once. Asking per block and per host, one call after another, cost the
// audit three round trips and three journal reads per HA-3 block.
import { exportedOn, type BlockMeta } from "../journal/index.js";
import type { PeerRef, Peers, TargetResult } from "./peers.js";

const unreachable = (host: string, why: string): TargetResult => ({ host, present: false, matches: false, detail: `unreachable: ${why}` });
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class TargetStatuses {
  private constructor(private readonly byBlock: Map<string, Map<string, TargetResult>>) {}

  /**
   * The status of each block on each host it is exported on (or each of
   * `hostsOf` its hosts). A host that cannot be asked, or cannot read a
   * block's journal, answers as a failed status() did: not matching, its
   * detail `unreachable: <why>`.
   */
  static async of(
    peers: Peers,
    volume: string,
    blocks: Iterable<BlockMeta>,
    hostsOf: (m: BlockMeta) => readonly string[] = exportedOn,
  ): Promise<TargetStatuses> {
    const refsByHost = new Map<string, PeerRef[]>();
    for (const m of blocks) {
      for (const h of hostsOf(m)) {
        const refs = refsByHost.get(h) ?? [];
        refs.push({ volume, block: m.name, gbid: m.gbid });
        refsByHost.set(h, refs);
      }
    }
    const byBlock = new Map<string, Map<string, TargetResult>>();
    const note = (block: string, r: TargetResult): void => {
      const hosts = byBlock.get(block) ?? new Map<string, TargetResult>();
      hosts.set(r.host, r);
      byBlock.set(block, hosts);
    };
    await Promise.all(
      [...refsByHost].map(async ([host, refs]) => {
        const answers = await peers.statusMany(host, refs).catch((err: unknown) => refs.map(() => ({ host, error: message(err) })));
        refs.forEach((ref, i) => {
          const a = answers[i];
          // keyed by the host asked: an answer names the peer as it calls itself
          if (!a) note(ref.block, unreachable(host, "no answer for this block"));
          else if ("error" in a) note(ref.block, unreachable(host, a.error));
          else note(ref.block, { ...a, host });
        });
      }),
    );
    return new TargetStatuses(byBlock);
  }

  get(block: string, host: string): TargetResult {
    return this.byBlock.get(block)?.get(host) ?? unreachable(host, "not asked");
  }
}
