// A background task that runs every `intervalMs` and never overlaps itself;
// its failures are logged, never thrown into the process.
import type { Logger } from "../util/log.js";

export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly task: () => Promise<unknown>,
    private readonly log: Logger,
    runNow: boolean,
  ) {
    if (runNow) void this.tick();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      await this.task();
    } catch (err) {
      this.log.warn(`${this.name} failed`, { error: err instanceof Error ? err.message : String(err) });
    } finally {
      this.running = false;
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
