// The controller's configuration (config.ts) made a running set of
// dependencies: the blockd client, the Kubernetes API, CHAP Secrets, Events,
// locks and books. This is where the Kubernetes client is loaded: the
// controller and import modes reach it, the node plugin never does.
import { UsageError } from "../util/flags.js";
import { readPeerKey } from "../rpc/peer-auth.js";
import { loadBlockdTls } from "../rpc/tls.js";
import type { Logger } from "../util/log.js";
import { KubeDiscovery, StaticDiscovery, type BlockdDiscovery } from "./discovery.js";
import type { KubeConfig } from "@kubernetes/client-node";
import { ClientNodeKubeApi, loadKubeConfig, type KubeApi } from "./kube-api.js";
import { BlockdClient } from "./blockd-client.js";
import { ChapSecrets } from "./chap-secrets.js";
import { PvcEvents } from "./pvc-events.js";
import { PlacementReservations } from "./placement-reservations.js";
import { VolumeLocks } from "./volume-locks.js";
import { HostingVolumes } from "./hosting-volumes.js";
import { NodeIdBook } from "./node-ids.js";
import { HealthTransitions } from "./health-transitions.js";
import type { ControllerDeps, ControllerTopology } from "./deps.js";
import { zoneKey } from "../csi/topology.js";
import { blockdTransportRefusal, CONTROLLER_TLS_FLAGS, type ControllerConfig } from "./config.js";

export interface BuiltController {
  deps: ControllerDeps;
  kube?: KubeApi;
  /** the Kubernetes client configuration `kube` was made from (none with an overridden `kube`) */
  kubeConfig?: KubeConfig;
  close(): void;
}

/** Builds the dependencies; `kube` overrides the configured API (tests). */
export async function buildController(cfg: ControllerConfig, log: Logger, overrides: { kube?: KubeApi } = {}): Promise<BuiltController> {
  const kc = overrides.kube ? undefined : loadKubeConfig({ ...(cfg.kubeconfig ? { kubeconfig: cfg.kubeconfig } : {}), mode: cfg.kubeMode });
  const kube: KubeApi | undefined = overrides.kube ?? (kc ? new ClientNodeKubeApi(kc) : undefined);
  let discovery: BlockdDiscovery;
  if (cfg.staticEndpoints.length > 0) discovery = new StaticDiscovery(cfg.staticEndpoints, cfg.topology?.staticZones);
  else if (kube)
    discovery = new KubeDiscovery(kube, cfg.namespace, cfg.blockdSelector, cfg.blockdPort, cfg.topology ? { zoneLabel: cfg.topology.zoneLabel } : {});
  else throw new UsageError("controller: no way to find gluster-blockd: give --blockd-endpoints, or run with a Kubernetes API (in a pod or --kubeconfig)");
  // the flags were checked in controllerConfig; a configuration made otherwise is checked here
  const refused = blockdTransportRefusal({
    tls: cfg.tls !== undefined,
    key: Boolean(cfg.keyFile),
    insecureNoAuth: cfg.insecure === "no-auth",
    insecureKeyOverPlaintext: cfg.insecure === "key-over-plaintext",
  });
  if (refused !== undefined) throw new UsageError(refused);
  const key = cfg.keyFile ? await readPeerKey(cfg.keyFile) : undefined;
  const tls = cfg.tls ? await loadBlockdTls(cfg.tls, { flags: CONTROLLER_TLS_FLAGS, role: "controller", log }) : undefined;
  if (cfg.insecure === "no-auth")
    log.warn(
      "INSECURE (--blockd-insecure-no-auth): calls to gluster-blockd are plain TCP without authentication; no blockd is authenticated, and CHAP passwords cross the network in cleartext",
    );
  if (cfg.insecure === "key-over-plaintext")
    log.warn(
      "INSECURE (--blockd-insecure-key-over-plaintext): calls to gluster-blockd are plain TCP; the shared key and CHAP passwords cross the network in cleartext, and no blockd is authenticated",
    );
  if (!kube) log.warn("no Kubernetes API: CHAP (auth) volumes are refused, no Events are recorded", { discovery: discovery.describe() });
  const blockd = new BlockdClient({ discovery, ...(key ? { key } : {}), ...(tls ? { tls } : {}), log, mutateTimeoutMs: cfg.blockdTimeoutMs });
  const topology: ControllerTopology | undefined = cfg.topology && {
    key: zoneKey(cfg.driverName),
    zoneLabel: cfg.staticEndpoints.length > 0 ? "" : cfg.topology.zoneLabel,
  };
  log.info("controller configured", {
    discovery: discovery.describe(),
    topology: topology ? { key: topology.key, zones: discovery.describeZones() } : "off",
    namespace: cfg.namespace,
    kubeApi: kube !== undefined,
    blockdTls: tls !== undefined,
    defaults: cfg.defaults,
    defaultSizeBytes: cfg.defaultSizeBytes.toString(),
  });
  const events = new PvcEvents(kube, `${cfg.driverName}/controller`, log);
  return {
    kube,
    ...(kc ? { kubeConfig: kc } : {}),
    deps: {
      health: new HealthTransitions(events),
      blockd,
      secrets: new ChapSecrets(kube, cfg.namespace, cfg.driverName, log),
      events,
      locks: new VolumeLocks(),
      placements: new PlacementReservations(),
      hostingVolumes: new HostingVolumes({ configured: cfg.hostingVolumes, ...(kube ? { kube } : {}), driverName: cfg.driverName, log }),
      nodeIds: new NodeIdBook(kube, cfg.driverName, log),
      defaults: cfg.defaults,
      defaultSizeBytes: cfg.defaultSizeBytes,
      ...(topology ? { topology } : {}),
    },
    close: () => blockd.close(),
  };
}
