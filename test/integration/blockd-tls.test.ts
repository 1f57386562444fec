// Mutual TLS on blockd's TCP API, with real certificates from openssl and the
// real grpc-js TLS stack on loopback: the listener is built by the code the
// daemon uses (tcp-api.ts), the clients are the controller's BlockdClient,
// blockd's GrpcPeers and bare grpc clients. Every refused caller is proved to
// have changed nothing: the handlers count their calls.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { credentials, Metadata, status, type ChannelCredentials, type Client } from "@grpc/grpc-js";
import { serveTcpApi, type RunningTcpApi } from "../../src/glusterblock/blockd/tcp-api.js";
import { loadBlockdTls, BLOCKD_TLS_FLAGS, BLOCKD_TLS_NAME, type BlockdTls } from "../../src/rpc/tls.js";
import { KEY_HEADER } from "../../src/rpc/peer-auth.js";
import { GrpcPeers } from "../../src/glusterblock/blockd/grpc-peers.js";
import type { LocalNode } from "../../src/glusterblock/engine/local-node.js";
import { CONTROLLER_TLS_FLAGS } from "../../src/controller/config.js";
import { BlockdClient } from "../../src/controller/blockd-client.js";
import { StaticDiscovery } from "../../src/controller/discovery.js";
import { blockdProto } from "../../src/rpc/proto.js";
import { unary } from "../../src/rpc/unary-client.js";
import { StatusError } from "../../src/rpc/errors.js";
import type { AsyncHandlers } from "../../src/rpc/rpc.js";
import type { BlockdHandlers } from "../../src/generated/glusterblock/v1/Blockd.js";
import type { BlockdPeerHandlers } from "../../src/generated/glusterblock/v1/BlockdPeer.js";
import { captureLog, type CapturedLog } from "../../lab/harness/log-capture.js";
import { makeTestPki, type TestPki, type CertFiles } from "../helpers/tls-pki.js";

const KEY = "tls-test-shared-key-0123456789";
const LOOPBACK = { kind: "tcp", host: "127.0.0.1", port: 0 } as const;

/** invocations of each handler: a refused caller must leave them all unchanged */
const calls = { GetNodeStatus: 0, CreateBlock: 0, Ping: 0, ApplyTarget: 0 };
const total = (): number => Object.values(calls).reduce((a, b) => a + b, 0);
const nodeStatus = { host: "127.0.0.1", version: "test", targets: 0, active_paths: 0, ready: true };

const blockdHandlers: AsyncHandlers<BlockdHandlers> = {
  GetNodeStatus() {
    calls.GetNodeStatus++;
    return Promise.resolve(nodeStatus);
  },
  CreateBlock(req) {
    calls.CreateBlock++;
    return Promise.resolve({ iqn: `iqn.2016-12.org.gluster-block:${req.block}`, portals: [], gbid: "g", size_bytes: "0", already_existed: false });
  },
};
const peerHandlers: AsyncHandlers<BlockdPeerHandlers> = {
  Ping() {
    calls.Ping++;
    return Promise.resolve(nodeStatus);
  },
  ApplyTarget(ref) {
    calls.ApplyTarget++;
    return Promise.resolve({ host: "127.0.0.1", present: true, matches: true, detail: ref.block });
  },
};

let dir: string;
let pki: TestPki;
let serverLog: CapturedLog;
let serverTls: BlockdTls;
let tlsOnly: RunningTcpApi;
let tlsAndKey: RunningTcpApi;
const clients: { close(): void }[] = [];

const hostPort = (api: RunningTcpApi): string => api.address.replace("tcp://", "");

async function clientTls(files: CertFiles, ca = pki.ca): Promise<BlockdTls> {
  return loadBlockdTls({ ...files, ca }, { flags: CONTROLLER_TLS_FLAGS, role: "controller", log: captureLog().log });
}

/** a bare Blockd client that checks the server against DNS:gluster-blockd, like the product's */
function rawClient(api: RunningTcpApi, creds: ChannelCredentials): Client {
  const c = new (blockdProto().glusterblock.v1.Blockd)(hostPort(api), creds, { "grpc.ssl_target_name_override": BLOCKD_TLS_NAME });
  clients.push(c);
  return c;
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

const withKey = (key: string | undefined): Metadata => {
  const md = new Metadata();
  if (key !== undefined) md.set(KEY_HEADER, key);
  return md;
};

/** the server's log lines that record a refused handshake with this verdict */
const refusals = (verdict: string): Record<string, unknown>[] =>
  serverLog.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === "refused a TLS client" && l.verdict === verdict);

async function refusalLogged(verdict: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const r = refusals(verdict)[0];
    if (r) return r;
    await sleep(20);
  }
  assert.fail(`no "refused a TLS client" line with verdict ${verdict} in:\n${serverLog.text()}`);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "gb-tls-"));
  pki = await makeTestPki(dir);
  serverLog = captureLog("debug");
  serverTls = await loadBlockdTls({ ...pki.blockd, ca: pki.ca }, { flags: BLOCKD_TLS_FLAGS, role: "peer", log: serverLog.log });
  const common = { tls: serverTls, blockd: blockdHandlers, peer: peerHandlers, wrap: { log: serverLog.log }, log: serverLog.log };
  tlsOnly = await serveTcpApi({ listen: LOOPBACK, ...common });
  tlsAndKey = await serveTcpApi({ listen: LOOPBACK, key: KEY, ...common });
});

after(async () => {
  for (const c of clients) c.close();
  await Promise.all([tlsOnly?.server.stop(1_000), tlsAndKey?.server.stop(1_000)]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a client with a certificate of the blockd CA", () => {
  test("the controller's BlockdClient dials blockd by IP address and is served", async () => {
    const before = calls.GetNodeStatus;
    const blockd = new BlockdClient({ discovery: new StaticDiscovery([hostPort(tlsOnly)]), tls: await clientTls(pki.controller), log: captureLog().log });
    clients.push(blockd);
    const s = await blockd.call(hostPort(tlsOnly), "GetNodeStatus", {});
    assert.equal(s.host, "127.0.0.1");
    assert.equal(calls.GetNodeStatus, before + 1);
  });

  test("a changing call goes through too", async () => {
    const before = calls.CreateBlock;
    const c = rawClient(tlsOnly, credentials.createSsl(await readFile(pki.ca), await readFile(pki.controller.key), await readFile(pki.controller.cert)));
    const r = await unary<{ iqn: string }>(c, "CreateBlock", { volume: "hv", block: "b1", size_bytes: "1048576" });
    assert.equal(r.iqn, "iqn.2016-12.org.gluster-block:b1");
    assert.equal(calls.CreateBlock, before + 1);
  });

  test("a peer blockd calls with its own certificate (GrpcPeers, by IP address)", async () => {
    const before = calls.Ping;
    const port = Number(hostPort(tlsOnly).split(":").pop());
    const peers = new GrpcPeers({ local: { host: "192.0.2.99" } as LocalNode, port, tls: serverTls });
    clients.push(peers);
    const s = await peers.ping("127.0.0.1");
    assert.equal(s.ready, true);
    const r = await peers.apply("127.0.0.1", { volume: "hv", block: "b1", gbid: "g" });
    assert.equal(r.detail, "b1");
    assert.equal(calls.Ping, before + 1);
  });
});

describe("refused in the TLS handshake, before any handler runs", () => {
  test("a client without a certificate", async () => {
    const before = total();
    const c = rawClient(tlsOnly, credentials.createSsl(await readFile(pki.ca)));
    for (const [method, req] of [
      ["GetNodeStatus", {}],
      ["CreateBlock", { volume: "hv", block: "nocert", size_bytes: "1048576" }],
    ] as const) {
      const r = await outcome(unary(c, method, req, { timeoutMs: 5_000 }));
      assert.equal(r.code, status.UNAVAILABLE, `${method}: ${r.details}`);
    }
    assert.equal(total(), before, "no handler ran");
    const line = await refusalLogged("ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE");
    assert.equal(line.peer, "127.0.0.1");
    assert.equal(line.level, "warn");
  });

  test("a client whose certificate another CA signed", async () => {
    const before = total();
    const intruder = await clientTls(pki.intruder);
    const blockd = new BlockdClient({ discovery: new StaticDiscovery([hostPort(tlsOnly)]), tls: intruder, log: captureLog().log, connectTimeoutMs: 2_000 });
    clients.push(blockd);
    await assert.rejects(blockd.call(hostPort(tlsOnly), "CreateBlock", { volume: "hv", block: "intruder", size_bytes: "1048576" }), (err: unknown) => {
      assert.ok(err instanceof StatusError);
      assert.equal(err.code, status.UNAVAILABLE);
      assert.match(err.message, /does not connect \(if it is up: is its certificate signed by --blockd-tls-ca/);
      return true;
    });
    const raw = rawClient(tlsOnly, credentials.createSsl(await readFile(pki.ca), await readFile(pki.intruder.key), await readFile(pki.intruder.cert)));
    assert.equal((await outcome(unary(raw, "GetNodeStatus", {}, { timeoutMs: 5_000 }))).code, status.UNAVAILABLE);
    assert.equal(total(), before, "no handler ran");
    const line = await refusalLogged("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    assert.equal(line.peer, "127.0.0.1");
    assert.match(String(line.reason), /not signed by the configured CA/);
  });

  test("a client whose certificate has expired, logged once however often it retries", async () => {
    const before = total();
    const expired = await clientTls(pki.expired);
    for (let i = 0; i < 3; i++) {
      // a new channel each time: a new handshake
      const c = rawClient(tlsOnly, credentials.createSsl(expired.ca, expired.key, expired.cert));
      const r = await outcome(unary(c, "CreateBlock", { volume: "hv", block: `expired-${i}`, size_bytes: "1048576" }, { timeoutMs: 5_000 }));
      assert.equal(r.code, status.UNAVAILABLE, r.details);
    }
    assert.equal(total(), before, "no handler ran");
    const line = await refusalLogged("CERT_HAS_EXPIRED");
    assert.match(String(line.reason), /expired/);
    await sleep(200);
    assert.equal(refusals("CERT_HAS_EXPIRED").length, 1, "throttled: one line per peer and verdict per minute");
  });

  test("a client without TLS", async () => {
    const before = total();
    const c = rawClient(tlsOnly, credentials.createInsecure());
    const r = await outcome(unary(c, "CreateBlock", { volume: "hv", block: "plain", size_bytes: "1048576" }, { timeoutMs: 5_000, metadata: withKey(KEY) }));
    assert.equal(r.code, status.UNAVAILABLE, r.details);
    assert.equal(total(), before, "no handler ran");
    await refusalLogged("ERR_SSL_WRONG_VERSION_NUMBER");
  });

  test("a server certificate of another CA is refused by the controller's client", async () => {
    // the controller trusts only its CA: a blockd impostor with another CA's certificate gets nothing
    const impostorTls = await loadBlockdTls(
      { cert: pki.intruder.cert, key: pki.intruder.key, ca: pki.otherCa },
      { flags: BLOCKD_TLS_FLAGS, role: "controller", log: captureLog().log },
    );
    const impostor = await serveTcpApi({
      listen: LOOPBACK,
      tls: impostorTls,
      blockd: blockdHandlers,
      peer: peerHandlers,
      wrap: { log: captureLog().log },
      log: captureLog().log,
    });
    try {
      const before = total();
      const c = rawClient(impostor, credentials.createSsl(await readFile(pki.ca), await readFile(pki.controller.key), await readFile(pki.controller.cert)));
      const r = await outcome(unary(c, "CreateBlock", { volume: "hv", block: "to-impostor", size_bytes: "1048576" }, { timeoutMs: 5_000 }));
      assert.equal(r.code, status.UNAVAILABLE, r.details);
      assert.equal(total(), before);
    } finally {
      await impostor.server.stop(1_000);
    }
  });
});

describe("TLS and the shared key together", () => {
  test("a valid certificate without the key is UNAUTHENTICATED, and the handler does not run", async () => {
    const before = total();
    const c = rawClient(tlsAndKey, credentials.createSsl(await readFile(pki.ca), await readFile(pki.controller.key), await readFile(pki.controller.cert)));
    for (const key of [undefined, "not-the-key-at-all-0000000000"]) {
      const r = await outcome(unary(c, "CreateBlock", { volume: "hv", block: "nokey", size_bytes: "1048576" }, { timeoutMs: 5_000, metadata: withKey(key) }));
      assert.equal(r.code, status.UNAUTHENTICATED, r.details);
      assert.equal(r.details, "a valid blockd key is required");
    }
    assert.equal(total(), before, "no handler ran");
    const refused = serverLog.lines.filter((l) => l.includes("refused unauthenticated call"));
    assert.ok(refused.length >= 2, serverLog.text());
    assert.ok(!serverLog.text().includes("not-the-key-at-all"), "the wrong key is not logged either");
  });

  test("with the key and the certificate, the call is served", async () => {
    const before = calls.CreateBlock;
    const blockd = new BlockdClient({
      discovery: new StaticDiscovery([hostPort(tlsAndKey)]),
      key: KEY,
      tls: await clientTls(pki.controller),
      log: captureLog().log,
    });
    clients.push(blockd);
    const r = await blockd.call(hostPort(tlsAndKey), "CreateBlock", { volume: "hv", block: "both", size_bytes: "1048576" });
    assert.equal(r.iqn, "iqn.2016-12.org.gluster-block:both");
    assert.equal(calls.CreateBlock, before + 1);
  });

  test("the key alone, without a certificate, is refused in the handshake", async () => {
    const before = total();
    const c = rawClient(tlsAndKey, credentials.createSsl(await readFile(pki.ca)));
    const r = await outcome(unary(c, "GetNodeStatus", {}, { timeoutMs: 5_000, metadata: withKey(KEY) }));
    assert.equal(r.code, status.UNAVAILABLE, r.details);
    assert.equal(total(), before);
  });
});

describe("start-up checks of the files", () => {
  const load = (files: { cert: string; key: string; ca: string }, serves: boolean, log = captureLog()): Promise<BlockdTls> =>
    loadBlockdTls(files, { flags: serves ? BLOCKD_TLS_FLAGS : CONTROLLER_TLS_FLAGS, role: serves ? "peer" : "controller", log: log.log });

  test("blockd's certificate must carry DNS:gluster-blockd", async () => {
    await assert.rejects(
      load({ ...pki.unnamed, ca: pki.ca }, true),
      /--tls-cert .*unnamed\.crt: the certificate does not name gluster-blockd \(its subject alternative names: DNS:storage-1\.example\.org\)/,
    );
  });

  test("blockd's certificate needs serverAuth as well as clientAuth", async () => {
    await assert.rejects(load({ ...pki.controller, ca: pki.ca }, true), /extendedKeyUsage lacks serverAuth/);
    // the controller only calls: clientAuth is enough
    await load({ ...pki.controller, ca: pki.ca }, false);
  });

  test("a key that is not the certificate's, a missing file, a file that is not PEM", async () => {
    await assert.rejects(
      load({ cert: pki.blockd.cert, key: pki.controller.key, ca: pki.ca }, true),
      /--tls-key .*controller\.key is not the private key of the certificate in --tls-cert/,
    );
    await assert.rejects(load({ ...pki.blockd, ca: join(dir, "no-such-ca.crt") }, true), /--tls-ca .*no-such-ca\.crt: cannot read it \(ENOENT\)/);
    await assert.rejects(load({ ...pki.blockd, ca: pki.blockd.key }, true), /--tls-ca .*blockd\.key holds no PEM certificate/);
    await assert.rejects(load({ cert: pki.blockd.cert, key: pki.ca, ca: pki.ca }, false), /--blockd-tls-key .*ca\.crt: not an unencrypted PEM private key/);
  });

  test("an expired certificate or one of another CA is a warning, not a refusal to start", async () => {
    const log = captureLog();
    await load({ ...pki.expired, ca: pki.ca }, false, log);
    assert.match(log.text(), /the TLS certificate has expired/);
    const other = captureLog();
    await load({ ...pki.intruder, ca: pki.ca }, false, other);
    assert.match(other.text(), /not signed by a CA of the CA bundle/);
  });
});

test("no log line of the server ever held private key material", async () => {
  const keys = await Promise.all([pki.blockd.key, pki.controller.key, pki.intruder.key, pki.expired.key].map((k) => readFile(k, "utf8")));
  // and a line that tries to show one is scrubbed: the key files are registered secrets
  serverLog.log.error("a careless line", { pem: keys[0], line: keys[1]?.split("\n")[1] });
  const text = serverLog.text();
  for (const k of keys) {
    for (const line of k.split("\n").filter((l) => l.length >= 16 && !l.startsWith("-----"))) assert.ok(!text.includes(line), "a key line reached the log");
  }
  assert.match(text, /a careless line/);
});
