// npm run demo [-- --down | --keep | --cleanup | --help]: the README's first
// command. On a fresh machine it installs the lab's host packages, builds
// and boots the 3-VM lab (or reuses the running one), starts gluster-blockd
// on the storage VMs, runs the seed's example with the gluster-block CLI and
// a hand-driven initiator, then the same through CSI: through a real
// Kubernetes cluster in the lab when Kubernetes binaries are given
// (K8S_BIN_DIR, see lab/k8s/config.ts), otherwise with this program playing
// the sidecars and the kubelet. It removes everything it made, printing each
// step and its time.
// No CHAP password reaches the output (see secrets.ts).
import { join } from "node:path";
import { ensureLab, type Lab } from "../lab/harness/lab.js";
import { BLOCKD_KEY, buildProduct, startBlockdEverywhere, stopBlockdEverywhere } from "../lab/harness/product.js";
import { ensureImageOn, LAB_IMAGE } from "../lab/harness/product-image.js";
import { HOSTING_VOLUME, LAB_SCRIPTS } from "../lab/config.js";
import { failureMessage, run } from "../lab/proc.js";
import { down, isClean } from "../lab/teardown.js";
import { runningVms } from "../lab/vm.js";
import type { DemoContext } from "./context.js";
import { k8sBins, K8S_SKIP } from "../lab/k8s/config.js";
import { csiExample } from "./csi-example.js";
import { k8sExample, sweepK8s } from "./k8s-example.js";
import { parseDemoFlags, USAGE, type DemoFlags } from "./flags.js";
import { sweepLeftovers } from "./leftovers.js";
import { Scrubber } from "./secrets.js";
import { seedExample } from "./seed-example.js";
import { StepLog } from "./step-log.js";

async function installHostPackages(): Promise<string> {
  const r = await run("bash", [join(LAB_SCRIPTS, "install-host-deps.sh")], { teeStderr: true, timeoutMs: 1_800_000 });
  if (r.code !== 0) throw new Error(failureMessage("install-host-deps.sh", r));
  return "qemu, debootstrap, glusterfs, xfsprogs, ... present";
}

async function bootOrReuseLab(): Promise<{ lab: Lab; detail: string }> {
  const lab = await ensureLab({ nodes: 3 });
  const nodes = lab.nodes.map((n) => `${n.name} ${n.address}`).join(", ");
  return { lab, detail: `${lab.reused ? "reused the running lab" : "booted"}: ${nodes}; replica-3 volume ${HOSTING_VOLUME} started` };
}

async function demo(flags: DemoFlags, log: StepLog, scrubber: Scrubber): Promise<boolean> {
  let lab: Lab | undefined;
  let blockd = false;
  const problems: string[] = [];
  let ok = false;
  try {
    log.heading(`the lab: 3 storage VMs under qemu, Gluster volume ${HOSTING_VOLUME} (replica 3)`);
    if (process.getuid?.() !== 0) throw new Error("the lab needs root (a bridge, taps, qemu): run the demo as root");
    if (runningVms().length === 0) await log.step("host packages for the lab (apt-get, only what is missing)", installHostPackages, (d) => d);
    const booted = await log.step("boot the 3-VM lab, or reuse the running one (first time: builds the image)", bootOrReuseLab, (r) => r.detail);
    lab = booted.lab;
    const theLab = lab;
    await log.step("npm run build (the CSI client that plays the kubelet, shared over 9p)", () => Promise.resolve(buildProduct()));
    await log.step(
      "the product image in every VM (npm run image's build, podman load)",
      () => Promise.all(theLab.nodes.map((n) => ensureImageOn(n))),
      () => `${LAB_IMAGE}: gluster-blockd and the node plugin run from it as the chart runs them`,
    );
    const kube = k8sBins() !== undefined;
    // the chart's pods of a kept run hold blockd's port and the plugin's socket
    if (kube)
      await log.step(
        "remove what an earlier run left in Kubernetes (--keep, or cut short)",
        () => sweepK8s(theLab),
        (d) => d,
      );
    blockd = true;
    await log.step(
      `start gluster-blockd on ${theLab.nodes.map((n) => n.name).join(" ")}`,
      () => startBlockdEverywhere(theLab),
      () => "containers from the chart's DaemonSet; CLI: podman exec gluster-blockd gluster-block; peer API TCP 24010 (mutual TLS + shared key)",
    );
    const ctx: DemoContext = { lab: theLab, initiator: theLab.node(1), log, scrubber, flags, problems };
    await log.step(
      "remove what an earlier run left (--keep, or cut short)",
      () => sweepLeftovers(ctx),
      (d) => d,
    );
    if (!flags.cleanup) {
      log.heading("1. the seed's example: gluster-block CLI on n1, a hand-driven iSCSI initiator on n1");
      await seedExample(ctx);
      if (kube) {
        log.heading("2. the same through Kubernetes: helm install, the chart's StorageClass, a PVC, a pod on n1 that writes");
        await k8sExample(ctx);
      } else {
        log.heading("2. the same through CSI: this program plays the sidecars and kubelet; controller here, node plugin on n1");
        log.say(`  (not through Kubernetes: ${K8S_SKIP})`);
        await csiExample(ctx);
      }
    }
    ok = true;
  } catch (err) {
    log.say(`\nFAILED: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    log.heading("end");
    if (lab && blockd && !flags.keep) {
      const l = lab;
      await log
        .step("stop gluster-blockd on the storage VMs", () => stopBlockdEverywhere(l))
        .catch((err: unknown) => problems.push(`stop blockd: ${String(err)}`));
    }
    if (flags.down) {
      await log
        .step("power the lab off (--down)", async () => {
          const left = await down();
          if (!isClean(left)) throw new Error(`lab leftovers: ${JSON.stringify(left)}`);
        })
        .catch((err: unknown) => problems.push(`lab down: ${String(err)}`));
    }
  }
  log.say("\nstep times:");
  log.say(log.summary());
  log.say("");
  for (const p of problems) log.say(`PROBLEM: ${p}`);
  if (flags.keep && ok) {
    log.say("Kept for exploring (gluster-blockd and the node plugin still run), e.g.:");
    log.say("  npm run lab -- ssh 1 /lab/node/bin/node /lab/repo/dist/bundle/gluster-block.js list block-test");
    log.say("  npm run lab -- ssh 1 'multipath -ll; findmnt /mnt/sample-block; iscsiadm -m session'");
    log.say("Remove it all with: npm run demo -- --cleanup");
  }
  // say what is true of the lab now: a demo that failed before booting it started none
  const labUp = !flags.down && runningVms().length > 0;
  if (labUp) log.say("The lab is still running (the next run reuses it in seconds). Power it off with: npm run lab -- down");
  if (!ok || problems.length > 0)
    log.say(labUp || lab ? "The demo FAILED. The VMs' journals and consoles: npm run lab -- logs" : "The demo FAILED before any lab VM was running.");
  return ok && problems.length === 0;
}

async function main(argv: string[]): Promise<number> {
  let flags: DemoFlags;
  try {
    flags = parseDemoFlags(argv);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    return 2;
  }
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  const scrubber = new Scrubber();
  scrubber.hide(BLOCKD_KEY);
  const log = new StepLog(scrubber);
  log.say(`gluster-block CSI demo${flags.cleanup ? " (--cleanup)" : ""}: each line is [step time] step ... result`);
  log.say("Ctrl-C is safe: the next run, or npm run demo -- --cleanup, removes what this one left.");
  return (await demo(flags, log, scrubber)) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(new Scrubber().clean(err instanceof Error ? (err.stack ?? err.message) : String(err)));
    process.exit(1);
  },
);
