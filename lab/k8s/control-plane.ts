// The control plane on the host: etcd (Debian's etcd-server), kube-apiserver
// on the lab bridge and loopback, kube-controller-manager and kube-scheduler,
// each a detached process with its log and pid file in the lab's state
// directory. A running control plane that answers is reused.
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kubectlBinary } from "../helm.js";
import { run } from "../proc.js";
import { API_HOST, API_PORT, ETCD_PEER_PORT, ETCD_PORT, K8S_STATE, SERVICE_CIDR } from "./config.js";
import { ensureClusterPki, kubeconfig, PKI_DIR, pkiFile } from "./pki.js";

export const ADMIN_KUBECONFIG = join(K8S_STATE, "admin.kubeconfig");
const LOCAL_API = `https://127.0.0.1:${API_PORT}`;

interface Component {
  name: string;
  file: string;
  args: string[];
}

function components(bin: string): Component[] {
  const p = pkiFile;
  return [
    {
      name: "etcd",
      file: "etcd",
      args: [
        "--name=lab",
        `--data-dir=${join(K8S_STATE, "etcd")}`,
        `--listen-client-urls=http://127.0.0.1:${ETCD_PORT}`,
        `--advertise-client-urls=http://127.0.0.1:${ETCD_PORT}`,
        `--listen-peer-urls=http://127.0.0.1:${ETCD_PEER_PORT}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${ETCD_PEER_PORT}`,
        `--initial-cluster=lab=http://127.0.0.1:${ETCD_PEER_PORT}`,
        "--unsafe-no-fsync", // a test cluster's etcd on a busy 2-core machine
      ],
    },
    {
      name: "kube-apiserver",
      file: join(bin, "kube-apiserver"),
      args: [
        `--etcd-servers=http://127.0.0.1:${ETCD_PORT}`,
        "--bind-address=0.0.0.0",
        `--secure-port=${API_PORT}`,
        `--advertise-address=${API_HOST}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        `--client-ca-file=${p("ca.crt")}`,
        `--tls-cert-file=${p("apiserver.crt")}`,
        `--tls-private-key-file=${p("apiserver.key")}`,
        `--kubelet-client-certificate=${p("apiserver-kubelet-client.crt")}`,
        `--kubelet-client-key=${p("apiserver-kubelet-client.key")}`,
        // the lab's node names are not in any DNS: logs, exec and port-forward reach a kubelet by its address
        "--kubelet-preferred-address-types=InternalIP,Hostname",
        `--service-account-key-file=${p("sa.pub")}`,
        `--service-account-signing-key-file=${p("sa.key")}`,
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        "--allow-privileged=true",
        "--profiling=false",
        "--v=1",
      ],
    },
    {
      name: "kube-controller-manager",
      file: join(bin, "kube-controller-manager"),
      args: [
        `--kubeconfig=${join(K8S_STATE, "controller-manager.kubeconfig")}`,
        `--authentication-kubeconfig=${join(K8S_STATE, "controller-manager.kubeconfig")}`,
        `--authorization-kubeconfig=${join(K8S_STATE, "controller-manager.kubeconfig")}`,
        `--service-account-private-key-file=${p("sa.key")}`,
        `--root-ca-file=${p("ca.crt")}`,
        "--use-service-account-credentials=true",
        // Kubernetes' non-graceful node shutdown (the out-of-service taint force-deletes a lost node's pods and
        // detaches its volumes at once): alpha, off by default, in 1.24; beta and on from 1.26 (the fencing test)
        "--feature-gates=NodeOutOfServiceVolumeDetach=true",
        "--leader-elect=false",
        "--bind-address=127.0.0.1",
        "--profiling=false",
        "--v=1",
      ],
    },
    {
      name: "kube-scheduler",
      file: join(bin, "kube-scheduler"),
      args: [
        `--kubeconfig=${join(K8S_STATE, "scheduler.kubeconfig")}`,
        `--authentication-kubeconfig=${join(K8S_STATE, "scheduler.kubeconfig")}`,
        `--authorization-kubeconfig=${join(K8S_STATE, "scheduler.kubeconfig")}`,
        "--leader-elect=false",
        "--bind-address=127.0.0.1",
        "--profiling=false",
        "--v=1",
      ],
    },
  ];
}

const pidFile = (name: string): string => join(K8S_STATE, `${name}.pid`);
/** the arguments a running component was started with: other arguments now restart it */
const argsFile = (name: string): string => join(K8S_STATE, `${name}.args`);
const sameArgs = (c: Component): boolean => existsSync(argsFile(c.name)) && readFileSync(argsFile(c.name), "utf8") === JSON.stringify(c.args);
export const componentLog = (name: string): string => join(K8S_STATE, `${name}.log`);

/** the pid file's process runs, and is this component (not another process that got the pid since) */
function alive(name: string): boolean {
  if (!existsSync(pidFile(name))) return false;
  const pid = Number(readFileSync(pidFile(name), "utf8"));
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0]?.endsWith(name) ?? false;
  } catch {
    return false;
  }
}

function startDetached(c: Component): void {
  const log = openSync(componentLog(c.name), "a");
  const child = spawn(c.file, c.args, { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`${c.name} did not start (${c.file})`);
  writeFileSync(pidFile(c.name), String(child.pid));
  writeFileSync(argsFile(c.name), JSON.stringify(c.args));
  child.unref();
}

/** kubectl with the admin's kubeconfig */
export function kubectl(args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): ReturnType<typeof run> {
  return run(kubectlBinary(), ["--kubeconfig", ADMIN_KUBECONFIG, ...args], {
    timeoutMs: opts.timeoutMs ?? 120_000,
    ...(opts.input === undefined ? {} : { input: opts.input }),
  });
}

export async function apiReady(): Promise<boolean> {
  const r = await kubectl(["get", "--raw", "/readyz"], { timeoutMs: 15_000 });
  return r.code === 0 && r.stdout.trim() === "ok";
}

async function waitFor(what: string, ok: () => Promise<boolean>, limitMs: number, log: string): Promise<void> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const tail = existsSync(log) ? readFileSync(log, "utf8").split("\n").slice(-30).join("\n") : "(no log)";
  throw new Error(`${what} not ready after ${limitMs / 1000} s; its log ends:\n${tail}`);
}

/** Starts what of the control plane is not running (the PKI and kubeconfigs first); returns once the API server is ready. */
export async function ensureControlPlane(bin: string, nodes: readonly string[]): Promise<{ reused: boolean }> {
  mkdirSync(K8S_STATE, { recursive: true });
  await ensureClusterPki(nodes);
  writeFileSync(ADMIN_KUBECONFIG, kubeconfig(LOCAL_API, "admin"));
  for (const who of ["controller-manager", "scheduler"] as const) writeFileSync(join(K8S_STATE, `${who}.kubeconfig`), kubeconfig(LOCAL_API, who, PKI_DIR));
  const all = components(bin);
  if (all.every((c) => alive(c.name) && sameArgs(c)) && (await apiReady())) return { reused: true };
  for (const c of all) {
    if (alive(c.name) && sameArgs(c)) continue;
    await stopComponent(c.name);
    startDetached(c);
    if (c.name === "etcd") {
      await waitFor(
        "etcd",
        async () => (await run("curl", ["-sf", `http://127.0.0.1:${ETCD_PORT}/health`], { timeoutMs: 5000 })).code === 0,
        60_000,
        componentLog(c.name),
      );
    }
    if (c.name === "kube-apiserver") await waitFor("kube-apiserver", apiReady, 180_000, componentLog(c.name));
  }
  return { reused: false };
}

/** Stops one component (SIGTERM, then SIGKILL after 10 s) if it runs. */
async function stopComponent(name: string): Promise<void> {
  if (!alive(name)) {
    rmSync(pidFile(name), { force: true });
    return;
  }
  const pid = Number(readFileSync(pidFile(name), "utf8"));
  try {
    process.kill(pid, "SIGTERM");
    for (let k = 0; k < 50; k++) {
      process.kill(pid, 0);
      await new Promise((r) => setTimeout(r, 200));
    }
    process.kill(pid, "SIGKILL");
  } catch {
    // gone
  }
  rmSync(pidFile(name), { force: true });
}

/** Stops the control plane (SIGTERM, then SIGKILL) and, with `wipe`, removes etcd's data. */
export async function stopControlPlane(opts: { wipe?: boolean } = {}): Promise<void> {
  for (const c of ["kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"]) await stopComponent(c);
  if (opts.wipe) rmSync(join(K8S_STATE, "etcd"), { recursive: true, force: true });
}
