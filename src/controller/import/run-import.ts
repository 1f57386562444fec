// `gluster-block-csi import`, from parsed flags to an exit code: the
// controller's configuration (its own flags, or the running controller's:
// import-flags.ts) gives the blockd client and the Kubernetes client, the
// import runs, its report is printed. Exit 0: imported, or a dry run; 1:
// refused (nothing changed) or stopped part way (run it again).
import { setTimeout as delay } from "node:timers/promises";
import { int, str, UsageError, type ParsedFlags } from "../../util/flags.js";
import type { Logger } from "../../util/log.js";
import { validateVolumeName } from "../../identity/names.js";
import { controllerConfig } from "../config.js";
import { buildController } from "../build-controller.js";
import { importBlockdOver } from "./import-blockd.js";
import { importClaim, ImportStoppedError } from "./import-claim.js";
import { ClientNodeImportKube } from "./import-kube.js";
import { formatImport, formatStopped } from "./import-report.js";

export interface RunImportOptions {
  flags: ParsedFlags;
  driverName: string;
  log: Logger;
  /** where the blockd and Kubernetes flags came from (import-flags.ts's importArgv) */
  flagsFrom: string;
  out(text: string): void;
}

function required(f: ParsedFlags, name: string): string {
  const v = str(f, name);
  if (!v) throw new UsageError(`import: --${name} is required`);
  return v;
}

export async function runImport(o: RunImportOptions): Promise<number> {
  const f = o.flags;
  const pv = required(f, "pv");
  const hostingVolume = required(f, "hosting-volume");
  try {
    validateVolumeName(hostingVolume);
  } catch (err) {
    throw new UsageError(`--hosting-volume: ${err instanceof Error ? err.message : String(err)}`);
  }
  const waitForPodsGoneMs = (int(f, "wait-for-pods-gone", 0, 86_400) ?? 0) * 1000;
  const cfg = controllerConfig(f, o.driverName);
  const built = await buildController(cfg, o.log);
  try {
    if (!built.kubeConfig) throw new UsageError("import: needs the Kubernetes API: run it in the controller's container, or give --kubeconfig");
    const deps = {
      kube: new ClientNodeImportKube(built.kubeConfig),
      blockd: importBlockdOver(built.deps.blockd),
      secrets: built.deps.secrets,
      driverName: o.driverName,
      sleep: (ms: number) => delay(ms),
      now: () => Date.now(),
    };
    const report = { pv, driverNamespace: cfg.namespace, flagsFrom: o.flagsFrom };
    try {
      const r = await importClaim(deps, { pv, hostingVolume, dryRun: f.values["dry-run"] === true, waitForPodsGoneMs });
      o.out(formatImport(r, report));
      return r.outcome === "refused" ? 1 : 0;
    } catch (err) {
      if (!(err instanceof ImportStoppedError)) throw err;
      o.out(formatStopped(err, report));
      return 1;
    }
  } finally {
    built.close();
  }
}
