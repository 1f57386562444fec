// A BlockEngine over a temp directory laid out as a hosting volume, its HA
// hosts LocalNodes in this process, each with its own configfs imitation:
// for engine tests that need journals, peers and LIO but no glusterd and no
// network. `gluster volume info` is answered here; the block lock is
// flock(1), the real program.
import { rm } from "node:fs/promises";
import { BlockEngine, type BlockEngineOptions } from "../../src/glusterblock/engine/block-engine.js";
import { LocalNode } from "../../src/glusterblock/engine/local-node.js";
import type { NodeStatusInfo, PeerRef, Peers, TargetInspection, TargetResult, TargetStatusAnswer } from "../../src/glusterblock/engine/peers.js";
import { GlusterCli } from "../../src/glusterblock/gluster/gluster-cli.js";
import { ConfigfsLioTargets } from "../../src/glusterblock/lio/configfs-lio-targets.js";
import type { BlockStore } from "../../src/glusterblock/volume/block-store.js";
import { extLine } from "../../src/glusterblock/engine/extensions.js";
import { createDoneLines, createIntentLines, hostLine } from "../../src/glusterblock/journal/index.js";
import { cfgstringFor, iqnFor } from "../../src/identity/names.js";
import { exec, type Exec } from "../../src/util/exec.js";
import { nullLogger } from "../../src/util/log.js";
import { FakeConfigfs } from "../doubles/fake-configfs.js";
import { tempHostingVolume } from "./temp-hosting-volume.js";

export const CONFIGFS_ROOT = "/sys/kernel/config/target";

export interface LocalHost {
  fs: FakeConfigfs;
  local: LocalNode;
}

/** Peers that route to the LocalNodes; a host in `down` refuses the connection; every call counted by method and host. */
export class LocalPeers implements Peers {
  readonly calls: string[] = [];
  readonly down = new Set<string>();
  constructor(private readonly hosts: Map<string, LocalHost>) {}
  private node(method: string, host: string): LocalNode {
    this.calls.push(`${method} ${host}`);
    const n = this.hosts.get(host);
    if (!n || this.down.has(host)) throw new Error(`connect ECONNREFUSED ${host}:24010`);
    return n.local;
  }
  apply(host: string, ref: PeerRef): Promise<TargetResult> {
    return Promise.resolve().then(() => this.node("apply", host).apply(ref));
  }
  remove(host: string, ref: PeerRef): Promise<TargetResult> {
    return Promise.resolve().then(() => this.node("remove", host).remove(ref));
  }
  status(host: string, ref: PeerRef): Promise<TargetResult> {
    return Promise.resolve().then(() => this.node("status", host).status(ref));
  }
  statusMany(host: string, refs: readonly PeerRef[]): Promise<TargetStatusAnswer[]> {
    return Promise.resolve().then(() => this.node("statusMany", host).statusMany(refs));
  }
  ping(host: string): Promise<NodeStatusInfo> {
    return Promise.resolve().then(() => this.node("ping", host).nodeStatus());
  }
  inspect(host: string, ref: PeerRef): Promise<TargetInspection> {
    return Promise.resolve().then(() => this.node("inspect", host).inspect(ref));
  }
}

export interface LocalEngine {
  engine: BlockEngine;
  store: BlockStore;
  hosts: Map<string, LocalHost>;
  peers: LocalPeers;
  /** how many times the engine ran `gluster volume info` */
  glusterAsked(): number;
  cleanup(): Promise<void>;
}

/** The engine runs on hosts[0]; `faults` sees every step it takes (throw to stop it there, as a crash would). */
export async function localEngine(
  volume: string,
  hostAddresses: readonly string[],
  prefix: string,
  opts: Pick<BlockEngineOptions, "faults"> = {},
): Promise<LocalEngine> {
  const v = await tempHostingVolume(volume, prefix);
  const hosts = new Map<string, LocalHost>();
  for (const host of hostAddresses) {
    const fs = new FakeConfigfs(CONFIGFS_ROOT);
    const lio = new ConfigfsLioTargets({ root: CONFIGFS_ROOT, fs });
    hosts.set(host, { fs, local: new LocalNode({ host, mounts: v.mounts, lio, exec, volfileServer: "localhost", log: nullLogger }) });
  }
  const info = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cliOutput><opRet>0</opRet><opErrno>0</opErrno><opErrstr/><volInfo><volumes><volume><name>${volume}</name><status>1</status><statusStr>Started</statusStr><typeStr>Replicate</typeStr><replicaCount>3</replicaCount><bricks/><options/></volume><count>1</count></volumes></volInfo></cliOutput>`;
  let asked = 0;
  const glusterExec: Exec = (file, args) => (asked++, Promise.resolve({ file, redactedArgs: args, stdout: info, stderr: "", exitCode: 0, durationMs: 1 }));
  const peers = new LocalPeers(hosts);
  const engine = new BlockEngine({
    host: hostAddresses[0] ?? "",
    mounts: v.mounts,
    gluster: new GlusterCli({ exec: glusterExec }),
    peers,
    exec,
    log: nullLogger,
    ...opts,
  });
  return { engine, store: v.store, hosts, peers, glusterAsked: () => asked, cleanup: () => rm(v.dir, { recursive: true, force: true }) };
}

/**
 * Replaces every journal with one CSI block (explicit ACLs, no initiator let
 * in yet), made completely and exported on every host of `local` (16 MiB).
 */
export async function seedCsiBlock(local: LocalEngine, b: { volume: string; block: string; gbid: string }): Promise<void> {
  const hosts = [...local.hosts.keys()];
  for (const name of await local.store.listNames()) await local.store.removeMeta(name);
  await local.store.append(
    b.block,
    createIntentLines({ volume: b.volume, gbid: b.gbid, ha: hosts.length, prioPath: hosts[0] ?? "" }) +
      extLine("HOSTS", hosts.join(" ")) +
      extLine("ACLMODE", "EXPLICIT"),
  );
  await local.store.append(b.block, createDoneLines({ sizeBytes: 16n * 1024n * 1024n }) + hosts.map((h) => hostLine(h, "CONFIGSUCCESS")).join(""));
  for (const [host, h] of local.hosts)
    await h.local.apply({ volume: b.volume, block: b.block, gbid: b.gbid }).catch((e: unknown) => {
      throw new Error(`${host}: ${String(e)}`);
    });
}

/** One of the journals recorded from gluster-block 0.5.1 (test/fixtures/journal) and what its LIO held. */
export interface OriginalSample {
  /** the journal file's text; PASSWORD's value is replaced by `password` */
  journal: string;
  gbid: string;
  /** PRIOPATH: its TPG's LUN in the ALUA active/optimized group */
  prio: string;
  /** "" without CHAP */
  password: string;
  sizeBytes: number;
  /** the create's host order: the original's TPG order (its journal's host lines are in thread order) */
  tpgOrder: readonly string[];
}

/**
 * Replaces every journal with the sample block `name` as 0.5.1 leaves it: its
 * journal as recorded, its ACL proof gone, nobody logged in, and on every
 * host the target 0.5.1 made (generated ACLs, its TPG order, tpg-auth with
 * userid = GBID: shared/research/gluster-block-samples/targetcli-ls-a1.txt).
 */
export async function seedOriginalBlock(local: LocalEngine, name: string, s: OriginalSample): Promise<{ gbid: string; iqn: string }> {
  const iqn = iqnFor(s.gbid);
  for (const n of await local.store.listNames()) await local.store.removeMeta(n);
  // a proof left by an earlier test would name this very journal once adopted again
  await local.store.removeAclProof(name);
  await local.store.append(name, s.journal.replace(/^PASSWORD: .*$/m, `PASSWORD: ${s.password}`));
  for (const [host, h] of local.hosts) {
    h.fs.ops.length = 0;
    for (let tag = 1; tag <= s.tpgOrder.length; tag++) for (const i of h.fs.sessionsOn(iqn, tag)) h.fs.logout(iqn, tag, i);
    await new ConfigfsLioTargets({ root: CONFIGFS_ROOT, fs: h.fs }).apply({
      name,
      gbid: s.gbid,
      cfgstring: cfgstringFor(local.store.volume, "localhost", s.gbid),
      sizeBytes: s.sizeBytes,
      iqn,
      hosts: s.tpgOrder,
      localHost: host,
      aoHost: s.prio,
      ...(s.password ? { auth: { userid: s.gbid, password: s.password } } : {}),
      generateNodeAcls: true,
      acls: [],
    });
  }
  return { gbid: s.gbid, iqn };
}
