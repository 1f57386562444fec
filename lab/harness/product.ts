// The product in the lab: dist/ built on the host and shared into the VMs at
// /lab/repo, run with the host's Node at /lab/node.
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { LAB_REPO, LAB_STATE, REPO_ROOT } from "../config.js";
import type { Lab, LabNode, RunResult } from "./lab.js";
import { keptRolePki, type RolePki } from "./pki.js";
import type { TlsFiles } from "../../src/rpc/tls.js";

export const NODE = "/lab/node/bin/node";
/** the single-file programs (scripts/bundle.mjs): one file over 9p, not hundreds of modules */
export const DIST = "/lab/repo/dist/bundle";
export const BLOCKD_KEY_FILE = "/etc/gluster-blockd/key";
/** the lab's shared key for blockd's TCP API (a test secret; the grep tests look for it) */
export const BLOCKD_KEY = "lab-blockd-shared-key-0f3c9a7e5d21";
/** where each node keeps blockd's TLS files (its peer certificate and key, the CA) */
export const BLOCKD_TLS_DIR = "/etc/gluster-blockd/tls";

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
/** npm run build and the bundled CSI client, once per test process */
export function buildProduct(): void {
  if (built) return;
  // the VMs run LAB_REPO's dist/: building another checkout's would test code the VMs never see
  if (LAB_REPO !== REPO_ROOT)
    throw new Error(`LAB_REPO is ${LAB_REPO}, not this checkout (${REPO_ROOT}): the tests build this checkout's dist/, the VMs would run the other's`);
  const r = spawnSync("npm", ["run", "build"], { cwd: REPO_ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`);
  const c = spawnSync("node", ["scripts/bundle.mjs", "lab/harness/node-csi-client.ts", "dist/e2e/node-csi-client.js"], { cwd: REPO_ROOT, encoding: "utf8" });
  if (c.status !== 0) throw new Error(`bundling the node CSI client failed:\n${c.stdout}\n${c.stderr}`);
  built = true;
}

/**
 * (Re)starts gluster-blockd on a node as a transient systemd unit, with the
 * lab's TLS files and the shared key, as the chart runs it; waits for
 * its socket. The bundle is one file over 9p in an emulated CPU: about 10 s
 * to the socket on a quiet 2-core host (50 s when Node loaded every module).
 * `env` is set in the daemon's environment (test hooks: test-crash-hook.ts).
 */
export async function startBlockd(n: LabNode, extraArgs: string[] = [], env: Readonly<Record<string, string>> = {}): Promise<void> {
  for (const k of Object.keys(env))
    if (!/^[A-Z_][A-Z0-9_]*$/.test(k) || /[\s'"\\$`]/.test(env[k] ?? "")) throw new Error(`startBlockd: env ${k} is not a plain NAME=value`);
  const setenv = Object.entries(env)
    .map(([k, v]) => `--setenv=${k}=${v} `)
    .join("");
  await stopBlockd(n);
  // the key and the TLS files go over stdin: a command line shows up in failure messages
  await n.must(`set -e; mkdir -p /etc/gluster-blockd ${BLOCKD_TLS_DIR}; chmod 0700 ${BLOCKD_TLS_DIR}; umask 077; cat > ${BLOCKD_KEY_FILE}`, {
    input: `${BLOCKD_KEY}\n`,
  });
  const pki = await labPki();
  for (const [src, name] of [
    [pki.ca, "ca.crt"],
    [pki.blockd.cert, "tls.crt"],
    [pki.blockd.key, "tls.key"],
  ] as const) {
    await n.must(`set -e; umask 077; cat > ${BLOCKD_TLS_DIR}/${name}`, { input: await readFile(src, "utf8") });
  }
  const tls = `--tls-cert ${BLOCKD_TLS_DIR}/tls.crt --tls-key ${BLOCKD_TLS_DIR}/tls.key --tls-ca ${BLOCKD_TLS_DIR}/ca.crt`;
  await n.must(
    `set -e; rm -f /run/gluster-blockd.socket
    systemd-run --unit=gluster-blockd --collect --property=KillMode=mixed ${setenv}\
      ${NODE} ${DIST}/gluster-blockd.js --host ${n.address} ${tls} --key-file ${BLOCKD_KEY_FILE} --volumes block-test --log-level debug ${extraArgs.join(" ")}
    for k in $(seq 1500); do [ -S /run/gluster-blockd.socket ] && exit 0; sleep 0.2; done
    journalctl -u gluster-blockd --no-pager | tail -30; exit 1`,
    { timeoutMs: 420_000 },
  );
}

export async function stopBlockd(n: LabNode): Promise<void> {
  await n.run(`systemctl stop gluster-blockd 2>/dev/null; systemctl reset-failed gluster-blockd 2>/dev/null
    for m in $(findmnt -rn -o TARGET | grep '^/run/gluster-blockd/' | sort -r); do umount -l "$m"; done; true`);
}

export async function startBlockdEverywhere(lab: Lab, extraArgs: string[] = []): Promise<void> {
  await Promise.all(lab.nodes.map((n) => startBlockd(n, extraArgs)));
}

export async function stopBlockdEverywhere(lab: Lab): Promise<void> {
  await Promise.all(lab.nodes.map((n) => stopBlockd(n)));
}

/** gluster-block on a node; argv passed unchanged. */
export function cli(n: LabNode, args: string[], timeoutMs = 600_000): Promise<RunResult> {
  return n.run([NODE, `${DIST}/gluster-block.js`, ...args], { timeoutMs });
}

/** The blockd journal of a node (for failure diagnosis and secret greps). */
export async function blockdLog(n: LabNode): Promise<string> {
  return (await n.run("journalctl -u gluster-blockd --no-pager -o cat")).stdout;
}
