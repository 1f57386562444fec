// `gluster-block-csi import` end to end below Kubernetes: the import's real
// Kubernetes client (client-node) against the API stand-in, which keeps PVs,
// claims, Secrets and pods and records every request; the real blockd client
// over gRPC to the real Blockd service over the engine, three LocalNodes
// each with its own configfs imitation, holding the block a1 as gluster-block
// 0.5.1 leaves it (test/fixtures/journal/after-create-a1.txt: random GBID,
// CHAP, generated ACLs), under heketi's name for it. The in-tree PV, claim
// and CHAP Secret are those translate-pv.test.ts describes (the
// external-storage provisioner v2.0.0 in heketi mode).
// Each crash point is a request that fails (the stand-in's failNext) or a
// blockd call that never answers; the run again must end where one
// uninterrupted run ends.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { GrpcServer } from "../../../../src/rpc/server.js";
import { blockdProto } from "../../../../src/rpc/proto.js";
import { wrapService } from "../../../../src/rpc/rpc.js";
import { parseEndpoint } from "../../../../src/rpc/endpoint.js";
import { blockdService } from "../../../../src/glusterblock/blockd/services.js";
import { blockErrorToCsi } from "../../../../src/glusterblock/blockd/error-map.js";
import { Auditor } from "../../../../src/glusterblock/engine/audit.js";
import { ConfigfsLioTargets } from "../../../../src/glusterblock/lio/configfs-lio-targets.js";
import { BlockdClient } from "../../../../src/controller/blockd-client.js";
import { StaticDiscovery } from "../../../../src/controller/discovery.js";
import { ChapSecrets } from "../../../../src/controller/chap-secrets.js";
import { ClientNodeKubeApi } from "../../../../src/controller/kube-api.js";
import { importBlockdOver, type ImportBlockd } from "../../../../src/controller/import/import-blockd.js";
import { ClientNodeImportKube } from "../../../../src/controller/import/import-kube.js";
import { importClaim, ImportStoppedError, type ImportDeps, type ImportResult } from "../../../../src/controller/import/import-claim.js";
import { ORIGINAL_CLAIM, ORIGINAL_CLAIM_UID, ORIGINAL_RECLAIM_POLICY } from "../../../../src/controller/import/claim-copy.js";
import { IMPORTED_FROM } from "../../../../src/controller/import/translate-pv.js";
import { formatImport } from "../../../../src/controller/import/import-report.js";
import { nullLogger } from "../../../../src/util/log.js";
import { KubeApiStandin } from "../../../../lab/harness/kube-api-standin.js";
import { CONFIGFS_ROOT, localEngine, seedOriginalBlock, type LocalEngine } from "../../../helpers/local-engine.js";

const VOLUME = "block-test";
const HOSTS = ["10.213.0.11", "10.213.0.12", "10.213.0.13"] as const;
const GBID = "741d7e15-7fc9-4aa3-82b8-bd5c5298b65e";
const IQN = `iqn.2016-12.org.gluster-block:${GBID}`;
const PASSWORD = "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f";
const HEKETI_ID = "6c8a76d94b268d334c8d82e7e19bdae1";
const BLOCK = `blockvol_${HEKETI_ID}`;
const PV = "pvc-09c74f9b-d044-11e9-ac6a-0050569376db";
const CSI_PV = `${PV}-csi`;
const NS = "default";
const CLAIM = "data-db1-mysqlha-0";
const CLAIM_UID = "09c74f9b-d044-11e9-ac6a-0050569376db";
const IN_TREE_SECRET = `glusterblk-${GBID}-secret`;
const DRIVER = "block.csi.gluster.org";
const DRIVER_NS = "gluster-block-csi";
const OUR_SECRET = `gluster-block-chap-${CSI_PV}`;
const b64 = (s: string): string => Buffer.from(s).toString("base64");
const journalA1 = readFileSync(new URL("../../../fixtures/journal/after-create-a1.txt", import.meta.url), "utf8");

let local: LocalEngine;
let server: GrpcServer;
let client: BlockdClient;
let kube: KubeApiStandin;
let kc: KubeConfig;
/** the fake clock: sleep() moves it, and runs onSleep (a pod going away, a finalizer removed) */
let clock = 0;
let onSleep: (() => void) | undefined;
/** the engine stops (as a killed blockd would) after this step of the adoption */
let crashAfter: string | undefined;

before(async () => {
  local = await localEngine(VOLUME, HOSTS, "gb-import-", {
    faults: {
      afterStep(step) {
        if (step === crashAfter) {
          crashAfter = undefined;
          throw new Error(`blockd stopped after ${step}`);
        }
      },
    },
  });
  const first = local.hosts.get(HOSTS[0]) ?? assert.fail("no first host");
  const auditor = new Auditor(local.engine, first.local, new ConfigfsLioTargets({ root: CONFIGFS_ROOT, fs: first.fs }), local.peers, nullLogger);
  const svc = blockdProto().glusterblock.v1.Blockd.service;
  server = new GrpcServer(nullLogger);
  server.addService(svc, wrapService(svc, blockdService(local.engine, auditor), { log: nullLogger, mapError: blockErrorToCsi }));
  const sock = join(await mkdtemp(join(tmpdir(), "gb-import-sock-")), "blockd.sock");
  await server.listen({ endpoint: parseEndpoint(`unix://${sock}`) });
  client = new BlockdClient({ discovery: new StaticDiscovery([`unix:${sock}`]), log: nullLogger });
  kube = await new KubeApiStandin().start();
  kc = new KubeConfig();
  kc.loadFromFile(await kube.kubeconfig());
});

after(async () => {
  client.close();
  await server.stop(1000);
  await kube.stop();
  await local.cleanup();
});

/** the PV as the v2.0.0 provisioner in heketi mode made it, bound by the PV controller */
const inTreePv = () => ({
  apiVersion: "v1",
  kind: "PersistentVolume",
  metadata: {
    name: PV,
    uid: "8f1d2f8e-0000-4000-8000-000000000001",
    resourceVersion: "1",
    annotations: {
      AccessKey: IN_TREE_SECRET,
      AccessKeyNs: NS,
      "gluster.org/type": "block",
      "gluster.org/volume-id": HEKETI_ID,
      glusterBlkProvIdentity: "gluster.org/glusterblock",
      glusterBlockShare: BLOCK,
      "kubernetes.io/createdby": "heketi",
      "pv.kubernetes.io/provisioned-by": "gluster.org/glusterblock",
    },
  },
  spec: {
    accessModes: ["ReadWriteOnce"],
    capacity: { storage: "1Gi" },
    claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: NS, name: CLAIM, uid: CLAIM_UID, resourceVersion: "7" },
    iscsi: {
      targetPortal: "10.213.0.11:3260",
      portals: ["10.213.0.12:3260", "10.213.0.13:3260"],
      iqn: IQN,
      lun: 0,
      fsType: "xfs",
      readOnly: false,
      chapAuthSession: true,
      secretRef: { name: IN_TREE_SECRET },
    },
    persistentVolumeReclaimPolicy: "Delete",
    storageClassName: "gluster-block",
    volumeMode: "Filesystem",
  },
  status: { phase: "Bound" },
});

const boundClaim = () => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: {
    name: CLAIM,
    namespace: NS,
    uid: CLAIM_UID,
    resourceVersion: "7",
    labels: { app: "db1-mysqlha" },
    annotations: {
      "pv.kubernetes.io/bind-completed": "yes",
      "pv.kubernetes.io/bound-by-controller": "yes",
      "volume.beta.kubernetes.io/storage-provisioner": "gluster.org/glusterblock",
      "team.example.com/owner": "db",
    },
    finalizers: ["kubernetes.io/pvc-protection"],
  },
  spec: {
    accessModes: ["ReadWriteOnce"],
    resources: { requests: { storage: "1Gi" } },
    storageClassName: "gluster-block",
    volumeName: PV,
    volumeMode: "Filesystem",
  },
  status: { phase: "Bound", capacity: { storage: "1Gi" } },
});

const podUsing = (name: string, phase = "Running") => ({
  metadata: { name, namespace: NS, labels: { app: "db1-mysqlha" } },
  spec: { volumes: [{ name: "data", persistentVolumeClaim: { claimName: CLAIM } }] },
  status: { phase },
});

async function seed(journal = journalA1): Promise<void> {
  await seedOriginalBlock(local, BLOCK, { journal, gbid: GBID, prio: HOSTS[0], password: PASSWORD, sizeBytes: 1073741824, tpgOrder: HOSTS });
  kube.pvs.clear();
  kube.claims.clear();
  kube.secrets.clear();
  kube.pods = [];
  kube.failNext.clear();
  kube.claimsLinger = false;
  kube.pvs.set(PV, inTreePv());
  kube.claims.set(`${NS}/${CLAIM}`, boundClaim());
  kube.secrets.set(`${NS}/${IN_TREE_SECRET}`, {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/iscsi-chap",
    metadata: { name: IN_TREE_SECRET, namespace: NS, resourceVersion: "3" },
    data: { "node.session.auth.username": b64(GBID), "node.session.auth.password": b64(PASSWORD) },
  });
  kube.requests.length = 0;
}

beforeEach(async () => {
  clock = 0;
  onSleep = undefined;
  crashAfter = undefined;
  local.peers.down.clear();
  await seed();
});

function deps(blockd: ImportBlockd = importBlockdOver(client)): ImportDeps {
  return {
    kube: new ClientNodeImportKube(kc),
    blockd,
    secrets: new ChapSecrets(new ClientNodeKubeApi(kc), DRIVER_NS, DRIVER, nullLogger),
    driverName: DRIVER,
    sleep: (ms) => {
      clock += ms;
      onSleep?.();
      return Promise.resolve();
    },
    now: () => clock,
  };
}

const REQ = { pv: PV, hostingVolume: VOLUME, dryRun: false, waitForPodsGoneMs: 0 };
const run = (over: Partial<typeof REQ> = {}, blockd?: ImportBlockd): Promise<ImportResult> => importClaim(deps(blockd), { ...REQ, ...over });

/** the requests that change something */
const writes = (): string[] => kube.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);
const aclMode = async (): Promise<string> => (await client.any("GetBlock", { volume: VOLUME, block: BLOCK })).acl_mode;
/** every host's LIO, for "nothing changed" */
const lio = (): string[] => HOSTS.map((h) => (local.hosts.get(h)?.fs.userObjects() ?? []).join("\n"));

type Obj = { metadata?: { annotations?: Record<string, string>; labels?: Record<string, string>; uid?: string }; spec?: Record<string, unknown> };

/** Where one uninterrupted import ends. */
async function assertImported(): Promise<void> {
  const old = kube.pvs.get(PV) as Obj | undefined;
  assert.equal(old?.spec?.persistentVolumeReclaimPolicy, "Retain", "the in-tree PV keeps its block");
  assert.equal(old?.metadata?.annotations?.[ORIGINAL_RECLAIM_POLICY], "Delete", "its original policy is recorded");
  assert.equal(old?.metadata?.annotations?.[ORIGINAL_CLAIM_UID], CLAIM_UID);
  const copy = JSON.parse(old?.metadata?.annotations?.[ORIGINAL_CLAIM] ?? "{}") as Obj;
  assert.equal(copy.spec?.volumeName, PV, "the copy is the claim pre-bound to the in-tree PV, for a rollback");

  const csi = kube.pvs.get(CSI_PV) as
    | (Obj & {
        spec: {
          csi: { driver: string; volumeHandle: string; volumeAttributes: Record<string, string>; nodeStageSecretRef: { name: string; namespace: string } };
          claimRef: Record<string, string>;
        };
      })
    | undefined;
  assert.ok(csi, "the CSI PV exists");
  assert.equal(csi.metadata?.annotations?.[IMPORTED_FROM], PV);
  assert.equal(csi.metadata?.annotations?.["pv.kubernetes.io/provisioned-by"], DRIVER);
  assert.equal(csi.spec.persistentVolumeReclaimPolicy, "Delete", "the CSI PV has the original policy");
  assert.equal(csi.spec.csi.driver, DRIVER);
  assert.equal(csi.spec.csi.volumeHandle.includes(BLOCK), true);
  assert.deepEqual(csi.spec.csi.nodeStageSecretRef, { name: OUR_SECRET, namespace: DRIVER_NS });
  assert.deepEqual(csi.spec.claimRef, { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: NS, name: CLAIM }, "pre-bound by name, no uid");
  assert.equal(Object.values(csi.spec.csi.volumeAttributes).includes(IQN), true, "the IQN the initiators know");

  const secret = kube.secrets.get(`${DRIVER_NS}/${OUR_SECRET}`) as { data?: Record<string, string> } | undefined;
  assert.ok(secret, "our CHAP Secret in the driver's namespace");
  assert.deepEqual(
    Object.values(secret.data ?? {})
      .map((v) => Buffer.from(v, "base64").toString())
      .sort(),
    [GBID, PASSWORD].sort(),
  );

  const claim = kube.claims.get(`${NS}/${CLAIM}`) as Obj | undefined;
  assert.ok(claim, "the claim exists again");
  assert.notEqual(claim.metadata?.uid, CLAIM_UID, "made again");
  assert.equal(claim.spec?.volumeName, CSI_PV);
  assert.equal(claim.spec?.storageClassName, "gluster-block");
  assert.deepEqual(claim.spec?.resources, { requests: { storage: "1Gi" } });
  assert.deepEqual(claim.metadata?.labels, { app: "db1-mysqlha" });
  assert.deepEqual(claim.metadata?.annotations, { "team.example.com/owner": "db" }, "the binding annotations left out, the others kept");

  assert.equal(await aclMode(), "ACL_MODE_EXPLICIT", "the block fences per initiator");
  const info = await client.any("GetBlock", { volume: VOLUME, block: BLOCK });
  assert.equal(info.gbid, GBID);
  assert.equal(info.password, PASSWORD, "the CHAP credentials are the block's own");
}

test("a dry run says what a run would change, and writes nothing: no Kubernetes write, no journal line, no LIO change", async () => {
  const before = lio();
  const r = await run({ dryRun: true });
  assert.equal(r.outcome, "dry-run", JSON.stringify(r));
  if (r.outcome !== "dry-run") return;
  const plan = r.plan.join("\n");
  assert.match(plan, new RegExp(`PV ${PV}: annotate ${ORIGINAL_RECLAIM_POLICY}=Delete; reclaim policy Delete -> Retain`));
  assert.match(plan, new RegExp(`Secret ${DRIVER_NS}/${OUR_SECRET}`));
  assert.match(plan, new RegExp(`PV ${CSI_PV}: create`));
  assert.match(plan, new RegExp(`PVC ${NS}/${CLAIM}: delete \\(uid ${CLAIM_UID}\\)`));
  assert.match(plan, /volumeName .*-csi, storageClassName "gluster-block"/);
  assert.match(plan, /journal: ACLMODE EXPLICIT/);
  assert.match(plan, /generate_node_acls 1 -> 0/);
  assert.deepEqual(writes(), []);
  assert.equal(await aclMode(), "ACL_MODE_GENERATED");
  assert.deepEqual(lio(), before);
  const text = formatImport(r, { pv: PV, driverNamespace: DRIVER_NS, flagsFrom: "test" });
  assert.match(text, /DRY RUN, nothing was changed/);
  assert.ok(!text.includes(PASSWORD), "no CHAP password in the output");
});

test("an import: the in-tree PV to Retain before any other write, then Secret, CSI PV, the claim made again, the block adopted; a run again changes nothing", async () => {
  const r = await run();
  assert.equal(r.outcome, "imported", JSON.stringify(r));
  await assertImported();
  const w = writes();
  assert.equal(w[0], `PATCH /api/v1/persistentvolumes/${PV}`, `the first write is the in-tree PV's policy: ${w.join(", ")}`);
  const first = kube.requests.find((x) => x.method === "PATCH");
  assert.deepEqual(first?.body, { metadata: { annotations: { [ORIGINAL_RECLAIM_POLICY]: "Delete" } }, spec: { persistentVolumeReclaimPolicy: "Retain" } });
  assert.deepEqual(w.slice(1), [
    `POST /api/v1/namespaces/${DRIVER_NS}/secrets`,
    "POST /api/v1/persistentvolumes",
    `PATCH /api/v1/persistentvolumes/${PV}`,
    `DELETE /api/v1/namespaces/${NS}/persistentvolumeclaims/${CLAIM}`,
    `POST /api/v1/namespaces/${NS}/persistentvolumeclaims`,
  ]);
  const del = kube.requests.find((x) => x.method === "DELETE");
  assert.deepEqual(del?.body, { preconditions: { uid: CLAIM_UID, resourceVersion: "7" } }, "only the very claim read is deleted");
  if (r.outcome === "imported") {
    const text = formatImport(r, { pv: PV, driverNamespace: DRIVER_NS, flagsFrom: "test" });
    assert.match(text, /rollback:/);
    assert.match(text, new RegExp(`kubectl patch pv ${CSI_PV} -p '\\{"spec":\\{"persistentVolumeReclaimPolicy":"Retain"\\}\\}'`));
    assert.ok(!text.includes(PASSWORD));
  }

  kube.requests.length = 0;
  const again = await run();
  assert.equal(again.outcome, "imported");
  if (again.outcome === "imported") assert.deepEqual(again.changes, [], "nothing left to do");
  assert.deepEqual(writes(), [], "a run again writes nothing");
  await assertImported();
});

for (const [point, failing, step] of [
  ["after the in-tree PV's annotation and Retain", `POST ^/api/v1/namespaces/${DRIVER_NS}/secrets$`, "d. CHAP Secret"],
  ["after our Secret", "POST ^/api/v1/persistentvolumes$", "d. CSI PV"],
  ["after the CSI PV (and the claim's copy)", `DELETE /persistentvolumeclaims/${CLAIM}$`, "e. claim"],
  ["after the claim's delete", `POST ^/api/v1/namespaces/${NS}/persistentvolumeclaims$`, "e. claim"],
] as const) {
  test(`cut short ${point}: the run stops there, keeps what it did, and a run again ends where one run ends`, async () => {
    kube.failNext.set(failing, 500);
    await assert.rejects(run(), (err: unknown) => err instanceof ImportStoppedError && err.step === step);
    assert.equal((kube.pvs.get(PV) as Obj).spec?.persistentVolumeReclaimPolicy, "Retain", "the block is safe from the first step on");
    assert.equal(await aclMode(), "ACL_MODE_GENERATED", "not adopted before the claim moved");
    const r = await run();
    assert.equal(r.outcome, "imported", JSON.stringify(r));
    await assertImported();
  });
}

test("cut short just before AdoptBlock (blockd never reached), and within it (after its journal append): a run again adopts", async () => {
  const real = importBlockdOver(client);
  const lost: ImportBlockd = {
    getBlock: (v, b) => real.getBlock(v, b),
    adoptBlock: (v, b, dryRun) => (dryRun ? real.adoptBlock(v, b, true) : Promise.reject(new Error("connection reset"))),
  };
  await assert.rejects(run({}, lost), (err: unknown) => err instanceof ImportStoppedError && err.step === "f. AdoptBlock");
  assert.equal(await aclMode(), "ACL_MODE_GENERATED");
  crashAfter = "journal:adopt-intent";
  await assert.rejects(run(), (err: unknown) => err instanceof ImportStoppedError && err.step === "f. AdoptBlock");
  assert.equal(await aclMode(), "ACL_MODE_EXPLICIT", "the journal holds the intent");
  const r = await run();
  assert.equal(r.outcome, "imported", JSON.stringify(r));
  await assertImported();
});

test("cut short after AdoptBlock (its answer lost): a run again finds the block adopted and changes nothing", async () => {
  const real = importBlockdOver(client);
  const deaf: ImportBlockd = {
    getBlock: (v, b) => real.getBlock(v, b),
    adoptBlock: async (v, b, dryRun) => {
      const r = await real.adoptBlock(v, b, dryRun);
      if (!dryRun) throw new Error("the answer was lost");
      return r;
    },
  };
  await assert.rejects(run({}, deaf), ImportStoppedError);
  kube.requests.length = 0;
  const r = await run();
  assert.equal(r.outcome, "imported", JSON.stringify(r));
  assert.deepEqual(writes(), []);
  if (r.outcome === "imported") assert.ok(!r.changes.some((c) => c.startsWith("block ")), r.changes.join("\n"));
  await assertImported();
});

test("a claim whose delete waits for its finalizer: the run waits until it is gone, then makes it again", async () => {
  kube.claimsLinger = true;
  let sleeps = 0;
  onSleep = () => {
    if (++sleeps === 2) kube.claims.delete(`${NS}/${CLAIM}`);
  };
  const r = await run();
  assert.equal(r.outcome, "imported", JSON.stringify(r));
  await assertImported();
});

test("a claim still being deleted when the wait ends: stopped; once it is gone a run again finishes", async () => {
  kube.claimsLinger = true;
  await assert.rejects(
    importClaim(deps(), { ...REQ, claimGoneTimeoutMs: 10_000 }),
    (err: unknown) => err instanceof ImportStoppedError && /still being deleted \(finalizers: kubernetes\.io\/pvc-protection\)/.test(err.message),
  );
  kube.claims.delete(`${NS}/${CLAIM}`);
  kube.claimsLinger = false;
  assert.equal((await run()).outcome, "imported");
  await assertImported();
});

test("a pod using the claim: refused, nothing changed; a finished pod does not count; --wait-for-pods-gone waits for the running one", async () => {
  kube.pods = [podUsing("db1-mysqlha-0"), podUsing("backup-1", "Succeeded")];
  const r = await run();
  assert.equal(r.outcome, "refused");
  if (r.outcome === "refused") assert.match(r.reasons.join(), /in use by pod\(s\) db1-mysqlha-0: scale its workload down first/);
  assert.deepEqual(writes(), []);
  onSleep = () => (kube.pods = [podUsing("backup-1", "Succeeded")]);
  const waited = await run({ waitForPodsGoneMs: 60_000 });
  assert.equal(waited.outcome, "imported", JSON.stringify(waited));
  await assertImported();
});

test("--wait-for-pods-gone that ends with the pod still there: refused, nothing changed", async () => {
  kube.pods = [podUsing("db1-mysqlha-0")];
  const r = await run({ waitForPodsGoneMs: 10_000 });
  assert.equal(r.outcome, "refused");
  assert.ok(clock >= 10_000, "it waited");
  assert.deepEqual(writes(), []);
});

const refusals: [string, () => void | Promise<void>, RegExp][] = [
  [
    "a journal with a field neither 0.5.1 nor this driver writes",
    () => seed(`${journalA1}REPLICA: 3\n`),
    /keys neither gluster-block 0\.5\.x nor this driver writes \(REPLICA\)/,
  ],
  ["an HA host whose blockd does not answer", () => void local.peers.down.add(HOSTS[2]), /10\.213\.0\.13/],
  [
    "an in-tree CHAP Secret whose password is not the block's",
    () => {
      const s = kube.secrets.get(`${NS}/${IN_TREE_SECRET}`) as { data: Record<string, string> };
      s.data["node.session.auth.password"] = b64("not-the-password");
    },
    /CHAP password is not the block's/,
  ],
  [
    "a PV by the CSI PV's name that this import did not make",
    () => void kube.pvs.set(CSI_PV, { metadata: { name: CSI_PV }, spec: { csi: { driver: "other.csi.example.com", volumeHandle: "x" } } }),
    /exists and was not made by an import/,
  ],
  ["a hosting volume the block is not on", () => undefined, /NOT_FOUND|not found/i],
  [
    "a PV that is not a gluster-block one",
    () => void ((kube.pvs.get(PV) as { metadata: { annotations: Record<string, string> } }).metadata.annotations["gluster.org/type"] = "file"),
    /not made by gluster-block/,
  ],
];
for (const [what, arrange, reason] of refusals) {
  test(`refused with the reason, nothing changed: ${what}`, async () => {
    await arrange();
    kube.requests.length = 0;
    const before = lio();
    const r = await run(what.startsWith("a hosting volume") ? { hostingVolume: "other-volume" } : {});
    assert.equal(r.outcome, "refused", JSON.stringify(r));
    if (r.outcome === "refused") assert.match(r.reasons.join("\n"), reason);
    assert.deepEqual(writes(), []);
    assert.deepEqual(lio(), before);
    assert.equal(await aclMode(), "ACL_MODE_GENERATED");
  });
}
