// The in-tree gluster-block PV to the CSI PV this driver would have made.
// The in-tree samples are written from what the provisioners wrote:
// kubernetes-incubator/external-storage
// gluster/block/cmd/glusterblock-provisioner/glusterblock-provisioner.go
// (v2.0.0: the annotations, spec.iscsi with targetPortal = the first portal
// and portals = the others, fsType xfs, chapAuthSession, secretRef
// glusterblk-<username>-secret; the Secret of type kubernetes.io/iscsi-chap
// with node.session.auth.username/password), and a user's `kubectl get pv -o
// yaml` of a heketi-made one quoted in a public issue (AccessKey,
// AccessKeyNs, Blockstring, gluster.org/volume-id,
// glusterBlockShare: blockvol_<id>). The block is a1 as 0.5.1 made it
// (test/fixtures/journal/after-create-a1.txt: GBID 741d7e15-..., hosts
// 10.213.0.11-13, 1 GiB, CHAP).
import { test } from "node:test";
import assert from "node:assert/strict";
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Secret } from "@kubernetes/client-node";
import {
  byteQuantity,
  glusterBlockOf,
  importedPvName,
  quantityBytes,
  translatePv,
  type BlockFacts,
  type TranslateInput,
} from "../../../../src/controller/import/translate-pv.js";
import { parseVolumeContext } from "../../../../src/csi/volume-context.js";
import { parseVolumeId } from "../../../../src/csi/volume-id.js";
import { CHAP_SECRET_PREFIX } from "../../../../src/controller/chap-secrets.js";

const GBID = "741d7e15-7fc9-4aa3-82b8-bd5c5298b65e";
const IQN = `iqn.2016-12.org.gluster-block:${GBID}`;
const PASSWORD = "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f";
const PV_NAME = "pvc-09c74f9b-d044-11e9-ac6a-0050569376db";
const HEKETI_ID = "6c8a76d94b268d334c8d82e7e19bdae1";
const BLOCK = `blockvol_${HEKETI_ID}`;
const b64 = (s: string): string => Buffer.from(s).toString("base64");

/** the PV as the v2.0.0 provisioner in heketi mode made it (and the PV controller bound it) */
function inTreePv(): V1PersistentVolume {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: {
      name: PV_NAME,
      annotations: {
        AccessKey: `glusterblk-${GBID}-secret`,
        AccessKeyNs: "default",
        Blockstring: "url:http://10.43.35.193:8081,user:,secret:,secretnamespace:",
        Description: "Gluster-external: Dynamically provisioned PV",
        "gluster.org/type": "block",
        "gluster.org/volume-id": HEKETI_ID,
        glusterBlkProvIdentity: "gluster.org/glusterblock",
        glusterBlockShare: BLOCK,
        "kubernetes.io/createdby": "heketi",
        "pv.kubernetes.io/provisioned-by": "gluster.org/glusterblock",
        "v2.0.0": "v2.0.0",
      },
    },
    spec: {
      accessModes: ["ReadWriteOnce"],
      capacity: { storage: "1Gi" },
      claimRef: {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        namespace: "default",
        name: "data-db1-mysqlha-0",
        uid: "09c74f9b-d044-11e9-ac6a-0050569376db",
      },
      iscsi: {
        targetPortal: "10.213.0.11:3260",
        portals: ["10.213.0.12:3260", "10.213.0.13:3260"],
        iqn: IQN,
        lun: 0,
        fsType: "xfs",
        readOnly: false,
        chapAuthSession: true,
        secretRef: { name: `glusterblk-${GBID}-secret` },
      },
      persistentVolumeReclaimPolicy: "Delete",
      storageClassName: "gluster-block",
      volumeMode: "Filesystem",
    },
  };
}

function claim(): V1PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "data-db1-mysqlha-0", namespace: "default", labels: { app: "db1-mysqlha" } },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "1Gi" } },
      storageClassName: "gluster-block",
      volumeName: PV_NAME,
      volumeMode: "Filesystem",
    },
  };
}

const chapSecret = (user = GBID, password = PASSWORD): V1Secret => ({
  apiVersion: "v1",
  kind: "Secret",
  type: "kubernetes.io/iscsi-chap",
  metadata: { name: `glusterblk-${GBID}-secret`, namespace: "default" },
  data: { "node.session.auth.username": b64(user), "node.session.auth.password": b64(password) },
});

const block = (over: Partial<BlockFacts> = {}): BlockFacts => ({
  hostingVolume: "vol_2a3b",
  block: BLOCK,
  gbid: GBID,
  iqn: IQN,
  wwid: "36001405741d7e157fc94aa382b8bd5c5",
  portals: ["10.213.0.11:3260", "10.213.0.12:3260", "10.213.0.13:3260"],
  ha: 3,
  sizeBytes: 1073741824n,
  auth: true,
  password: PASSWORD,
  ...over,
});

const input = (over: Partial<TranslateInput> = {}): TranslateInput => ({
  pv: inTreePv(),
  claim: claim(),
  chapSecret: chapSecret(),
  block: block(),
  driverName: "block.csi.gluster.org",
  namespace: "gluster-block-csi",
  reclaimPolicy: "Delete",
  ...over,
});

test("a heketi-made PV becomes the CSI PV CreateVolume would have answered, and our CHAP Secret with the same credentials", () => {
  const t = translatePv(input());
  assert.ok(t.ok, t.ok ? "" : t.reasons.join("; "));
  const pv = t.pv;
  assert.equal(pv.metadata?.name, `${PV_NAME}-csi`);
  assert.deepEqual(pv.metadata?.annotations, { "pv.kubernetes.io/provisioned-by": "block.csi.gluster.org", "block.csi.gluster.org/imported-from": PV_NAME });
  assert.equal(pv.spec?.csi?.driver, "block.csi.gluster.org");
  assert.equal(pv.spec?.csi?.volumeHandle, `v1/vol_2a3b/${BLOCK}`);
  assert.deepEqual(parseVolumeId(pv.spec?.csi?.volumeHandle ?? ""), { hostingVolume: "vol_2a3b", block: BLOCK });
  assert.equal(pv.spec?.csi?.fsType, "xfs");
  assert.deepEqual(pv.spec?.csi?.volumeAttributes, {
    iqn: IQN,
    portals: "10.213.0.11:3260,10.213.0.12:3260,10.213.0.13:3260",
    lun: "0",
    hostingVolume: "vol_2a3b",
    gbid: GBID,
    haCount: "3",
    wwid: "36001405741d7e157fc94aa382b8bd5c5",
    fsType: "xfs",
    auth: "true",
  });
  // what the node plugin reads back from it
  assert.equal(parseVolumeContext(pv.spec?.csi?.volumeAttributes ?? {}).gbid, GBID);
  assert.deepEqual(pv.spec?.csi?.nodeStageSecretRef, { name: `${CHAP_SECRET_PREFIX}${PV_NAME}-csi`, namespace: "gluster-block-csi" });
  assert.deepEqual(pv.spec?.capacity, { storage: "1Gi" });
  assert.deepEqual(
    [pv.spec?.accessModes, pv.spec?.volumeMode, pv.spec?.persistentVolumeReclaimPolicy, pv.spec?.storageClassName],
    [["ReadWriteOnce"], "Filesystem", "Delete", "gluster-block"],
  );
  assert.deepEqual(pv.spec?.claimRef, { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: "default", name: "data-db1-mysqlha-0" }, "no uid");
  assert.equal(pv.spec?.iscsi, undefined);

  const s = t.secret;
  assert.ok(s);
  assert.equal(s.metadata?.name, `${CHAP_SECRET_PREFIX}${PV_NAME}-csi`);
  assert.equal(s.metadata?.namespace, "gluster-block-csi");
  assert.deepEqual(s.data, { username: b64(GBID), password: b64(PASSWORD) }, "the credentials the initiators already know");
  assert.equal(s.metadata?.annotations?.["block.csi.gluster.org/volume-id"], `v1/vol_2a3b/${BLOCK}`);
  assert.equal(s.metadata?.labels?.["block.csi.gluster.org/gbid"], GBID);
  assert.deepEqual(t.notes, []);
});

test("the v0.9 provisioner's PV (portal without a port, ext4, no AccessKey) and a raw Block one", () => {
  const pv = inTreePv();
  const a = pv.metadata?.annotations ?? {};
  delete a.AccessKey;
  delete a.AccessKeyNs;
  delete a["gluster.org/volume-id"];
  a.glusterBlockShare = "blockvol-4f1c";
  pv.spec = {
    ...pv.spec,
    iscsi: {
      ...(pv.spec?.iscsi ?? { iqn: IQN, targetPortal: "", lun: 0 }),
      targetPortal: "10.213.0.11",
      portals: ["10.213.0.12", "10.213.0.13"],
      fsType: "ext4",
    },
  };
  const t = translatePv(input({ pv, block: block({ block: "blockvol-4f1c" }) }));
  assert.ok(t.ok, t.ok ? "" : t.reasons.join("; "));
  assert.equal(t.pv.spec?.csi?.fsType, "ext4");

  const raw = inTreePv();
  if (raw.spec) raw.spec.volumeMode = "Block";
  const c = claim();
  if (c.spec) c.spec.volumeMode = "Block";
  const r = translatePv(input({ pv: raw, claim: c }));
  assert.ok(r.ok, r.ok ? "" : r.reasons.join("; "));
  assert.equal(r.pv.spec?.csi?.fsType, undefined);
  assert.equal(r.pv.spec?.csi?.volumeAttributes?.fsType, "", "as CreateVolume answers a Block volume");
});

test("without CHAP on both sides: no Secret, no node-stage secret", () => {
  const pv = inTreePv();
  if (pv.spec?.iscsi) {
    pv.spec.iscsi.chapAuthSession = false;
    delete pv.spec.iscsi.secretRef;
  }
  const { chapSecret: _unused, ...rest } = input({ pv, block: block({ auth: false, password: "" }) });
  const t = translatePv(rest);
  assert.ok(t.ok, t.ok ? "" : t.reasons.join("; "));
  assert.equal(t.secret, undefined);
  assert.equal(t.pv.spec?.csi?.nodeStageSecretRef, undefined);
  assert.equal(t.pv.spec?.csi?.volumeAttributes?.auth, "false");
});

test("refused, with every reason: not gluster-block, another IQN or portal, wrong credentials, a name our IDs cannot hold, another claim", () => {
  const refusal = (i: TranslateInput): string[] => {
    const t = translatePv(i);
    assert.equal(t.ok, false);
    return t.ok ? [] : t.reasons;
  };
  const nfs: V1PersistentVolume = { metadata: { name: "nfs-1" }, spec: { nfs: { server: "x", path: "/" } } };
  assert.match(refusal(input({ pv: nfs })).join(), /not an in-tree iscsi PV/);
  const other = inTreePv();
  if (other.metadata?.annotations) delete other.metadata.annotations["gluster.org/type"];
  assert.match(refusal(input({ pv: other })).join(), /was not made by gluster-block/);

  assert.match(refusal(input({ block: block({ gbid: "1bcc8980-5c86-4fc6-a2bb-b185786f3a5f" }) })).join(), /the PV's IQN .* is not the block's/);
  assert.match(
    refusal(input({ block: block({ portals: ["10.213.0.11:3260", "10.213.0.12:3260", "10.213.0.14:3260"] }) })).join(),
    /the PV's portals 10\.213\.0\.13:3260 are not the block's/,
  );
  assert.match(refusal(input({ chapSecret: chapSecret(GBID, "another-password") })).join(), /CHAP password is not the block's/);
  assert.match(refusal(input({ chapSecret: chapSecret("someone") })).join(), /CHAP username is not the block's/);
  const { chapSecret: _unused, ...noSecret } = input();
  assert.match(refusal(noSecret).join(), /CHAP Secret glusterblk-.*-secret was not found/);
  assert.match(refusal(input({ block: block({ auth: false, password: "" }) })).join(), /the PV uses CHAP, and the block has auth disabled/);

  // the external-storage provisioner's volumeNamePrefix names: <prefix>_<ns>_<claim>_<uuid>, where a claim name may hold a dot
  const dotted = inTreePv();
  if (dotted.metadata?.annotations) dotted.metadata.annotations.glusterBlockShare = "app_default_db.data_1f2e";
  assert.match(refusal(input({ pv: dotted, block: block({ block: "app_default_db.data_1f2e" }) })).join(), /cannot be a volume ID of this driver/);

  const own = inTreePv();
  if (own.spec?.iscsi) own.spec.iscsi.initiatorName = "iqn.2020-01.com.example:pod-initiator";
  assert.match(refusal(input({ pv: own })).join(), /sets its own initiator name/);

  const c = claim();
  if (c.metadata) c.metadata.name = "another";
  assert.match(refusal(input({ claim: c })).join(), /not bound to the claim default\/another/);
  const big = claim();
  if (big.spec?.resources?.requests) big.spec.resources.requests.storage = "2Gi";
  assert.match(refusal(input({ claim: big })).join(), /asks for 2147483648 bytes; the block has 1073741824/);
  // several at once, each named
  assert.equal(refusal(input({ block: block({ gbid: "1bcc8980-5c86-4fc6-a2bb-b185786f3a5f", portals: ["10.0.0.9:3260"] }) })).length >= 2, true);
});

test("names and quantities", () => {
  assert.deepEqual(glusterBlockOf(inTreePv()), { block: BLOCK, heketiId: HEKETI_ID });
  assert.equal(importedPvName("pvc-1"), "pvc-1-csi");
  assert.equal(importedPvName("p".repeat(253)).length, 253);
  assert.equal(byteQuantity(1073741824n), "1Gi");
  assert.equal(byteQuantity(1536n * 1024n * 1024n), "1536Mi");
  assert.equal(byteQuantity(1000n), "1000");
  assert.equal(quantityBytes("10Gi"), 10737418240n);
  assert.equal(quantityBytes("5G"), 5000000000n);
  assert.equal(quantityBytes("1.5Gi"), undefined);
});
