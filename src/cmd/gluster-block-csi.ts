// gluster-block-csi controller|node: the CSI plugin programs.
import { runMain } from "./main-runner.js";
import { parseFlags, usageText, UsageError, str, logLevel, type FlagSpecs } from "../util/flags.js";
import { createLogger } from "../util/log.js";
import { parseEndpoint, EndpointError } from "../rpc/endpoint.js";
import { DEFAULT_DRIVER_NAME, validateDriverName } from "../csi/identity-server.js";
import { startNodePlugin, NODE_DEFAULTS } from "../node/plugin.js";
import { startControllerPlugin } from "../controller/plugin.js";
import { CONTROLLER_FLAGS } from "../controller/config.js";
import { startProgramMetrics, MetricsAddressError } from "../util/metrics.js";

const FLAGS: FlagSpecs = {
  endpoint: { type: "string", help: "CSI endpoint (unix:///csi/csi.sock)", default: "unix:///csi/csi.sock" },
  "driver-name": { type: "string", help: "CSI driver name", default: DEFAULT_DRIVER_NAME },
  "node-id": { type: "string", help: "node mode: this node's name (Kubernetes node name); default: hostname" },
  "state-dir": { type: "string", help: "node mode: where node records are kept (outside the kubelet staging dirs)", default: NODE_DEFAULTS.stateDir },
  // controller mode: blockd endpoints and key, Kubernetes API, StorageClass defaults (src/controller/config.ts)
  ...CONTROLLER_FLAGS,
  "metrics-address": { type: "string", help: "[host]:port of the Prometheus /metrics endpoint (e.g. :9822); default off" },
  "log-level": { type: "string", help: "error|warn|info|debug", default: "info" },
};

const usage = (): string =>
  usageText(
    "gluster-block-csi",
    "<controller|node> [flags]",
    FLAGS,
    "modes:\n  controller   CSI Identity + Controller services (Deployment, with the provisioner/attacher/resizer sidecars)\n  node         CSI Identity + Node services (DaemonSet on every worker)",
  );

runMain(usage, async (argv) => {
  const f = parseFlags(argv, FLAGS);
  const mode = f.positionals[0];
  if (mode !== "controller" && mode !== "node")
    throw new UsageError(mode === undefined ? "a mode is required: controller or node" : `unknown mode ${JSON.stringify(mode)}: expected controller or node`);
  if (f.positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(f.positionals[1])}`);
  const driverName = str(f, "driver-name") ?? DEFAULT_DRIVER_NAME;
  const bad = validateDriverName(driverName);
  if (bad) throw new UsageError(`--driver-name: ${bad}`);
  let endpoint;
  try {
    endpoint = parseEndpoint(str(f, "endpoint") ?? "unix:///csi/csi.sock");
  } catch (err) {
    if (err instanceof EndpointError) throw new UsageError(`--endpoint: ${err.message}`);
    throw err;
  }
  const log = createLogger({ service: `gluster-block-csi-${mode}`, level: logLevel(f) });
  const metrics = await startProgramMetrics(str(f, "metrics-address"), `gluster-block-csi-${mode}`, log).catch((err: unknown) => {
    throw err instanceof MetricsAddressError ? new UsageError(`--metrics-address: ${err.message}`) : err;
  });
  if (mode === "node") {
    await startNodePlugin({ endpoint, driverName, log, nodeId: str(f, "node-id"), stateDir: str(f, "state-dir") ?? NODE_DEFAULTS.stateDir });
  } else {
    await startControllerPlugin({
      endpoint,
      driverName,
      log,
      flags: f,
      ...(metrics ? { observer: metrics.metrics.rpcObserver, gauges: metrics.metrics } : {}),
    });
  }
});
