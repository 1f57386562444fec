// Coordinating engines in processes of their own (engine-process-main.ts),
// each through its own FUSE mount: storage nodes racing for one block, which
// a test can stop (SIGSTOP), kill (SIGKILL), pause after a step, hold at a
// gate just before the lock, or run with a wrong clock.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ROOT } from "../../helpers/spawn-program.js";
import type { EngineCluster } from "./engine-cluster.js";
import { readExtensions } from "../../../src/glusterblock/engine/extensions.js";
import { parseJournal } from "../../../src/glusterblock/journal/index.js";
import { META_DIR } from "../../../src/glusterblock/volume/block-store.js";

export interface EngineProcessConfig {
  /** written in trace lines */
  name: string;
  volume: string;
  /** the node it coordinates from (its address) */
  host: string;
  hosts: string[];
  glusterdSocket: string;
  /** its mount's volfile server */
  volfileServer: string;
  /** its own mount root: its own glusterfs client */
  mountRoot: string;
  lockWaitMs: number;
  /** its wall clock this far off */
  clockOffsetMs?: number;
  /** a file at the volume root where every engine step is appended as "<name> <step>" */
  trace?: string;
  /** a pause after every step, to widen the windows a race needs */
  stepDelayMs?: number;
}

export type EngineCommand =
  | { cmd: "warm" }
  | { cmd: "run"; op: "allow" | "auth-on"; block: string; initiator?: string; pauseAt?: string; gate?: boolean }
  | { cmd: "resume" }
  | { cmd: "open" }
  | { cmd: "quit" };

export type EngineEvent =
  | { event: "warm"; now: number }
  | { event: "gated" }
  | { event: "step"; step: string }
  | { event: "paused"; step: string }
  | { event: "done"; ok: boolean; error?: string; message?: string; ms: number };

export class EngineProcess {
  private readonly events: EngineEvent[] = [];
  private readonly waiters = new Set<() => void>();
  private stderr = "";
  readonly exited: Promise<number | null>;
  /** how far its wall clock is from ours (ms), as it told at start */
  clockOffsetMs = 0;

  private constructor(
    readonly name: string,
    readonly child: ChildProcessWithoutNullStreams,
  ) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      this.events.push(JSON.parse(line) as EngineEvent);
      for (const w of this.waiters) w();
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => (this.stderr += d));
    child.stdin.on("error", () => undefined); // killed: commands go nowhere
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    void this.exited.then(() => {
      for (const w of this.waiters) w();
    });
  }

  /** Starts an engine coordinating from node i (1-based) of the cluster, its mount served by node `mountFrom` (default i). */
  static async start(c: EngineCluster, name: string, i: number, over: Partial<EngineProcessConfig> & { mountFrom?: number } = {}): Promise<EngineProcess> {
    const { mountFrom, ...rest } = over;
    const cfg: EngineProcessConfig = {
      name,
      volume: c.volume,
      host: c.gluster.address(i),
      hosts: c.hosts,
      glusterdSocket: c.gluster.socket(i),
      volfileServer: c.gluster.address(mountFrom ?? i),
      mountRoot: await mkdtemp(join(tmpdir(), `gb-proc-${name}-`)),
      lockWaitMs: 5_000,
      ...rest,
    };
    const child = spawn(process.execPath, ["--import", "tsx", "test/integration/harness/engine-process-main.ts", JSON.stringify(cfg)], {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const p = new EngineProcess(name, child);
    p.send({ cmd: "warm" });
    p.clockOffsetMs = (await p.next("warm", 120_000)).now - Date.now();
    return p;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  send(cmd: EngineCommand): void {
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
  }

  /** The next event of this kind not taken yet (events are kept in order, none is missed). */
  async next<K extends EngineEvent["event"]>(kind: K, timeoutMs = 60_000): Promise<Extract<EngineEvent, { event: K }>> {
    const end = performance.now() + timeoutMs;
    for (;;) {
      const i = this.events.findIndex((e) => e.event === kind);
      if (i >= 0) return this.events.splice(i, 1)[0] as Extract<EngineEvent, { event: K }>;
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`${this.name} exited waiting for "${kind}": ${this.stderr}`);
      const left = end - performance.now();
      if (left <= 0) throw new Error(`${this.name}: no "${kind}" in ${timeoutMs} ms; events: ${JSON.stringify(this.events)}; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
  }

  /** Unmounts its volume and exits. */
  async quit(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.send({ cmd: "quit" });
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 30_000))]);
    await this.kill();
  }
}

export async function quitAll(ps: readonly EngineProcess[]): Promise<void> {
  await Promise.all(ps.map((p) => p.quit()));
}

/** A CSI-like block (explicit ACLs) whose initiator list the contenders add to. */
export async function createContendedBlock(c: EngineCluster, block: string): Promise<void> {
  await c
    .engine(1)
    .create({ volume: c.volume, block, ha: 3, hosts: c.hosts, auth: false, prealloc: false, sizeBytes: 16n * 1024n * 1024n, aclMode: "EXPLICIT", owner: "" });
}

export const contenderIqn = (who: string): string => `iqn.2024-01.test.lock:${who}`;

export const journalOf = (root: string, block: string): Promise<string> => readFile(join(root, META_DIR, block), "utf8");

/** The block's initiators, sorted: one missing is an update a concurrent holder wrote over. */
export async function initiatorsOf(root: string, block: string): Promise<string[]> {
  return readExtensions(parseJournal(block, await journalOf(root, block))).initiators.sort();
}

/** A trace's lines (at the volume root), and the contenders whose steps are not in one run: they held the block while another did. */
export async function interleaved(root: string, trace: string): Promise<{ lines: string[]; split: string[] }> {
  const lines = (await readFile(join(root, trace), "utf8").catch(() => "")).trim().split("\n").filter(Boolean);
  const runs: string[] = [];
  for (const l of lines) {
    const who = l.split(" ")[0] ?? "";
    if (runs.at(-1) !== who) runs.push(who);
  }
  return { lines, split: [...new Set(runs.filter((w, i) => runs.indexOf(w) !== i))] };
}
