// The product in the lab: gluster-blockd runs from the product image, as the
// chart runs it (product-image.ts, lab-chart.ts); dist/ is built on the host
// and shared into the VMs at /lab/repo for the test tools that play the
// kubelet's side (run with the host's Node at /lab/node).
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { LAB_REPO, LAB_STATE, REPO_ROOT } from "../config.js";
import type { Lab, LabNode, RunResult } from "./lab.js";
import { keptRolePki, type RolePki } from "./pki.js";
import type { TlsFiles } from "../../src/rpc/tls.js";
import { podmanRun } from "./chart-pod.js";
import { BLOCKD_CONTAINER, blockdDaemonSet } from "./lab-chart.js";
import { execIn, startPodUnit, stopPodUnit } from "./pod-unit.js";
import { ensureImageOn } from "./product-image.js";

export const NODE = "/lab/node/bin/node";
/** the single-file programs (scripts/bundle.mjs): one file over 9p, not hundreds of modules */
export const DIST = "/lab/repo/dist/bundle";
/** the lab's shared key for blockd's TCP API (a test secret; the grep tests look for it) */
export const BLOCKD_KEY = "lab-blockd-shared-key-0f3c9a7e5d21";

/**
 * The lab's PKI (pki.ts), made once on the host and kept in the lab's state
 * directory: every blockd runs with mutual TLS, as the chart deploys it, so
 * the e2e tests, the demo and the bench exercise what ships.
 */
export function labPki(): Promise<RolePki> {
  return keptRolePki(join(LAB_STATE, "pki"));
}

/** The controller's TLS files on the host, for local-controller.ts startController({ tls }). */
export async function labControllerTls(): Promise<TlsFiles> {
  const pki = await labPki();
  return { cert: pki.controller.cert, key: pki.controller.key, ca: pki.ca };
}

/** the node plugin's CSI client for the VMs (node-csi-client.ts), bundled into one file like the programs (scripts/bundle.mjs) */
export const NODE_CSI_CLIENT = "/lab/repo/dist/e2e/node-csi-client.js";

let built = false;
/**
 * npm run build and the bundled CSI client, once per test process; not at
 * all when scripts/run-tests.mjs built them before starting the files
 * (LAB_PRODUCT_BUILT=1).
 */
export function buildProduct(): void {
  // the VMs run LAB_REPO's dist/: building another checkout's would test code the VMs never see
  if (LAB_REPO !== REPO_ROOT)
    throw new Error(`LAB_REPO is ${LAB_REPO}, not this checkout (${REPO_ROOT}): the tests build this checkout's dist/, the VMs would run the other's`);
  if (built || process.env.LAB_PRODUCT_BUILT === "1") return;
  const r = spawnSync("npm", ["run", "build"], { cwd: REPO_ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`);
  const c = spawnSync("node", ["scripts/bundle.mjs", "lab/harness/node-csi-client.ts", "dist/e2e/node-csi-client.js"], { cwd: REPO_ROOT, encoding: "utf8" });
  if (c.status !== 0) throw new Error(`bundling the node CSI client failed:\n${c.stdout}\n${c.stderr}`);
  built = true;
}

/** the unit, and the container, gluster-blockd runs as on each node */
export const BLOCKD_UNIT = "gluster-blockd";

/**
 * (Re)starts gluster-blockd on a node from the product image, as the chart's
 * DaemonSet runs it (lab-chart.ts renders it; chart-pod.ts makes the podman
 * command of it): host network, privileged, the chart's host mounts and
 * flags, the lab's shared key and TLS files in its Secret volumes. Waits
 * for the chart's readiness probe (/readyz: the start-up reconcile is over;
 * the CLI socket is up before it). `extraArgs` follow the chart's; `env` is set in the daemon's
 * environment (test hooks: test-crash-hook.ts).
 */
export async function startBlockd(n: LabNode, extraArgs: string[] = [], env: Readonly<Record<string, string>> = {}): Promise<void> {
  await ensureImageOn(n);
  const pki = await labPki();
  const ds = blockdDaemonSet();
  const run = podmanRun(ds, BLOCKD_CONTAINER, {
    name: BLOCKD_UNIT,
    nodeName: n.name,
    hostIP: n.address,
    secretsRoot: `/var/lib/lab-pods/${BLOCKD_UNIT}`,
    secrets: {
      "blockd-key": { key: `${BLOCKD_KEY}\n` },
      "blockd-tls": {
        "ca.crt": await readFile(pki.ca, "utf8"),
        "tls.crt": await readFile(pki.blockd.cert, "utf8"),
        "tls.key": await readFile(pki.blockd.key, "utf8"),
      },
    },
    extraEnv: env,
  });
  run.args.push(...extraArgs);
  if (run.readiness === undefined) throw new Error("the chart's gluster-blockd has no readinessProbe");
  await startPodUnit(n, { unit: BLOCKD_UNIT, run, ready: run.readiness });
}

export async function stopBlockd(n: LabNode): Promise<void> {
  await stopPodUnit(n, BLOCKD_UNIT);
}

export async function startBlockdEverywhere(lab: Lab, extraArgs: string[] = []): Promise<void> {
  await Promise.all(lab.nodes.map((n) => startBlockd(n, extraArgs)));
}

export async function stopBlockdEverywhere(lab: Lab): Promise<void> {
  await Promise.all(lab.nodes.map((n) => stopBlockd(n)));
}

/** gluster-block on a node, inside its blockd container as an admin runs it (`kubectl exec`); argv passed unchanged. */
export function cli(n: LabNode, args: string[], timeoutMs = 600_000): Promise<RunResult> {
  return n.run(execIn(BLOCKD_UNIT, ["gluster-block", ...args]), { timeoutMs });
}

/**
 * A shell script run inside a node's blockd container (its mount namespace:
 * the hosting volumes' FUSE mounts under /run/gluster-blockd/mnt are there,
 * not on the node), as `kubectl exec` would; a command line for LabNode.run/must.
 */
export function blockdSh(script: string): string {
  return execIn(BLOCKD_UNIT, ["sh", "-c", script]);
}

/** The blockd journal of a node (for failure diagnosis and secret greps). */
export async function blockdLog(n: LabNode): Promise<string> {
  return (await n.run(`journalctl -u ${BLOCKD_UNIT} --no-pager -o cat`)).stdout;
}
