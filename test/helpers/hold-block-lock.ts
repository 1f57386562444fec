// A process that takes one block lock and keeps it: for tests that kill or
// stop a holder. Prints "held <token>" once it holds the lock; on a line
// "check" on stdin prints "ok" or "lost <reason>"; on "release" (or stdin's
// end) lets go and exits.
//   node --import tsx test/helpers/hold-block-lock.ts <dir> <key> <owner> [waitMs]
import { createInterface } from "node:readline";
import { acquireBlockLock, LockLostError } from "../../src/glusterblock/volume/block-lock.js";

const [dir, key, owner, wait] = process.argv.slice(2);
if (!dir || !key || !owner) throw new Error("usage: hold-block-lock.ts <dir> <key> <owner> [waitMs]");
const held = await acquireBlockLock(key, { dir, owner, waitMs: Number(wait ?? 30_000) });
process.stdout.write(`held ${held.token}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line === "check") {
    const r = await held.check().then(
      () => "ok",
      (err: unknown) => (err instanceof LockLostError ? `lost ${err.reason}` : `error ${String(err)}`),
    );
    process.stdout.write(`${r}\n`);
  } else if (line === "release") break;
}
await held.release();
