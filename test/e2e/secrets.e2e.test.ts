// No secret in any log (issue 9), on the real stack with mutual TLS on:
// gluster-blockd on the three lab VMs serving its TCP API with the lab's
// peer certificate (lab/harness/pki.ts: every lab blockd runs so), the CSI
// controller on the host holding the lab's controller client certificate,
// the node plugin on n1. One volume goes the whole way with CHAP
// (CreateVolume, ControllerPublish, NodeStage, NodePublish, write and read,
// and back down to DeleteVolume), then every log line of every component
// (each VM's whole journal: blockd, node plugin, iscsid, tcmu-runner, kernel;
// tcmu-runner's own log file; the controller's log; every CSI error) is
// searched for the CHAP password, the TLS private keys and the shared key.
// The CHAP username is the volume's GBID, an identifier: after the stage the
// node plugin's lines still show the GBID and the IQN in clear.
// A controller without the client certificate (plain TCP with the key, as
// --blockd-insecure-key-over-plaintext allows) is refused first, and nothing
// happens: the flow below really ran over TLS.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { ensureLab, type Lab, type LabNode } from "../../lab/harness/lab.js";
import { buildProduct, startBlockdEverywhere, stopBlockdEverywhere, cli, BLOCKD_KEY, labPki, labControllerTls } from "../../lab/harness/product.js";
import {
  csiCalls,
  nodePluginLog,
  startNodePlugin,
  stopNodePlugin,
  traces,
  NOTHING,
  STAGE_RETRIES,
  type Call,
  type CallResult,
} from "../../lab/harness/node-plugin.js";
import { KubeApiStandin } from "../../lab/harness/kube-api-standin.js";
import { startController, codeOf, mountCap, MiB, type LocalController } from "../../lab/harness/local-controller.js";
import type { RolePki } from "../../lab/harness/pki.js";
import { iqnFor, wwidFor } from "../../src/identity/names.js";
import type { CreateVolumeResponse__Output } from "../../src/generated/csi/v1/CreateVolumeResponse.js";
import type { ControllerPublishVolumeResponse__Output } from "../../src/generated/csi/v1/ControllerPublishVolumeResponse.js";

const VOL = "block-test";
const NS = "gluster-block-csi";
const PV = "pvc-5ec7e7a1-0b1d-4c3e-8f2a-9d8c7b6a5e4f";
// the volume's identity, random per create: read from CreateVolume
let IQN = "";
let WWID = "";
const STAGING = `/var/lib/kubelet/plugins/kubernetes.io/csi/block.csi.gluster.org/${PV}/globalmount`;
const TARGET = `/var/lib/kubelet/pods/pod-secrets/volumes/kubernetes.io~csi/${PV}/mount`;

let lab: Lab;
let n1: LabNode;
let pki: RolePki;
let kube: KubeApiStandin;
let ctl: LocalController | undefined;
let plain: LocalController | undefined;
let password = "";
let volumeId = "";
/** error texts of every failed call, for the grep */
const errors: string[] = [];

before(async () => {
  buildProduct();
  lab = await ensureLab({ nodes: 3 });
  await lab.resetState();
  n1 = lab.node(1);
  pki = await labPki();
  // the lab's blockd: mutual TLS with the lab's peer certificate, and the key
  await startBlockdEverywhere(lab);
  kube = await new KubeApiStandin().start();
  const common = { endpoints: lab.addresses.map((a) => `${a}:24010`), key: BLOCKD_KEY, kubeconfig: await kube.kubeconfig(), namespace: NS };
  ctl = await startController({ ...common, tls: await labControllerTls() });
  // no tls: the harness gives it --blockd-insecure-key-over-plaintext
  plain = await startController(common);
  await startNodePlugin(n1);
});

after(async () => {
  if (!lab) return;
  await csiCalls(n1, [
    { method: "NodeUnpublishVolume", request: { volume_id: `v1/${VOL}/${PV}`, target_path: TARGET } },
    { method: "NodeUnstageVolume", request: { volume_id: `v1/${VOL}/${PV}`, staging_target_path: STAGING } },
  ]).catch(() => undefined);
  if (volumeId) await ctl?.call("DeleteVolume", { volume_id: volumeId }, 600_000).catch(() => undefined);
  await stopNodePlugin(n1);
  await ctl?.stop();
  await plain?.stop();
  await kube?.stop();
  await stopBlockdEverywhere(lab);
});

const createReq = () => ({
  name: PV,
  capacity_range: { required_bytes: String(512 * MiB) }, // xfsprogs 6 refuses filesystems under 300 MB
  volume_capabilities: [mountCap("xfs")],
  parameters: {
    hostingVolume: VOL,
    haCount: "3",
    "csi.storage.k8s.io/pv/name": PV,
    "csi.storage.k8s.io/pvc/name": "db",
    "csi.storage.k8s.io/pvc/namespace": "e2e",
  },
});

function allOk(rs: CallResult[], n: number): void {
  for (const r of rs) if (!r.ok) errors.push(`${r.method}: ${r.details}`);
  for (const r of rs) assert.ok(r.ok, `${r.method} failed: ${r.code} ${r.details}`);
  assert.equal(rs.length, n, "every call ran");
}

test("a controller without the client certificate is refused, and nothing is made", { timeout: 600_000 }, async () => {
  const r = await codeOf(plain!.call("CreateVolume", { ...createReq(), name: "pvc-no-cert" }, 120_000));
  errors.push(r.details);
  assert.equal(r.code, 14, `UNAVAILABLE expected, got ${r.code}: ${r.details}`);
  const list = await cli(n1, ["list", VOL]);
  assert.equal(list.stdout.trim(), "*Nil*", "nothing was created");
  assert.equal(kube.secrets.size, 0, "no Secret was written");
});

test("the whole way with CHAP over mutual TLS: create, publish, stage, write, read, and back down; nothing left", { timeout: 1_800_000 }, async () => {
  const created = await ctl!.call<CreateVolumeResponse__Output>("CreateVolume", createReq(), 600_000);
  volumeId = created.volume?.volume_id ?? "";
  assert.equal(volumeId, `v1/${VOL}/${PV}`);
  const gbid = created.volume?.volume_context?.gbid ?? "";
  IQN = iqnFor(gbid);
  WWID = wwidFor(gbid);
  assert.equal(created.volume?.volume_context?.iqn, IQN);
  const secret = kube.secrets.get(`${NS}/gluster-block-chap-${PV}`);
  assert.ok(secret, "the CHAP Secret exists");
  const data = secret.data as Record<string, string>;
  const chap = { username: Buffer.from(data.username ?? "", "base64").toString(), password: Buffer.from(data.password ?? "", "base64").toString() };
  password = chap.password;
  assert.ok(password.length >= 12, "a real CHAP password");

  const info = await csiCalls(n1, [{ method: "NodeGetInfo", request: {} }]);
  allOk(info, 1);
  const nodeId = info[0]?.response?.node_id;
  assert.ok(typeof nodeId === "string", "NodeGetInfo answers a node_id");
  assert.match(nodeId, /^n1\/iqn\./);
  const pub = await ctl!.call<ControllerPublishVolumeResponse__Output>(
    "ControllerPublishVolume",
    { volume_id: volumeId, node_id: nodeId, volume_capability: mountCap("xfs") },
    300_000,
  );

  const context = created.volume?.volume_context ?? {};
  const cap = mountCap("xfs");
  const up: Call[] = [
    {
      method: "NodeStageVolume",
      request: {
        volume_id: volumeId,
        staging_target_path: STAGING,
        volume_capability: cap,
        secrets: chap,
        volume_context: context,
        publish_context: pub.publish_context,
      },
      stopOnError: true,
      retries: STAGE_RETRIES,
    },
    {
      method: "NodePublishVolume",
      request: {
        volume_id: volumeId,
        staging_target_path: STAGING,
        target_path: TARGET,
        volume_capability: cap,
        readonly: false,
        volume_context: context,
        publish_context: pub.publish_context,
      },
      stopOnError: true,
    },
  ];
  allOk(await csiCalls(n1, up), 2);
  // only the password is scrubbed: the publish, after the CHAP stage, is logged with the GBID and the IQN in clear
  assert.equal(chap.username, gbid, "the CHAP username is the GBID");
  const pluginLog = await nodePluginLog(n1);
  const publishLines = pluginLog.split("\n").filter((l) => l.includes('"method":"NodePublishVolume"'));
  assert.ok(
    publishLines.some((l) => l.includes(`"gbid":"${gbid}"`) && l.includes(IQN)),
    `the node plugin's publish lines show the GBID and the IQN in clear:\n${publishLines.join("\n")}`,
  );
  assert.ok(!pluginLog.includes(password), "the CHAP password is in the node plugin's log");
  const t = await traces(n1, IQN, WWID);
  assert.deepEqual([t.sessions, t.maps, t.mounts], [3, 1, 2], "3 sessions (CHAP logins), 1 map, staging + target mounts");
  await n1.must(`set -e; head -c 8M /dev/urandom > /tmp/secrets-e2e.bin
    cp /tmp/secrets-e2e.bin ${TARGET}/data.bin; sync
    echo 3 > /proc/sys/vm/drop_caches; cmp /tmp/secrets-e2e.bin ${TARGET}/data.bin; rm -f /tmp/secrets-e2e.bin`);

  allOk(
    await csiCalls(n1, [
      { method: "NodeUnpublishVolume", request: { volume_id: volumeId, target_path: TARGET }, stopOnError: true },
      { method: "NodeUnstageVolume", request: { volume_id: volumeId, staging_target_path: STAGING }, stopOnError: true, retries: 5 },
    ]),
    2,
  );
  assert.deepEqual(await traces(n1, IQN, WWID), NOTHING, "nothing left on n1");
  await ctl!.call("ControllerUnpublishVolume", { volume_id: volumeId, node_id: nodeId }, 300_000);
  await ctl!.call("DeleteVolume", { volume_id: volumeId }, 600_000);
  volumeId = "";
  assert.equal((await cli(n1, ["list", VOL])).stdout.trim(), "*Nil*");
  assert.equal(kube.secrets.size, 0, "the CHAP Secret is deleted");
});

/** The base64 lines of a PEM private key: any of them in a log is a leak. */
async function keyMaterial(file: string): Promise<string[]> {
  const lines = (await readFile(file, "utf8")).split("\n").filter((l) => l !== "" && !l.startsWith("-----"));
  assert.ok(lines.length > 0, `${file} is a PEM key`);
  return [...lines.filter((l) => l.length >= 16), lines.join("")];
}

test("no CHAP password, TLS private key or shared key in any log line or error of any component", { timeout: 600_000 }, async () => {
  assert.ok(password, "the flow above ran");
  const needles: [string, string][] = [
    ["the CHAP password", password],
    ["the shared key", BLOCKD_KEY],
    ...(await keyMaterial(pki.blockd.key)).map((l): [string, string] => ["blockd's TLS key", l]),
    ...(await keyMaterial(pki.controller.key)).map((l): [string, string] => ["the controller's TLS key", l]),
  ];
  const logs: [string, string][] = [
    ["the controller's log", ctl!.log.text() + plain!.log.text()],
    ["CSI errors", errors.join("\n")],
  ];
  for (const n of lab.nodes) {
    logs.push([`${n.name}'s journal`, (await n.must("journalctl --no-pager -o cat; dmesg")).stdout]);
    logs.push([`${n.name}'s tcmu-runner.log`, (await n.run("cat /var/log/tcmu-runner.log 2>/dev/null")).stdout]);
  }
  // the logs searched are the ones that recorded the flow
  const all = logs.map(([, text]) => text).join("\n");
  assert.ok(ctl!.log.text().includes(PV), "the controller logged the volume");
  for (const n of lab.nodes) assert.ok(logs.find(([what]) => what === `${n.name}'s journal`)?.[1].includes(PV), `${n.name}'s journal recorded the block`);
  assert.ok(all.includes("NodeStageVolume"), "the node plugin logged the stage");
  for (const [what, text] of logs) for (const [name, needle] of needles) assert.ok(!text.includes(needle), `${name} appears in ${what}`);
  console.log(`searched ${logs.length} logs, ${all.split("\n").length} lines, for ${needles.length} secrets: none found`);
});
