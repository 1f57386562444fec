// gluster-blockd: the storage-node daemon.
import { runMain } from "./main-runner.js";
import { parseFlags, usageText, UsageError, str, bool, int, strList, logLevel, type FlagSpecs } from "../util/flags.js";
import { createLogger } from "../util/log.js";
import { parseEndpoint, EndpointError, type Endpoint } from "../rpc/endpoint.js";
import { stopOnSignalsFn } from "../rpc/signals.js";
import { startBlockd } from "../glusterblock/blockd/daemon.js";
import { tcpAuthRefusal } from "../glusterblock/blockd/tcp-api.js";
import { tlsFiles, BLOCKD_TLS_FLAGS } from "../rpc/tls.js";
import { BLOCKD_PORT } from "../rpc/blockd-port.js";
import { isHostAddress } from "../identity/names.js";
import { startProgramMetrics } from "../util/metrics.js";
import { parseHttpAddress, HttpAddressError, type HttpAddress } from "../util/http-endpoint.js";
import { serveProbes } from "../glusterblock/blockd/probe-endpoint.js";
import { testCrashHook } from "../glusterblock/blockd/test-crash-hook.js";

export const BLOCKD_DEFAULTS = {
  socket: "/run/gluster-blockd.socket",
  mountRoot: "/run/gluster-blockd/mnt",
} as const;

const FLAGS: FlagSpecs = {
  host: { type: "string", help: "this node's IP address: its iSCSI portal and its name to the peers (required)" },
  socket: { type: "string", help: "unix socket of the gluster-block CLI (mode 0600)", default: BLOCKD_DEFAULTS.socket },
  listen: { type: "string", help: "TCP address of the peer and controller API", default: `0.0.0.0:${BLOCKD_PORT}` },
  "peer-port": { type: "string", help: "TCP port of the other nodes' gluster-blockd", default: String(BLOCKD_PORT) },
  "key-file": {
    type: "string",
    help: "file holding a shared key every TCP caller must present, on top of TLS (without TLS only with --insecure-key-over-plaintext)",
  },
  "tls-cert": {
    type: "string",
    help: "mutual TLS on the TCP API: this node's PEM peer certificate (SAN DNS:gluster-blockd; serverAuth and clientAuth), also presented to the peers",
  },
  "tls-key": { type: "string", help: "mutual TLS: the certificate's PEM private key" },
  "tls-ca": {
    type: "string",
    help: "mutual TLS: PEM CA bundle; every TCP caller must present a certificate it signs, whose name is its role: peers (DNS:gluster-blockd) may call everything, the controller (DNS:gluster-block-csi-controller) the Blockd service only",
  },
  "insecure-no-auth": {
    type: "boolean",
    help: "INSECURE: serve the TCP API with neither TLS nor a key, to every caller (who can then create and delete blocks and read every CHAP password); without it gluster-blockd refuses to start unauthenticated",
  },
  "insecure-key-over-plaintext": {
    type: "boolean",
    help: "INSECURE: allow --key-file without TLS (the key and the CHAP passwords cross the network in cleartext); without it gluster-blockd refuses a key without TLS",
  },
  "mount-root": { type: "string", help: "where hosting volumes are FUSE-mounted", default: BLOCKD_DEFAULTS.mountRoot },
  "volfile-server": { type: "string", help: "glusterd serving volfiles to the mounts and to tcmu-runner", default: "localhost" },
  "glusterd-socket": { type: "string", help: "glusterd's socket, when not the default" },
  volumes: { type: "string", help: "comma-separated hosting volumes to reconcile at start (default: every started volume)", multiple: true },
  "no-reconcile": { type: "boolean", help: "do not reconcile LIO to the journals at start" },
  "configfs-root": { type: "string", help: "LIO's configfs (tests)" },
  "metrics-address": { type: "string", help: "[host]:port of the Prometheus /metrics endpoint (e.g. :9823); default off" },
  "probe-address": {
    type: "string",
    help: "[host]:port of the kubelet's probes: /healthz, and /readyz (200 once the start-up reconcile has brought this node's LIO back); default off",
  },
  "log-level": { type: "string", help: "error|warn|info|debug", default: "info" },
};

const usage = (): string =>
  usageText(
    "gluster-blockd",
    "--host <ip> [flags]",
    FLAGS,
    "The gluster-block daemon of one storage node: block metadata on the hosting volumes, this node's LIO targets, and the HA peers.",
  );

function httpAddress(flag: string, text: string | undefined): HttpAddress | undefined {
  if (text === undefined || text === "") return undefined;
  try {
    return parseHttpAddress(text);
  } catch (err) {
    if (err instanceof HttpAddressError) throw new UsageError(`--${flag}: ${err.message}`);
    throw err;
  }
}

function endpoint(flag: string, text: string): Endpoint {
  try {
    return parseEndpoint(text);
  } catch (err) {
    if (err instanceof EndpointError) throw new UsageError(`--${flag}: ${err.message}`);
    throw err;
  }
}

runMain(usage, async (argv) => {
  const f = parseFlags(argv, FLAGS);
  if (f.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(f.positionals[0])}`);
  const host = str(f, "host");
  if (!host) throw new UsageError("--host is required");
  if (!isHostAddress(host)) throw new UsageError(`--host must be an IP address, got ${JSON.stringify(host)}`);
  const socket = endpoint("socket", str(f, "socket") ?? BLOCKD_DEFAULTS.socket);
  if (socket.kind !== "unix") throw new UsageError("--socket must be a unix socket path");
  const listen = endpoint("listen", str(f, "listen") ?? `0.0.0.0:${BLOCKD_PORT}`);
  if (listen.kind !== "tcp") throw new UsageError("--listen must be host:port");
  const tls = tlsFiles({ cert: str(f, "tls-cert"), key: str(f, "tls-key"), ca: str(f, "tls-ca") }, BLOCKD_TLS_FLAGS);
  const keyFile = str(f, "key-file");
  const insecure = { insecureNoAuth: bool(f, "insecure-no-auth"), insecureKeyOverPlaintext: bool(f, "insecure-key-over-plaintext") };
  // secure by default: no unauthenticated TCP, no key in cleartext, unless a flag says so
  const refused = tcpAuthRefusal({ tls: tls !== undefined, key: Boolean(keyFile), ...insecure });
  if (refused !== undefined) throw new UsageError(refused);
  const probes = httpAddress("probe-address", str(f, "probe-address"));
  const log = createLogger({ service: "gluster-blockd", level: logLevel(f), node: host });
  const metrics = await startProgramMetrics(str(f, "metrics-address"), "gluster-blockd", log).catch((err: unknown) => {
    throw err instanceof HttpAddressError ? new UsageError(`--metrics-address: ${err.message}`) : err;
  });
  const glusterdSocket = str(f, "glusterd-socket");
  const configfsRoot = str(f, "configfs-root");
  const faults = testCrashHook(process.env, { log });
  const running = await startBlockd({
    host,
    socket,
    listen,
    peerPort: int(f, "peer-port", 1, 65535) ?? BLOCKD_PORT,
    mountRoot: str(f, "mount-root") ?? BLOCKD_DEFAULTS.mountRoot,
    volfileServer: str(f, "volfile-server") ?? "localhost",
    ...(keyFile ? { keyFile } : {}),
    ...(tls ? { tls } : {}),
    ...insecure,
    ...(glusterdSocket ? { glusterdSocket } : {}),
    ...(configfsRoot ? { configfsRoot } : {}),
    volumes: strList(f, "volumes"),
    reconcileAtStart: !bool(f, "no-reconcile"),
    ...(metrics ? { observer: metrics.metrics.rpcObserver } : {}),
    ...(faults ? { faults } : {}),
    log,
  });
  const probeEndpoint = probes ? await serveProbes(probes, running.reconciled, log) : undefined;
  stopOnSignalsFn(async () => {
    await probeEndpoint?.close();
    await running.stop();
  }, log);
});
