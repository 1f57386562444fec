// `up`: boot the VMs, wait for the storage stack, form the gluster pool and
// create the block-hosting volume.  Idempotent.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HOSTING_VOLUME, LAB_REPO, LAB_SCRIPTS, LAB_STATE, nodeAddress, nodeName, sshPort, sshKey } from "./config.js";
import { secondsSince } from "./proc.js";
import { sshMust } from "./ssh.js";
import { buildImage, netUp, runningVms, startVm } from "./vm.js";
import { down } from "./teardown.js";

export interface Phase {
  name: string;
  seconds: string;
}

export interface UpResult {
  nodes: number[];
  phases: Phase[];
}

const nodesFile = (): string => join(LAB_STATE, "nodes");

const repoFile = (): string => join(LAB_STATE, "repo");

/**
 * The checkout the running VMs share at /lab/repo. A lab booted from another
 * checkout (a fresh clone's demo, another worktree) would run that
 * checkout's dist/: it is never reused, it is booted again from this one.
 */
export function labRepo(): string | undefined {
  try {
    return readFileSync(repoFile(), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Node count of the lab that is up, when one is. */
export function labNodes(): number | undefined {
  try {
    const n = Number(readFileSync(nodesFile(), "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

async function phase<T>(phases: Phase[], name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const r = await fn();
  const seconds = secondsSince(t0);
  phases.push({ name, seconds });
  process.stderr.write(`[lab] phase ${name}: ${seconds}s\n`);
  return r;
}

const gluster = (i: number, args: string): Promise<unknown> => sshMust(i, `gluster --mode=script ${args}`, { timeoutMs: 180_000 });

export async function up(count: number): Promise<UpResult> {
  if (count !== 1 && count !== 3) throw new Error("--nodes must be 1 or 3");
  const nodes = Array.from({ length: count }, (_, k) => k + 1);
  const phases: Phase[] = [];
  const running = runningVms();
  // the same VMs run (maybe from an `up` that failed half-way): reuse them,
  // every step below is idempotent
  const sameRepo = labRepo() === LAB_REPO;
  const reusable = sameRepo && running.length === count && nodes.every((i) => running.includes(i));
  if (!reusable && running.length > 0) {
    const why = sameRepo
      ? `a lab of ${running.length} VM(s) runs; restarting it with ${count}`
      : `the running lab shares ${labRepo() ?? "an unknown checkout"}, not ${LAB_REPO}; restarting it`;
    process.stderr.write(`[lab] ${why}\n`);
    await phase(phases, sameRepo ? "down (topology change)" : "down (another checkout)", () => down());
  }
  if (reusable) process.stderr.write(`[lab] reusing the running lab (${count} VM(s))\n`);
  await phase(phases, "image", () => buildImage());
  await phase(phases, "network", () => netUp());
  if (!reusable) {
    mkdirSync(LAB_STATE, { recursive: true });
    writeFileSync(nodesFile(), "0\n"); // not usable until the volume is up
    writeFileSync(repoFile(), `${LAB_REPO}\n`);
    await phase(phases, `boot ${count} VM(s) in parallel`, () => Promise.all(nodes.map((i) => startVm(i))));
  }
  const ready = readFileSync(join(LAB_SCRIPTS, "guest/ready.sh"), "utf8");
  await phase(phases, "daemons ready", () =>
    Promise.all(
      nodes.map(async (i) => {
        const r = await sshMust(i, "bash -s -- 300", { input: ready, timeoutMs: 330_000 });
        process.stderr.write(`${r.stdout.trimEnd().replace(/^/gm, `[lab] n${i} `)}\n`);
      }),
    ),
  );
  if (count > 1) await phase(phases, "peer probe", () => formPool(nodes));
  await phase(phases, `volume ${HOSTING_VOLUME}`, () => ensureVolume(nodes));
  writeFileSync(nodesFile(), `${count}\n`);
  return { nodes, phases };
}

async function formPool(nodes: number[]): Promise<void> {
  for (const i of nodes.slice(1)) await gluster(1, `peer probe ${nodeAddress(i)}`);
  const want = nodes.length;
  // every peer must see all the others as Connected
  await Promise.all(
    nodes.map((i) =>
      sshMust(
        i,
        `for k in $(seq 300); do [ "$(gluster --mode=script pool list | grep -c Connected)" -ge ${want} ] && exit 0; sleep 0.5; done; gluster --mode=script pool list; exit 1`,
        { timeoutMs: 200_000 },
      ),
    ),
  );
}

async function ensureVolume(nodes: number[]): Promise<void> {
  const info = await sshMust(1, `gluster --mode=script volume info ${HOSTING_VOLUME} 2>/dev/null || true`);
  if (!info.stdout.includes(`Volume Name: ${HOSTING_VOLUME}`)) {
    let bricks: string[];
    if (nodes.length === 1) {
      bricks = [1, 2, 3].map((b) => `${nodeAddress(1)}:/bricks/b${b}/${HOSTING_VOLUME}`);
    } else {
      bricks = nodes.map((i) => `${nodeAddress(i)}:/bricks/b1/${HOSTING_VOLUME}`);
    }
    await Promise.all(nodes.map((i) => sshMust(i, "mkdir -p /bricks/b1 /bricks/b2 /bricks/b3")));
    const force = nodes.length === 1 ? " force" : "";
    await gluster(1, `volume create ${HOSTING_VOLUME} replica 3 ${bricks.join(" ")}${force}`);
    await gluster(1, `volume set ${HOSTING_VOLUME} group gluster-block`);
  }
  const again = await sshMust(1, `gluster --mode=script volume info ${HOSTING_VOLUME}`);
  if (!/^Status: Started$/m.test(again.stdout)) await gluster(1, `volume start ${HOSTING_VOLUME}`);
  // bricks online on every node
  await sshMust(
    1,
    `for k in $(seq 120); do [ "$(gluster --mode=script volume status ${HOSTING_VOLUME} | grep -c '^Brick .* Y ')" -ge 3 ] && exit 0; sleep 0.5; done; gluster --mode=script volume status ${HOSTING_VOLUME}; exit 1`,
    { timeoutMs: 90_000 },
  );
}

export function describeNodes(nodes: number[]): string {
  return nodes
    .map(
      (i) =>
        `${nodeName(i)}  ${nodeAddress(i)}  ssh -i ${sshKey()} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -p ${sshPort(i)} root@127.0.0.1`,
    )
    .join("\n");
}
