// One coordinating gluster-blockd engine in a process of its own, with its
// own FUSE mount of the hosting volume (its own glusterfs client) and three
// in-memory LIO nodes: what two storage nodes racing for one block look like
// to the volume. Driven by test/integration/harness/engine-process.ts over
// JSON lines (commands on stdin, events on stdout).
//
// The wall clock can be set off (clockOffsetMs): Date and Date.now run that
// far ahead or behind, as on a node whose clock is wrong.
import { createInterface } from "node:readline";
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import type { EngineProcessConfig, EngineCommand, EngineEvent } from "./engine-process.js";
import type { VolumeInfo } from "../../../src/glusterblock/gluster/gluster-cli.js";
import { StartedVolumes } from "../../../src/glusterblock/engine/started-volumes.js";

const cfg = JSON.parse(process.argv[2] ?? "{}") as EngineProcessConfig;

if (cfg.clockOffsetMs) {
  const RealDate = Date;
  const offset = cfg.clockOffsetMs;
  class SkewedDate extends RealDate {
    constructor(...args: [] | [string | number | Date]) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(args[0]);
    }
    static override now(): number {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = SkewedDate as unknown as DateConstructor;
}

// imported after the clock is set, so that no module keeps the real Date
const { exec } = await import("../../../src/util/exec.js");
const { nullLogger } = await import("../../../src/util/log.js");
const { GlusterCli } = await import("../../../src/glusterblock/gluster/gluster-cli.js");
const { VolumeMounts } = await import("../../../src/glusterblock/volume/mounts.js");
const { ConfigfsLioTargets } = await import("../../../src/glusterblock/lio/configfs-lio-targets.js");
const { FakeConfigfs } = await import("../../doubles/fake-configfs.js");
const { LocalNode } = await import("../../../src/glusterblock/engine/local-node.js");
const { BlockEngine } = await import("../../../src/glusterblock/engine/block-engine.js");
const { InProcessPeers } = await import("./engine-cluster.js");

const emit = (e: EngineEvent): void => void process.stdout.write(`${JSON.stringify(e)}\n`);

const mounts = new VolumeMounts({ exec, root: cfg.mountRoot, volfileServer: cfg.volfileServer });
const nodes = new Map(
  cfg.hosts.map((host) => {
    const configfs = new FakeConfigfs();
    const lio = new ConfigfsLioTargets({ fs: configfs });
    return [
      host,
      {
        host,
        configfs,
        lio,
        local: new LocalNode({ host, mounts, lio, exec, volfileServer: "localhost", log: nullLogger }),
        down: false,
        recoverAfterCrash: false,
      },
    ];
  }),
);

/** A waiting point the parent opens with a command: "resume" for a step pause, "open" for the gate. */
class Latch {
  private waiters: (() => void)[] = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  open(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
const resume = new Latch();
const gate = new Latch();
let pauseAt: string | undefined;
let gated = false;

/** The gate: after the volume check every operation starts with, just before the engine takes the block's lock. */
class GatedGlusterCli extends GlusterCli {
  override async volumeInfo(volume: string): Promise<VolumeInfo> {
    const info = await super.volumeInfo(volume);
    if (gated) {
      gated = false;
      emit({ event: "gated" });
      await gate.wait();
    }
    return info;
  }
}

const engine = new BlockEngine({
  host: cfg.host,
  mounts,
  gluster: new GatedGlusterCli({ exec, glusterdSocket: cfg.glusterdSocket }),
  peers: new InProcessPeers(nodes),
  exec,
  log: nullLogger,
  lockWaitMs: cfg.lockWaitMs,
  // every operation asks glusterd: the gate above is that question
  startedVolumes: new StartedVolumes(0),
  faults: {
    async afterStep(step: string): Promise<void> {
      // every step is taken holding the block's lock: the trace shows whose steps interleave
      if (cfg.trace) await appendFile(join(mounts.dirOf(cfg.volume), cfg.trace), `${cfg.name} ${step}\n`);
      emit({ event: "step", step });
      if (step === pauseAt) {
        pauseAt = undefined;
        emit({ event: "paused", step });
        await resume.wait();
      }
      if (cfg.stepDelayMs) await new Promise((r) => setTimeout(r, cfg.stepDelayMs));
    },
  },
});

async function run(cmd: Extract<EngineCommand, { cmd: "run" }>): Promise<void> {
  pauseAt = cmd.pauseAt;
  gated = cmd.gate ?? false;
  const started = performance.now();
  try {
    if (cmd.op === "allow") await engine.setInitiatorAccess({ volume: cfg.volume, block: cmd.block, initiator: cmd.initiator ?? "", allow: true });
    else await engine.modifyAuth({ volume: cfg.volume, block: cmd.block, enable: true });
    emit({ event: "done", ok: true, ms: Math.round(performance.now() - started) });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    emit({ event: "done", ok: false, error: e.name, message: e.message, ms: Math.round(performance.now() - started) });
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as EngineCommand;
  if (cmd.cmd === "warm") {
    await engine.store(cfg.volume);
    emit({ event: "warm", now: Date.now() });
  } else if (cmd.cmd === "run") void run(cmd);
  else if (cmd.cmd === "resume") resume.open();
  else if (cmd.cmd === "open") gate.open();
  else if (cmd.cmd === "quit") break;
}
await mounts.unmount(cfg.volume).catch(() => undefined);
process.exit(0);
