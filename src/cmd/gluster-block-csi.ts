// gluster-block-csi controller|node: the CSI plugin programs; import: one
// in-tree gluster-block PV and its claim moved to this driver (an admin's
// one-off, run in the controller's container). Each mode's code is loaded
// when the mode is chosen (scripts/bundle.mjs puts it in chunks of its own):
// the node plugin, on every worker, never loads the Kubernetes client the
// controller and import need, most of the program's code.
import { runMain } from "./main-runner.js";
import { parseFlags, usageText, UsageError, str, logLevel, type FlagSpecs } from "../util/flags.js";
import { createLogger } from "../util/log.js";
import { parseEndpoint, EndpointError } from "../rpc/endpoint.js";
import { DEFAULT_DRIVER_NAME, validateDriverName } from "../csi/identity-server.js";
import { NODE_DEFAULTS } from "../node/node-config.js";
import { CONTROLLER_FLAGS } from "../controller/config.js";
import { IMPORT_FLAGS, importArgv } from "../controller/import/import-flags.js";
import { startProgramMetrics, MetricsAddressError } from "../util/metrics.js";

const FLAGS: FlagSpecs = {
  endpoint: { type: "string", help: "CSI endpoint (unix:///csi/csi.sock)", default: "unix:///csi/csi.sock" },
  "driver-name": { type: "string", help: "CSI driver name", default: DEFAULT_DRIVER_NAME },
  "node-id": { type: "string", help: "node mode: this node's name (Kubernetes node name); default: hostname" },
  "state-dir": { type: "string", help: "node mode: where node records are kept (outside the kubelet staging dirs)", default: NODE_DEFAULTS.stateDir },
  // controller mode: blockd endpoints and key, Kubernetes API, StorageClass defaults (src/controller/config.ts)
  ...CONTROLLER_FLAGS,
  // import mode: the PV, its hosting volume, dry run, waiting for its pods (src/controller/import/import-flags.ts)
  ...IMPORT_FLAGS,
  "metrics-address": { type: "string", help: "[host]:port of the Prometheus /metrics endpoint (e.g. :9822); default off" },
  "log-level": { type: "string", help: "error|warn|info|debug", default: "info" },
};

const usage = (): string =>
  usageText(
    "gluster-block-csi",
    "<controller|node|import> [flags]",
    FLAGS,
    [
      "modes:",
      "  controller   CSI Identity + Controller services (Deployment, with the provisioner/attacher/resizer sidecars)",
      "  node         CSI Identity + Node services (DaemonSet on every worker)",
      "  import       move one in-tree gluster-block PV and its claim to this driver: --pv <name> --hosting-volume <vol> [--dry-run]",
      "               [--wait-for-pods-gone <seconds>]; run it in the controller's container:",
      "                 kubectl -n <driver namespace> exec deploy/<release>-gluster-block-csi-controller -c gluster-block-csi -- \\",
      "                   gluster-block-csi import --pv <name> --hosting-volume <vol> --dry-run",
      "               Given none of the --blockd-endpoints/--blockd-key-file/--blockd-tls-*/--blockd-insecure-* flags, it takes",
      "               the command line of the `gluster-block-csi controller` process beside it (read from /proc/<pid>/cmdline),",
      "               its own flags after (and winning), and says so. Its --log-level is its own (default warn).",
    ].join("\n"),
  );

runMain(usage, async (argv) => {
  let f = parseFlags(argv, FLAGS);
  const mode = f.positionals[0];
  if (mode !== "controller" && mode !== "node" && mode !== "import")
    throw new UsageError(
      mode === undefined ? "a mode is required: controller, node or import" : `unknown mode ${JSON.stringify(mode)}: expected controller, node or import`,
    );
  if (f.positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(f.positionals[1])}`);
  if (mode === "import") {
    // the import's log is for trouble only: its report goes to stdout
    const ownLevel = argv.some((a) => a === "--log-level" || a.startsWith("--log-level="));
    const log = createLogger({ service: "gluster-block-csi-import", level: ownLevel ? logLevel(f) : "warn" });
    const from = await importArgv(argv);
    f = parseFlags(from.argv, FLAGS);
    const driverName = str(f, "driver-name") ?? DEFAULT_DRIVER_NAME;
    const bad = validateDriverName(driverName);
    if (bad) throw new UsageError(`--driver-name: ${bad}`);
    const { runImport } = await import("../controller/import/run-import.js");
    process.exitCode = await runImport({ flags: f, driverName, log, flagsFrom: from.flagsFrom, out: (t) => process.stdout.write(t) });
    return;
  }
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
    const { startNodePlugin } = await import("../node/plugin.js");
    await startNodePlugin({ endpoint, driverName, log, nodeId: str(f, "node-id"), stateDir: str(f, "state-dir") ?? NODE_DEFAULTS.stateDir });
  } else {
    const { startControllerPlugin } = await import("../controller/plugin.js");
    await startControllerPlugin({
      endpoint,
      driverName,
      log,
      flags: f,
      ...(metrics ? { observer: metrics.metrics.rpcObserver, gauges: metrics.metrics } : {}),
    });
  }
});
