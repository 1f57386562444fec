// gluster-blockd: assembles the engine for this storage node and serves it on
// a root-only unix socket (the CLI) and on TCP (peers and the CSI
// controller: mutual TLS, the shared key on top if configured; without TLS
// only when an insecure option says so, tcp-api.ts). At start it
// reconciles this node's LIO to the journals, so a rebooted node exports
// again with no manual reload.
import { access } from "node:fs/promises";
import { join } from "node:path";
import { GrpcServer } from "../../rpc/server.js";
import { blockdProto } from "../../rpc/proto.js";
import { wrapService, type RpcObserver, type WrapOptions } from "../../rpc/rpc.js";
import type { Endpoint } from "../../rpc/endpoint.js";
import { exec } from "../../util/exec.js";
import type { Logger } from "../../util/log.js";
import { GlusterCli } from "../gluster/gluster-cli.js";
import { VolumeMounts } from "../volume/mounts.js";
import { ConfigfsLioTargets } from "../lio/configfs-lio-targets.js";
import { ensureLioModules } from "../lio/modules.js";
import { BlockEngine, type BlockEngineOptions } from "../engine/block-engine.js";
import { LocalNode } from "../engine/local-node.js";
import { Auditor } from "../engine/audit.js";
import { GrpcPeers } from "./grpc-peers.js";
import { blockdService, peerService } from "./services.js";
import { blockErrorToCsi } from "./error-map.js";
import { readPeerKey } from "../../rpc/peer-auth.js";
import { loadBlockdTls, BLOCKD_TLS_FLAGS, type TlsFiles } from "../../rpc/tls.js";
import { serveTcpApi, tcpAuthRefusal } from "./tcp-api.js";
import { META_DIR } from "../volume/block-store.js";
import { canonicalHost } from "../../identity/names.js";

export interface BlockdConfig {
  /** this node's address: its portal and its name to peers */
  host: string;
  socket: Endpoint;
  listen: Endpoint;
  peerPort: number;
  mountRoot: string;
  volfileServer: string;
  glusterdSocket?: string;
  keyFile?: string;
  /** mutual TLS on the TCP API and to the peers (src/rpc/tls.ts: the certificate scheme) */
  tls?: TlsFiles;
  /** --insecure-no-auth: serve TCP with neither TLS nor a key */
  insecureNoAuth?: boolean;
  /** --insecure-key-over-plaintext: the key without TLS */
  insecureKeyOverPlaintext?: boolean;
  configfsRoot?: string;
  /** volumes to reconcile at start; empty = every started volume */
  volumes: string[];
  reconcileAtStart: boolean;
  /** metrics: sees every RPC of both listeners */
  observer?: RpcObserver;
  /** tests only: the engine's step hook (test-crash-hook.ts) */
  faults?: BlockEngineOptions["faults"];
  log: Logger;
}

export interface RunningBlockd {
  engine: BlockEngine;
  local: LocalNode;
  stop(): Promise<void>;
  /** resolves when the start-up reconcile has brought LIO back (the audit after it is not waited for) */
  reconciled: Promise<void>;
}

export async function startBlockd(cfg: BlockdConfig): Promise<RunningBlockd> {
  const log = cfg.log;
  const host = canonicalHost(cfg.host);
  // before anything is read or bound: a daemon that may not serve TCP so does not start at all
  const insecure = { insecureNoAuth: cfg.insecureNoAuth === true, insecureKeyOverPlaintext: cfg.insecureKeyOverPlaintext === true };
  const refused = tcpAuthRefusal({ tls: cfg.tls !== undefined, key: Boolean(cfg.keyFile), ...insecure });
  if (refused !== undefined) throw new Error(refused);
  const key = cfg.keyFile ? await readPeerKey(cfg.keyFile) : undefined;
  // the peer certificate: it serves this node's API and calls the peers'
  const tls = cfg.tls ? await loadBlockdTls(cfg.tls, { flags: BLOCKD_TLS_FLAGS, role: "peer", log }) : undefined;
  const gluster = new GlusterCli({ exec, ...(cfg.glusterdSocket ? { glusterdSocket: cfg.glusterdSocket } : {}) });
  const mounts = new VolumeMounts({ exec, root: cfg.mountRoot, volfileServer: cfg.volfileServer, log });
  const lio = new ConfigfsLioTargets({
    ...(cfg.configfsRoot ? { root: cfg.configfsRoot } : {}),
    logger: log,
    prepare: () => ensureLioModules({ exec, logger: log }),
  });
  const local = new LocalNode({ host, mounts, lio, exec, volfileServer: cfg.volfileServer, log });
  const peers = new GrpcPeers({ local, port: cfg.peerPort, ...(key ? { key } : {}), ...(tls ? { tls } : {}) });
  const engine = new BlockEngine({ host, mounts, gluster, peers, exec, log, ...(cfg.faults ? { faults: cfg.faults } : {}) });
  const auditor = new Auditor(engine, local, lio, peers, log);
  const proto = blockdProto().glusterblock.v1;

  const base: WrapOptions = {
    log,
    mapError: blockErrorToCsi,
    quietMethods: ["Ping", "GetNodeStatus", "TargetStatus", "TargetStatuses"],
    ...(cfg.observer ? { observer: cfg.observer } : {}),
  };

  // the CLI: local, root only
  const cliServer = new GrpcServer(log.child({ listener: "cli" }));
  cliServer.addService(proto.Blockd.service, wrapService(proto.Blockd.service, blockdService(engine, auditor), base));
  await cliServer.listen({ endpoint: cfg.socket, socketMode: 0o600 });

  // the CSI controller and the peers: TLS (and the key, if configured)
  const { server: tcpServer } = await serveTcpApi({
    listen: cfg.listen,
    ...(key ? { key } : {}),
    ...(tls ? { tls } : {}),
    ...insecure,
    blockd: blockdService(engine, auditor),
    peer: peerService(local),
    wrap: base,
    log: log.child({ listener: "tcp" }),
  });

  const reconciled = cfg.reconcileAtStart ? reconcileAll(cfg, gluster, mounts, local, log) : Promise.resolve([]);
  // the audit only reports (its findings go to the log): readiness does not wait for it
  void reconciled.then((volumes) => auditAtStart(volumes, auditor, log));

  return {
    engine,
    local,
    reconciled: reconciled.then(() => undefined),
    async stop() {
      await Promise.all([cliServer.stop(), tcpServer.stop()]);
      peers.close();
    },
  };
}

/** Brings this node's LIO back to the journals of every hosting volume; answers the volumes reconciled. Never fails: each failure is logged. */
async function reconcileAll(cfg: BlockdConfig, gluster: GlusterCli, mounts: VolumeMounts, local: LocalNode, log: Logger): Promise<string[]> {
  const started = Date.now();
  const done: string[] = [];
  try {
    const volumes = cfg.volumes.length > 0 ? cfg.volumes : (await gluster.volumes()).filter((v) => v.started).map((v) => v.name);
    for (const volume of volumes) {
      try {
        const root = await mounts.ensure(volume);
        if (
          !(await access(join(root, META_DIR)).then(
            () => true,
            () => false,
          ))
        )
          continue;
        const r = await local.reconcileVolume(volume);
        log.info("reconciled LIO to the journals", { volume, converged: r.converged.length, failed: r.failed, ms: Date.now() - started });
        done.push(volume);
      } catch (err) {
        log.error("reconcile of a volume failed", { volume, error: err instanceof Error ? err.message : String(err) });
      }
    }
    // count the targets once now, so that no peer's Ping waits for the configfs walk
    await local.nodeStatus();
  } catch (err) {
    log.error("reconcile at start failed", { error: err instanceof Error ? err.message : String(err) });
  }
  return done;
}

async function auditAtStart(volumes: readonly string[], auditor: Auditor, log: Logger): Promise<void> {
  for (const volume of volumes) {
    try {
      const findings = await auditor.audit(volume, false);
      if (findings.length > 0) log.warn("audit at start found problems; run `gluster-block audit <volume>`", { volume, findings: findings.length });
    } catch (err) {
      log.error("audit at start failed", { volume, error: err instanceof Error ? err.message : String(err) });
    }
  }
}
