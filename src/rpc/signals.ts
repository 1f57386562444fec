// SIGTERM/SIGINT: stop serving (drain), then exit 0; a second signal is ignored
// while the first shutdown runs.
import type { Logger } from "../util/log.js";

export function stopOnSignalsFn(stop: () => Promise<void>, log: Logger): void {
  let once = false;
  const handler = (sig: NodeJS.Signals): void => {
    if (once) return;
    once = true;
    log.info("signal received", { signal: sig });
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error("shutdown failed", { error: String(err) });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
}
