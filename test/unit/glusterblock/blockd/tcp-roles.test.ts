// One identity per role (the safety issue's item 7), over real mutual TLS on
// loopback with certificates from the real openssl: blockd's TCP API as the
// daemon builds it (serveTcpApi, TLS and the shared key, like the chart),
// called by the product's own clients (the controller's BlockdClient,
// blockd's GrpcPeers) and by bare grpc clients. The BlockdPeer RPCs serve
// only peer certificates (DNS:gluster-blockd, serverAuth); the controller's
// (DNS:gluster-block-csi-controller) gets PERMISSION_DENIED there, and the
// Blockd service. Every refused call is proved to have run no handler.
//
// PERMISSION_DENIED, not UNAUTHENTICATED: the caller did authenticate (a
// certificate of the CA, verified in the handshake, and the key); blockd
// knows who it is, and that one may not make this call. UNAUTHENTICATED is
// kept for callers that proved nothing (no certificate, no or a wrong key).
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, Metadata, status, type Client } from "@grpc/grpc-js";
import { serveTcpApi, tcpAuthorizer, type RunningTcpApi } from "../../../../src/glusterblock/blockd/tcp-api.js";
import { loadBlockdTls, certificateRoles, BLOCKD_TLS_FLAGS, BLOCKD_TLS_NAME, type BlockdTls } from "../../../../src/rpc/tls.js";
import { KEY_HEADER } from "../../../../src/rpc/peer-auth.js";
import { GrpcPeers } from "../../../../src/glusterblock/blockd/grpc-peers.js";
import type { LocalNode } from "../../../../src/glusterblock/engine/local-node.js";
import { CONTROLLER_TLS_FLAGS } from "../../../../src/controller/config.js";
import { BlockdClient } from "../../../../src/controller/blockd-client.js";
import { StaticDiscovery } from "../../../../src/controller/discovery.js";
import { blockdProto } from "../../../../src/rpc/proto.js";
import { unary } from "../../../../src/rpc/unary-client.js";
import { StatusError } from "../../../../src/rpc/errors.js";
import type { AsyncHandlers, AuthContext } from "../../../../src/rpc/rpc.js";
import type { BlockdHandlers } from "../../../../src/generated/glusterblock/v1/Blockd.js";
import type { BlockdPeerHandlers } from "../../../../src/generated/glusterblock/v1/BlockdPeer.js";
import { captureLog, type CapturedLog } from "../../../../lab/harness/log-capture.js";
import { makeTestPki, type TestPki, type CertFiles } from "../../../helpers/tls-pki.js";

const KEY = "tls-roles-test-shared-key-0123456789";
const LOOPBACK = { kind: "tcp", host: "127.0.0.1", port: 0 } as const;
const PEER_METHODS = ["Ping", "ApplyTarget", "RemoveTarget", "TargetStatus", "TargetStatuses"] as const;

/** invocations of each handler: a refused caller must leave them all unchanged */
const calls: Record<string, number> = {};
const count = (m: string): void => void (calls[m] = (calls[m] ?? 0) + 1);
const total = (): number => Object.values(calls).reduce((a, b) => a + b, 0);
const nodeStatus = { host: "127.0.0.1", version: "test", targets: 0, active_paths: 0, volumes: [], ready: true };
const result = (detail: string) => ({ host: "127.0.0.1", present: true, matches: true, detail });

const blockdHandlers: AsyncHandlers<BlockdHandlers> = {
  GetNodeStatus() {
    count("GetNodeStatus");
    return Promise.resolve(nodeStatus);
  },
  CreateBlock(req) {
    count("CreateBlock");
    return Promise.resolve({ iqn: `iqn.2016-12.org.gluster-block:${req.block}`, portals: [], gbid: "g", size_bytes: "0", already_existed: false });
  },
};
const peerHandlers: AsyncHandlers<BlockdPeerHandlers> = {
  Ping() {
    count("Ping");
    return Promise.resolve(nodeStatus);
  },
  ApplyTarget(ref) {
    count("ApplyTarget");
    return Promise.resolve(result(ref.block));
  },
  RemoveTarget(ref) {
    count("RemoveTarget");
    return Promise.resolve(result(ref.block));
  },
  TargetStatus(ref) {
    count("TargetStatus");
    return Promise.resolve(result(ref.block));
  },
  TargetStatuses(req) {
    count("TargetStatuses");
    return Promise.resolve({ results: req.refs.map((r) => result(r.block)) });
  },
};

let dir: string;
let pki: TestPki;
let serverLog: CapturedLog;
let peerTls: BlockdTls;
let controllerTls: BlockdTls;
let api: RunningTcpApi;
const clients: { close(): void }[] = [];

const hostPort = (a: RunningTcpApi): string => a.address.replace("tcp://", "");
const portOf = (a: RunningTcpApi): number => Number(hostPort(a).split(":").pop());

/** a bare client of `service` presenting `files`, checking the server against DNS:gluster-blockd like the product's */
async function rawClient(service: "Blockd" | "BlockdPeer", files: CertFiles, to: RunningTcpApi = api): Promise<Client> {
  const creds = credentials.createSsl(await readFile(pki.ca), await readFile(files.key), await readFile(files.cert));
  const c = new (blockdProto().glusterblock.v1[service])(hostPort(to), creds, { "grpc.ssl_target_name_override": BLOCKD_TLS_NAME });
  clients.push(c);
  return c;
}

function withKey(): Metadata {
  const md = new Metadata();
  md.set(KEY_HEADER, KEY);
  return md;
}

async function outcome(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
    return { code: status.OK, details: "" };
  } catch (err) {
    const e = err as { code?: number; details?: string };
    return { code: e.code ?? -1, details: e.details ?? String(err) };
  }
}

const REF = { volume: "hv", block: "b1", gbid: "g" };
const peerRequest = (m: (typeof PEER_METHODS)[number]): unknown => (m === "Ping" ? {} : m === "TargetStatuses" ? { refs: [REF] } : REF);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "gb-roles-"));
  pki = await makeTestPki(dir);
  serverLog = captureLog("debug");
  peerTls = await loadBlockdTls({ ...pki.blockd, ca: pki.ca }, { flags: BLOCKD_TLS_FLAGS, role: "peer", log: serverLog.log });
  controllerTls = await loadBlockdTls({ ...pki.controller, ca: pki.ca }, { flags: CONTROLLER_TLS_FLAGS, role: "controller", log: captureLog().log });
  api = await serveTcpApi({
    listen: LOOPBACK,
    tls: peerTls,
    key: KEY,
    blockd: blockdHandlers,
    peer: peerHandlers,
    wrap: { log: serverLog.log },
    log: serverLog.log,
  });
});

after(async () => {
  for (const c of clients) c.close();
  await api?.server.stop(1_000);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the controller's client certificate", () => {
  test("is served on the Blockd service (the controller's BlockdClient, by IP address)", async () => {
    const before = { s: calls.GetNodeStatus ?? 0, c: calls.CreateBlock ?? 0 };
    const blockd = new BlockdClient({ discovery: new StaticDiscovery([hostPort(api)]), key: KEY, tls: controllerTls, log: captureLog().log });
    clients.push(blockd);
    assert.equal((await blockd.call(hostPort(api), "GetNodeStatus", {})).host, "127.0.0.1");
    assert.equal(
      (await blockd.call(hostPort(api), "CreateBlock", { volume: "hv", block: "c1", size_bytes: "1048576" })).iqn,
      "iqn.2016-12.org.gluster-block:c1",
    );
    assert.deepEqual([calls.GetNodeStatus, calls.CreateBlock], [before.s + 1, before.c + 1]);
  });

  test("gets PERMISSION_DENIED on every BlockdPeer RPC, with the key, and no peer handler runs", async () => {
    const before = total();
    const c = await rawClient("BlockdPeer", pki.controller);
    for (const m of PEER_METHODS) {
      const r = await outcome(unary(c, m, peerRequest(m), { timeoutMs: 5_000, metadata: withKey() }));
      assert.equal(r.code, status.PERMISSION_DENIED, `${m}: ${status[r.code]} ${r.details}`);
      assert.match(
        r.details,
        /^the BlockdPeer service serves only a blockd peer \(DNS:gluster-blockd, serverAuth and clientAuth\); the client certificate \(CN=gluster-block-csi controller, DNS:gluster-block-csi-controller\) is the controller/,
      );
    }
    assert.equal(total(), before, "no handler ran");
    const refused = serverLog.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === "refused a call this caller may not make");
    assert.ok(refused.length >= PEER_METHODS.length, serverLog.text());
    assert.equal(refused[0]?.code, "PERMISSION_DENIED");
  });

  test("cannot pose as a blockd: a peer and the controller refuse a server that presents it", async () => {
    // a listener serving the controller's certificate (as if it were stolen); the programs' own start-up check refuses it, so build the material by hand
    const stolen: BlockdTls = { ...controllerTls, ca: await readFile(pki.ca) };
    const impostorLog = captureLog();
    const impostor = await serveTcpApi({
      listen: LOOPBACK,
      tls: stolen,
      blockd: blockdHandlers,
      peer: peerHandlers,
      wrap: { log: impostorLog.log },
      log: impostorLog.log,
    });
    try {
      const before = total();
      const peers = new GrpcPeers({ local: { host: "192.0.2.99" } as LocalNode, port: portOf(impostor), key: KEY, tls: peerTls, timeoutMs: 5_000 });
      clients.push(peers);
      await assert.rejects(peers.ping("127.0.0.1", 5_000), (err: unknown) => (err as { code?: number }).code === status.UNAVAILABLE);
      const blockd = new BlockdClient({
        discovery: new StaticDiscovery([hostPort(impostor)]),
        key: KEY,
        tls: controllerTls,
        log: captureLog().log,
        connectTimeoutMs: 2_000,
      });
      clients.push(blockd);
      await assert.rejects(
        blockd.call(hostPort(impostor), "CreateBlock", { volume: "hv", block: "to-impostor", size_bytes: "1048576" }),
        (err: unknown) => err instanceof StatusError && err.code === status.UNAVAILABLE,
      );
      assert.equal(total(), before, "nothing reached the impostor's handlers");
    } finally {
      await impostor.server.stop(1_000);
    }
  });
});

describe("a peer certificate", () => {
  test("is served on the BlockdPeer RPCs (blockd's GrpcPeers, by IP address)", async () => {
    const before = { ping: calls.Ping ?? 0, apply: calls.ApplyTarget ?? 0, many: calls.TargetStatuses ?? 0 };
    const peers = new GrpcPeers({ local: { host: "192.0.2.99" } as LocalNode, port: portOf(api), key: KEY, tls: peerTls });
    clients.push(peers);
    assert.equal((await peers.ping("127.0.0.1")).ready, true);
    assert.equal((await peers.apply("127.0.0.1", REF)).detail, "b1");
    assert.equal((await peers.remove("127.0.0.1", REF)).detail, "b1");
    assert.deepEqual(
      (await peers.statusMany("127.0.0.1", [REF])).map((a) => ("detail" in a ? a.detail : a.error)),
      ["b1"],
    );
    assert.deepEqual([calls.Ping, calls.ApplyTarget, calls.TargetStatuses], [before.ping + 1, before.apply + 1, before.many + 1]);
  });

  test("may call the Blockd service too", async () => {
    const before = calls.GetNodeStatus ?? 0;
    const c = await rawClient("Blockd", pki.blockd);
    assert.equal((await outcome(unary(c, "GetNodeStatus", {}, { timeoutMs: 5_000, metadata: withKey() }))).code, status.OK);
    assert.equal(calls.GetNodeStatus, before + 1);
  });
});

describe("certificates of the CA in no role", () => {
  test("one that names neither role is PERMISSION_DENIED on both services", async () => {
    const before = total();
    const blockd = await rawClient("Blockd", pki.stranger);
    const r = await outcome(
      unary(blockd, "CreateBlock", { volume: "hv", block: "stranger", size_bytes: "1048576" }, { timeoutMs: 5_000, metadata: withKey() }),
    );
    assert.equal(r.code, status.PERMISSION_DENIED, r.details);
    assert.match(r.details, /^the Blockd service serves only the controller \(DNS:gluster-block-csi-controller, clientAuth\) and a blockd peer .* is neither$/);
    const peer = await rawClient("BlockdPeer", pki.stranger);
    assert.equal((await outcome(unary(peer, "Ping", {}, { timeoutMs: 5_000, metadata: withKey() }))).code, status.PERMISSION_DENIED);
    assert.equal(total(), before, "no handler ran");
  });

  test("one that names gluster-blockd but is for clientAuth only is no peer: it could not serve as one", async () => {
    const before = total();
    const peer = await rawClient("BlockdPeer", pki.blockdNamedClient);
    const r = await outcome(unary(peer, "ApplyTarget", REF, { timeoutMs: 5_000, metadata: withKey() }));
    assert.equal(r.code, status.PERMISSION_DENIED, r.details);
    assert.equal(total(), before);
  });
});

describe("authentication comes before the role", () => {
  test("a peer certificate without the key is UNAUTHENTICATED, not PERMISSION_DENIED", async () => {
    const before = total();
    const c = await rawClient("BlockdPeer", pki.blockd);
    const r = await outcome(unary(c, "Ping", {}, { timeoutMs: 5_000 }));
    assert.deepEqual([r.code, r.details], [status.UNAUTHENTICATED, "a valid blockd key is required"]);
    const ctl = await rawClient("BlockdPeer", pki.controller);
    assert.equal(
      (await outcome(unary(ctl, "Ping", {}, { timeoutMs: 5_000 }))).code,
      status.UNAUTHENTICATED,
      "the controller without the key learns nothing of roles",
    );
    assert.equal(total(), before);
  });

  test("the per-call check, from a verified certificate: the key first, then the role of the service", async () => {
    const verified = async (files: CertFiles): Promise<AuthContext> => {
      const x = new X509Certificate(await readFile(files.cert));
      return {
        transportSecurityType: "ssl",
        sslPeerCertificate: { raw: x.raw, fingerprint256: x.fingerprint256, subject: { CN: "x" }, subjectaltname: x.subjectAltName },
      } as unknown as AuthContext;
    };
    const md = (key?: string): Metadata => {
      const m = new Metadata();
      if (key) m.set(KEY_HEADER, key);
      return m;
    };
    const code = (r: StatusError | undefined): string => r?.codeName ?? "OK";
    const [peer, controller, stranger] = await Promise.all([pki.blockd, pki.controller, pki.stranger].map(verified));
    const blockd = tcpAuthorizer(KEY, true, "Blockd");
    const peerSvc = tcpAuthorizer(KEY, true, "BlockdPeer");
    assert.deepEqual(
      [blockd, peerSvc].map((a) => code(a(md(KEY), "p", peer!))),
      ["OK", "OK"],
    );
    assert.deepEqual(
      [blockd, peerSvc].map((a) => code(a(md(KEY), "p", controller!))),
      ["OK", "PERMISSION_DENIED"],
    );
    assert.deepEqual(
      [blockd, peerSvc].map((a) => code(a(md(KEY), "p", stranger!))),
      ["PERMISSION_DENIED", "PERMISSION_DENIED"],
    );
    assert.deepEqual(
      [blockd, peerSvc].map((a) => code(a(md("wrong-key-0123456789"), "p", controller!))),
      ["UNAUTHENTICATED", "UNAUTHENTICATED"],
    );
  });
});

describe("each program's own certificate at start-up", () => {
  test("the controller refuses a peer certificate, and one not naming the controller", async () => {
    const load = (files: CertFiles) => loadBlockdTls({ ...files, ca: pki.ca }, { flags: CONTROLLER_TLS_FLAGS, role: "controller", log: captureLog().log });
    await assert.rejects(
      load(pki.blockd),
      /--blockd-tls-cert .*blockd\.crt: this is a blockd peer certificate \(it names gluster-blockd\): with it the controller could call blockd's peer-only RPCs and pose as a blockd/,
    );
    await assert.rejects(
      load(pki.stranger),
      /--blockd-tls-cert .*stranger\.crt: the certificate does not name gluster-block-csi-controller \(its subject alternative names: DNS:storage-admin\.example\.org\)/,
    );
    await load(pki.controller);
  });

  test("blockd refuses the controller's certificate: it lacks serverAuth and the name gluster-blockd", async () => {
    await assert.rejects(
      loadBlockdTls({ ...pki.controller, ca: pki.ca }, { flags: BLOCKD_TLS_FLAGS, role: "peer", log: captureLog().log }),
      /extendedKeyUsage lacks serverAuth/,
    );
  });

  test("the roles of each test certificate", async () => {
    const roles = async (files: CertFiles) => certificateRoles(new X509Certificate(await readFile(files.cert)));
    assert.deepEqual(await roles(pki.blockd), ["peer"]);
    assert.deepEqual(await roles(pki.controller), ["controller"]);
    assert.deepEqual(await roles(pki.stranger), []);
    assert.deepEqual(await roles(pki.blockdNamedClient), []);
    assert.deepEqual(await roles(pki.unnamed), []);
  });
});
