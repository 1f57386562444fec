// LIO's kernel side: configfs mounted, target_core_user (tcmu) and
// iscsi_target_mod loaded. Checked once per process; a failure is not cached,
// so a later call retries (the admin may have fixed it).
import { readFile } from "node:fs/promises";
import type { Exec } from "../../util/exec.js";
import type { Logger } from "../../util/log.js";
import { LioUnavailableError } from "./errors.js";

export interface ModuleDeps {
  exec: Exec;
  logger: Logger;
  /** /proc/mounts text; injectable for tests */
  readMounts?: () => Promise<string>;
  configfsMount?: string;
}

const MODULES = ["configfs", "target_core_user", "iscsi_target_mod"] as const;
let ready: Promise<void> | undefined;

export function ensureLioModules(deps: ModuleDeps): Promise<void> {
  ready ??= loadModules(deps).catch((e: unknown) => {
    ready = undefined;
    throw e;
  });
  return ready;
}

/** for tests: forget that the modules were loaded */
export function resetLioModulesForTest(): void {
  ready = undefined;
}

async function loadModules(deps: ModuleDeps): Promise<void> {
  const mountPoint = deps.configfsMount ?? "/sys/kernel/config";
  const readMounts = deps.readMounts ?? (() => readFile("/proc/mounts", "utf8"));
  try {
    for (const m of MODULES) {
      // built-in modules make modprobe succeed too; a missing one fails here
      await deps.exec("modprobe", [m], { timeoutMs: 30_000, logger: deps.logger });
    }
    const mounted = (await readMounts()).split("\n").some((l) => {
      const f = l.split(" ");
      return f[1] === mountPoint && f[2] === "configfs";
    });
    if (!mounted) {
      deps.logger.info("mounting configfs", { mountPoint });
      await deps.exec("mount", ["-t", "configfs", "configfs", mountPoint], { timeoutMs: 30_000, logger: deps.logger });
    }
  } catch (e) {
    throw new LioUnavailableError(`LIO kernel side unavailable: ${e instanceof Error ? e.message : String(e)}`);
  }
}
