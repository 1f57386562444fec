// Tests only: gluster-blockd kills itself with SIGKILL right after a chosen
// durable step of the engine (block-engine.ts `faults`), as a crashed node
// would stop: no cleanup, no lock released by hand, nothing flushed. The lab's fault
// matrix (test/e2e/fault-matrix.e2e.test.ts) stops each operation after each
// of its steps in turn this way and checks that the retry converges.
//
// Nothing happens unless GLUSTER_BLOCKD_TEST_HOOKS=1; then blockd warns at
// start, logs every step at debug level ("engine step", so a test learns the
// steps from an uninterrupted run), and crashes after
//   GLUSTER_BLOCKD_TEST_CRASH_AFTER=<step>[#n]   the n-th such step since start (default 1), or
//   GLUSTER_BLOCKD_TEST_CRASH_FILE=<path>        the spec read from that file at each step, when
//                                                it exists; the file is removed before the kill, so
//                                                the restarted daemon runs on (one arming, one crash)
import { readFile, unlink } from "node:fs/promises";
import { writeSync } from "node:fs";
import type { Logger } from "../../util/log.js";
import { UsageError } from "../../util/flags.js";
import type { BlockEngineOptions } from "../engine/block-engine.js";

export const TEST_HOOKS_ENV = "GLUSTER_BLOCKD_TEST_HOOKS";
export const CRASH_AFTER_ENV = "GLUSTER_BLOCKD_TEST_CRASH_AFTER";
export const CRASH_FILE_ENV = "GLUSTER_BLOCKD_TEST_CRASH_FILE";

export type EngineFaults = NonNullable<BlockEngineOptions["faults"]>;

export interface CrashSpec {
  step: string;
  /** 1 = the first time the step is reported */
  occurrence: number;
}

export class CrashSpecError extends Error {
  override readonly name = "CrashSpecError";
}

/** `<step>[#n]`, e.g. `journal:create-done` or `lio-apply:10.0.0.2#2`. */
export function parseCrashSpec(text: string): CrashSpec {
  const m = /^([^\s#]+)(?:#([1-9]\d*))?$/.exec(text.trim());
  if (!m?.[1]) throw new CrashSpecError(`crash spec ${JSON.stringify(text)} is not <step>[#n] (e.g. journal:create-done or lio-apply:10.0.0.2#2)`);
  return { step: m[1], occurrence: m[2] ? Number(m[2]) : 1 };
}

export interface CrashHookDeps {
  log: Logger;
  /** the crash; default SIGKILL to this process */
  kill?: (step: string) => void;
  /** the spec file's content, undefined when it does not exist */
  readSpec?: (path: string) => Promise<string | undefined>;
  removeSpec?: (path: string) => Promise<void>;
}

function sigkillSelf(step: string): void {
  // the logger may not get to write before the kill: say it on stderr directly
  writeSync(2, `gluster-blockd: TEST HOOK: SIGKILL after engine step ${step}\n`);
  process.kill(process.pid, "SIGKILL");
}

const readIfExists = (path: string): Promise<string | undefined> =>
  readFile(path, "utf8").catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  });

/**
 * The engine's faults hook for this environment, or undefined (production:
 * no hook at all). A malformed GLUSTER_BLOCKD_TEST_CRASH_AFTER is a
 * UsageError at start.
 */
export function testCrashHook(env: NodeJS.ProcessEnv, deps: CrashHookDeps): EngineFaults | undefined {
  const { log } = deps;
  const after = env[CRASH_AFTER_ENV] || undefined;
  const file = env[CRASH_FILE_ENV] || undefined;
  if (env[TEST_HOOKS_ENV] !== "1") {
    if (after || file) log.warn(`${CRASH_AFTER_ENV}/${CRASH_FILE_ENV} ignored: test hooks are off (${TEST_HOOKS_ENV} is not 1)`);
    return undefined;
  }
  let fixed: CrashSpec | undefined;
  try {
    fixed = after ? parseCrashSpec(after) : undefined;
  } catch (err) {
    throw new UsageError(`${CRASH_AFTER_ENV}: ${(err as Error).message}`);
  }
  log.warn("TEST HOOKS ARE ON: this gluster-blockd logs every engine step and kills itself (SIGKILL) after the one named; never run it so in production", {
    ...(after ? { crashAfter: after } : {}),
    ...(file ? { crashFile: file } : {}),
  });
  const kill = deps.kill ?? sigkillSelf;
  const readSpec = deps.readSpec ?? readIfExists;
  const removeSpec = deps.removeSpec ?? ((p: string) => unlink(p).catch(() => undefined));
  // occurrences of the armed step, counted since it was armed
  let armed = after ?? "";
  let seen = 0;

  const current = async (): Promise<{ text: string; spec: CrashSpec } | undefined> => {
    if (fixed) return { text: armed, spec: fixed };
    if (!file) return undefined;
    const text = (
      await readSpec(file).catch((err: unknown) => {
        log.error("test crash file unreadable; not crashing", { crashFile: file, error: err instanceof Error ? err.message : String(err) });
        return undefined;
      })
    )?.trim();
    if (!text) return undefined;
    try {
      return { text, spec: parseCrashSpec(text) };
    } catch (err) {
      log.error("test crash file holds no valid spec; not crashing", { crashFile: file, error: (err as Error).message });
      return undefined;
    }
  };

  return {
    async afterStep(step: string): Promise<void> {
      log.debug("engine step", { step });
      const c = await current();
      if (!c) {
        armed = "";
        seen = 0;
        return;
      }
      if (c.text !== armed) {
        armed = c.text;
        seen = 0;
      }
      if (step !== c.spec.step || ++seen !== c.spec.occurrence) return;
      log.warn("TEST HOOK: crashing after engine step", { step, occurrence: seen });
      if (!fixed && file) await removeSpec(file);
      kill(step);
    },
  };
}
