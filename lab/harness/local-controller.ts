// The controller program's services on this host, on a unix socket, for
// whoever drives the product from here (the demo, the bench, the tests):
// pointed at blockd (the lab's, or a test double) and, optionally, a
// Kubernetes API stand-in through a kubeconfig file; with a CSI client and a
// captured log. It serves the driver name the program serves by default.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseFlags } from "../../src/util/flags.js";
import { CONTROLLER_FLAGS, controllerConfig } from "../../src/controller/config.js";
import { serveController, type RunningController } from "../../src/controller/plugin.js";
import type { HealthGauges } from "../../src/controller/health-monitor.js";
import type { TlsFiles } from "../../src/rpc/tls.js";
import { DEFAULT_DRIVER_NAME } from "../../src/csi/identity-server.js";
import { csiClients, call } from "./csi-client.js";
import { captureLog, type CapturedLog } from "./log-capture.js";

export interface LocalController {
  running: RunningController;
  csi: ReturnType<typeof csiClients>;
  log: CapturedLog;
  call<Res>(method: string, req: unknown, timeoutMs?: number): Promise<Res>;
  stop(): Promise<void>;
}

export interface LocalControllerOptions {
  endpoints: string[];
  key?: string;
  /**
   * the controller's client certificate, its key and blockd's CA (the lab's:
   * product.ts labControllerTls). Without it the controller calls blockd over
   * plain TCP, which it does only with the insecure flag that matches: for the
   * test doubles (test/doubles/fake-blockd.ts) and the in-process blockd of the
   * integration tests, which serve plaintext on loopback.
   */
  tls?: TlsFiles;
  kubeconfig?: string;
  /** extra flags, e.g. ["--default-auth", "false"] */
  flags?: string[];
  /**
   * seconds between passes of the periodic volume health check
   * (--health-interval); default 0, off: the tests, the demo and the bench
   * make their calls by hand and count what blockd and the API saw
   */
  healthIntervalSeconds?: number;
  /** what the health check sets (a Metrics of src/util/metrics.ts) */
  gauges?: HealthGauges;
  namespace?: string;
}

export async function startController(o: LocalControllerOptions): Promise<LocalController> {
  const dir = await mkdtemp(join(tmpdir(), "gbcsi-ctl-"));
  const argv = ["--blockd-endpoints", o.endpoints.join(","), "--namespace", o.namespace ?? "gluster-block-csi"];
  if (o.key) {
    const keyFile = join(dir, "key");
    await writeFile(keyFile, `${o.key}\n`, { mode: 0o600 });
    argv.push("--blockd-key-file", keyFile);
  }
  if (o.tls) argv.push("--blockd-tls-cert", o.tls.cert, "--blockd-tls-key", o.tls.key, "--blockd-tls-ca", o.tls.ca);
  else argv.push(o.key ? "--blockd-insecure-key-over-plaintext" : "--blockd-insecure-no-auth");
  if (o.kubeconfig) argv.push("--kubeconfig", o.kubeconfig);
  else argv.push("--kube-api", "off");
  argv.push("--health-interval", String(o.healthIntervalSeconds ?? 0));
  argv.push(...(o.flags ?? []));
  const cfg = controllerConfig(parseFlags(argv, CONTROLLER_FLAGS), DEFAULT_DRIVER_NAME, {});
  const log = captureLog("debug");
  const socket = join(dir, "csi.sock");
  const running = await serveController(cfg, { kind: "unix", path: socket }, log.log, o.gauges ? { gauges: o.gauges } : {});
  const csi = csiClients(`unix://${socket}`);
  return {
    running,
    csi,
    log,
    call: <Res>(method: string, req: unknown, timeoutMs = 20_000) => call<Res>(csi.controller, method, req, timeoutMs),
    async stop() {
      csi.close();
      await running.stop();
    },
  };
}

/** The code of a rejected CSI call (fails the test when it resolves). */
export async function codeOf(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: number; details?: string };
    return { code: e.code ?? -1, details: e.details ?? String(err) };
  }
  throw new Error("expected the call to fail");
}

export const mountCap = (fs_type = "", mode = "SINGLE_NODE_WRITER") => ({ mount: { fs_type, mount_flags: [] }, access_mode: { mode } });
export const blockCap = (mode = "SINGLE_NODE_WRITER") => ({ block: {}, access_mode: { mode } });
export const GiB = 1024 * 1024 * 1024;
export const MiB = 1024 * 1024;
