// The addresses behind pool peers known by name. glusterd lists a peer under
// the name it was probed by, and the node that probed the others is known to
// them by its hostname: on n2, n1 shows as "n1" while requests name it by
// address. Names are resolved (bounded, failures ignored) so both compare.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

const LOOKUP_TIMEOUT_MS = 3_000;

async function addressesOf(name: string): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`resolving ${name} took over ${LOOKUP_TIMEOUT_MS} ms`)), LOOKUP_TIMEOUT_MS);
  });
  try {
    return (await Promise.race([lookup(name, { all: true }), timeout])).map((a) => a.address);
  } catch {
    return [];
  } finally {
    clearTimeout(timer);
  }
}

/** Every address the non-address names resolve to; names that do not resolve add nothing. */
export async function resolvePeerNames(names: readonly string[]): Promise<string[]> {
  const toResolve = [...new Set(names.filter((n) => isIP(n) === 0 && n !== ""))];
  return (await Promise.all(toResolve.map(addressesOf))).flat();
}
