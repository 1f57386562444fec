// The periodic volume health check: every interval (jittered, so replicas and
// restarts spread out; passes never overlap), each block of the known hosting
// volumes is judged as ControllerGetVolume judges it (volume-condition.ts:
// the journal's view and LIO's on every HA host), a change of condition is a
// DegradedHA or HARestored Event on its claim (health-transitions.ts, shared
// with ControllerGetVolume), and the Prometheus gauges are set.
//
// Bounded work per pass: one ListBlocks{details} per hosting volume; LIO
// checked for at most `maxChecks` blocks (GetTargetStatuses, 200 a call),
// taken in volume ID order from where the last pass stopped, so a large
// cluster is covered over several passes; at most `maxEvents` Events (the
// other changes stay unrecorded and are found again next pass); a pass ends
// after `passTimeoutMs`. A block not LIO-checked in a pass is judged on its
// journal only when that finds it abnormal; otherwise it keeps its last
// recorded condition and gauge.
//
// The controller has no leader election of its own (the sidecars do), so
// every replica runs the check. Their Events are one per claim and reason
// (pvc-events.ts): a second replica raises the count of the first one's
// Event rather than add another.
import type { BlockInfo__Output } from "../generated/glusterblock/v1/BlockInfo.js";
import { parseVolumeId } from "../csi/volume-id.js";
import type { Logger } from "../util/log.js";
import type { ControllerDeps } from "./deps.js";
import { conditionOf, pathsUp, type LioCheck } from "./volume-condition.js";
import { lioChecks, surveyBlocks } from "./volume-survey.js";

/** What the check sets: util/metrics.ts's Metrics has these. */
export interface HealthGauges {
  /** gluster_block_volumes{state}: the whole picture, states not named dropped */
  setVolumesByState(counts: Readonly<Record<string, number>>): void;
  /** gluster_block_ha_paths_up{volume} */
  setHaPathsUp(volume: string, up: number): void;
  forgetVolume(volume: string): void;
}

export interface HealthMonitorOptions {
  /** 0: no periodic check */
  intervalMs: number;
  log: Logger;
  gauges?: HealthGauges;
  /** blocks whose LIO is checked per pass (default 1000) */
  maxChecks?: number;
  /** Events per pass (default 50) */
  maxEvents?: number;
  /** a pass that takes longer is cut short (default 5 min) */
  passTimeoutMs?: number;
  /** [0, 1): the jitter's source (tests) */
  random?: () => number;
}

export interface PassReport {
  volumes: number;
  /** blocks whose LIO was checked */
  checked: number;
  events: number;
  /** changes left for the next pass (the Event budget was spent) */
  deferred: number;
  byState: Record<string, number>;
}

/** A block's state as the gauge counts it. */
export type VolumeState = "ready" | "degraded" | "creating" | "deleting" | "unreadable" | "unknown";

function stateOf(info: BlockInfo__Output, abnormal: boolean): VolumeState {
  if (info.state === "creating" || info.state === "deleting") return info.state;
  return abnormal ? "degraded" : "ready";
}

export class HealthMonitor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private stopped = false;
  private passes = 0;
  /** the last volume ID whose LIO was checked: the next pass goes on after it */
  private cursor = "";
  /** volume IDs with a ha_paths_up series */
  private gauged = new Set<string>();

  constructor(
    private readonly deps: ControllerDeps,
    private readonly opts: HealthMonitorOptions,
  ) {}

  private get random(): () => number {
    return this.opts.random ?? Math.random;
  }

  /** Starts the passes: the first after 10-30 % of the interval (metrics soon after a start), then every interval ± 10 %. */
  start(): void {
    if (this.opts.intervalMs <= 0 || this.timer || this.stopped) return;
    this.schedule(this.opts.intervalMs * (0.1 + 0.2 * this.random()));
    this.opts.log.info("volume health check on", { intervalSeconds: this.opts.intervalMs / 1000 });
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.run().finally(() => {
        this.running = undefined;
        if (!this.stopped) this.schedule(this.opts.intervalMs * (0.9 + 0.2 * this.random()));
      });
    }, ms);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    const ac = new AbortController();
    this.abort = ac;
    const deadline = setTimeout(() => ac.abort(new Error("the health check pass took too long")), this.opts.passTimeoutMs ?? 300_000);
    const started = performance.now();
    try {
      const r = await this.pass(ac.signal);
      this.opts.log.info("volume health check", { ...r, ms: Math.round(performance.now() - started) });
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      if (this.stopped) this.opts.log.debug("volume health check pass cut short: the controller is stopping", { error });
      else this.opts.log.warn("volume health check failed; the next pass tries again", { error });
    } finally {
      clearTimeout(deadline);
      this.abort = undefined;
    }
  }

  /** Stops the passes; a pass in flight is cancelled and waited for. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.abort?.abort(new Error("the controller is stopping"));
    await this.running;
  }

  /** One pass (the timer's, or a test's). */
  async pass(signal?: AbortSignal): Promise<PassReport> {
    const caller = { requestId: `health-${++this.passes}`, ...(signal ? { signal } : {}) };
    const log = this.opts.log;
    const survey = await surveyBlocks(this.deps, caller, log);
    const ids = [...survey.blocks.keys()].sort();
    const judged = ids.filter((id) => survey.blocks.get(id)?.info !== undefined);
    const toCheck = this.nextChecks(judged);
    const checks = await lioChecks(
      this.deps,
      toCheck.map((id) => survey.blocks.get(id)?.ref).filter((r) => r !== undefined),
      caller,
      log,
    );
    const maxEvents = this.opts.maxEvents ?? 50;
    const byState: Record<string, number> = {};
    let events = 0;
    let deferred = 0;
    for (const id of ids) {
      const s = survey.blocks.get(id);
      if (!s) continue;
      if (!s.info) {
        // its journal cannot be read, or blockd listed it without details: no condition to judge, no owner to tell
        const state: VolumeState = s.unreadable !== undefined ? "unreadable" : "unknown";
        byState[state] = (byState[state] ?? 0) + 1;
        continue;
      }
      const check: LioCheck | undefined = checks.get(id);
      const condition = conditionOf(s.info, check);
      const abnormal = condition.abnormal ?? false;
      const state = stateOf(s.info, abnormal);
      byState[state] = (byState[state] ?? 0) + 1;
      if (check !== undefined) this.gauge(id, pathsUp(s.info, check));
      // creates and deletes in progress are not an HA change; not checked and normal on its journal: the last record stands
      if (state === "creating" || state === "deleting" || (check === undefined && !abnormal)) continue;
      if (!this.deps.health.changes(id, abnormal)) continue;
      if (events >= maxEvents) {
        deferred++;
        continue;
      }
      await this.deps.health.note(id, s.info, condition);
      events++;
    }
    // forget what is gone: only where its hosting volume was listed (a volume that could not be listed says nothing)
    const gone = (id: string): boolean => !survey.blocks.has(id) && survey.listed.has(hostingVolumeOf(id));
    this.deps.health.prune((id) => !gone(id));
    for (const id of this.gauged) {
      if (!gone(id)) continue;
      this.opts.gauges?.forgetVolume(id);
      this.gauged.delete(id);
    }
    this.opts.gauges?.setVolumesByState(byState);
    if (deferred > 0) log.warn("more volumes changed condition than one pass sends Events for; the rest go next pass", { deferred, maxEvents });
    return { volumes: ids.length, checked: toCheck.length, events, deferred, byState };
  }

  /** The next `maxChecks` volume IDs after the cursor, wrapping around. */
  private nextChecks(ids: readonly string[]): string[] {
    const max = this.opts.maxChecks ?? 1000;
    if (ids.length <= max) {
      this.cursor = "";
      return [...ids];
    }
    const from = ids.findIndex((id) => id > this.cursor);
    const start = from < 0 ? 0 : from;
    const picked = [...ids.slice(start), ...ids.slice(0, start)].slice(0, max);
    this.cursor = picked[picked.length - 1] ?? "";
    return picked;
  }

  private gauge(id: string, up: number): void {
    if (!this.opts.gauges) return;
    this.opts.gauges.setHaPathsUp(id, up);
    this.gauged.add(id);
  }
}

/** The hosting volume of a volume ID (the survey's are all of our form). */
function hostingVolumeOf(id: string): string {
  try {
    return parseVolumeId(id).hostingVolume;
  } catch {
    return "";
  }
}
