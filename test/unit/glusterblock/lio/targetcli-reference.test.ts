import { test } from "node:test";
import assert from "node:assert/strict";
import { targetcliCreateBatch } from "../../../../src/glusterblock/lio/targetcli-reference.js";

test("the reference batch follows the original's create sequence for an HA-3 block", () => {
  const gbid = "741d7e15-7fc9-4aa3-82b8-bd5c5298b65e";
  const b = targetcliCreateBatch({
    name: "a1", gbid, cfgstring: `block-test@localhost/block-store/${gbid};tcmur_cmd_time_out=43`, sizeBytes: 1073741824,
    iqn: `iqn.2016-12.org.gluster-block:${gbid}`, hosts: ["10.0.0.1", "10.0.0.2", "10.0.0.3"], localHost: "10.0.0.2",
    aoHost: "10.0.0.3", auth: { userid: gbid, password: "pw-123456" }, generateNodeAcls: true, acls: [],
  });
  assert.equal(b[0], `/backstores/user:glfs create name=a1 size=1073741824 cfgstring=block-test@localhost/block-store/${gbid};tcmur_cmd_time_out=43 wwn=${gbid}`);
  assert.equal(b[1], "/backstores/user:glfs/a1 set attribute cmd_time_out=130");
  assert.ok(b.includes(`/iscsi/iqn.2016-12.org.gluster-block:${gbid}/tpg3/luns/lun0 set alua alua_tg_pt_gp_name=glfs_tg_pt_gp_ao`));
  assert.deepEqual(b.filter((c) => c.endsWith(" enable")), [`/iscsi/iqn.2016-12.org.gluster-block:${gbid}/tpg2 enable`]);
  assert.equal(b.filter((c) => c.includes("tpg_enabled_sendtargets=0")).length, 2);
});
