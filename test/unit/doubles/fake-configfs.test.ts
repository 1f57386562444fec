// The fake must refuse what the kernel refuses, or the writer's tests prove nothing.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { FakeConfigfs } from "../../doubles/fake-configfs.js";

const R = "/t";
async function enabledSo(fs: FakeConfigfs): Promise<string> {
  await fs.mkdir(`${R}/core/user_0`);
  await fs.mkdir(`${R}/core/user_0/b`);
  await fs.write(`${R}/core/user_0/b/control`, "dev_config=glfs/v@h/f");
  await fs.write(`${R}/core/user_0/b/control`, "dev_size=1024");
  await fs.write(`${R}/core/user_0/b/enable`, "1");
  return `${R}/core/user_0/b`;
}
async function tpgWithLun(fs: FakeConfigfs, so: string): Promise<string> {
  await fs.mkdir(`${R}/iscsi`);
  await fs.mkdir(`${R}/iscsi/iqn.2000-01.x:y`);
  await fs.mkdir(`${R}/iscsi/iqn.2000-01.x:y/tpgt_1`);
  await fs.mkdir(`${R}/iscsi/iqn.2000-01.x:y/tpgt_1/lun/lun_0`);
  await fs.symlink(so, `${R}/iscsi/iqn.2000-01.x:y/tpgt_1/lun/lun_0/abc`);
  return `${R}/iscsi/iqn.2000-01.x:y/tpgt_1`;
}

describe("FakeConfigfs imitates the kernel", () => {
  test("a storage object cannot be enabled twice or linked before enable", async () => {
    const fs = new FakeConfigfs(R);
    await fs.mkdir(`${R}/core/user_0`);
    await fs.mkdir(`${R}/core/user_0/b`);
    await fs.mkdir(`${R}/iscsi`);
    await fs.mkdir(`${R}/iscsi/iqn.2000-01.x:y`);
    await fs.mkdir(`${R}/iscsi/iqn.2000-01.x:y/tpgt_1`);
    await fs.mkdir(`${R}/iscsi/iqn.2000-01.x:y/tpgt_1/lun/lun_0`);
    await assert.rejects(fs.symlink(`${R}/core/user_0/b`, `${R}/iscsi/iqn.2000-01.x:y/tpgt_1/lun/lun_0/a`), /ENODEV/);
    await assert.rejects(fs.write(`${R}/core/user_0/b/enable`, "1"), /EINVAL/);
    await fs.write(`${R}/core/user_0/b/control`, "dev_config=glfs/v@h/f,dev_size=10");
    await fs.write(`${R}/core/user_0/b/enable`, "1");
    await assert.rejects(fs.write(`${R}/core/user_0/b/enable`, "1"), /EEXIST/);
  });

  test("a linked backstore cannot be removed nor its WWN changed; a TPG with a LUN is not empty", async () => {
    const fs = new FakeConfigfs(R);
    const so = await enabledSo(fs);
    const tpg = await tpgWithLun(fs, so);
    await assert.rejects(fs.write(`${so}/wwn/vpd_unit_serial`, "x"), /EINVAL/);
    await assert.rejects(fs.rmdir(so), /EBUSY/);
    await assert.rejects(fs.rmdir(tpg), /ENOTEMPTY/);
    await assert.rejects(fs.rmdir(`${tpg}/attrib`), /EPERM/);
  });

  test("ALUA state needs a group id, implicit type and a configured device", async () => {
    const fs = new FakeConfigfs(R);
    const so = await enabledSo(fs);
    await fs.mkdir(`${so}/alua/g`);
    await assert.rejects(fs.write(`${so}/alua/g/alua_access_state`, "1"), /tg_pt_gp_id/);
    await fs.write(`${so}/alua/g/tg_pt_gp_id`, "2");
    await fs.write(`${so}/alua/g/alua_access_type`, "2");
    await assert.rejects(fs.write(`${so}/alua/g/alua_access_state`, "1"), /implicit/);
    await fs.write(`${so}/alua/g/alua_access_type`, "1");
    await fs.write(`${so}/alua/g/alua_access_state`, "1");
    assert.equal(await fs.read(`${so}/alua/g/alua_access_type`), "Implicit\n");
    assert.equal(await fs.read(`${so}/alua/g/alua_access_status`), "Altered by Implicit ALUA\n");
  });

  test("a mapped LUN's write_protect belongs to the mapping: empty and not kept before the link, read-write when linked, gone with the link", async () => {
    const fs = new FakeConfigfs(R);
    const tpg = await tpgWithLun(fs, await enabledSo(fs));
    const ml = `${tpg}/acls/iqn.1994-05.com.redhat:a/lun_0`;
    await fs.mkdir(`${tpg}/acls/iqn.1994-05.com.redhat:a`);
    await fs.mkdir(ml);
    assert.equal(await fs.read(`${ml}/write_protect`), "");
    await fs.write(`${ml}/write_protect`, "1"); // the kernel takes it and finds no mapping to change
    await fs.symlink(`${tpg}/lun/lun_0`, `${ml}/x`);
    assert.equal(await fs.read(`${ml}/write_protect`), "0\n", "a new mapping is read-write");
    await fs.write(`${ml}/write_protect`, "1");
    assert.equal(await fs.read(`${ml}/write_protect`), "1\n");
    await assert.rejects(fs.write(`${ml}/write_protect`, "2"), /EINVAL/);
    await fs.unlink(`${ml}/x`);
    await fs.symlink(`${tpg}/lun/lun_0`, `${ml}/y`);
    assert.equal(await fs.read(`${ml}/write_protect`), "0\n", "linked again: a new mapping, read-write");
  });

  test("TPG enable twice is refused, as older kernels do", async () => {
    const fs = new FakeConfigfs(R);
    const tpg = await tpgWithLun(fs, await enabledSo(fs));
    await fs.write(`${tpg}/enable`, "1");
    await assert.rejects(fs.write(`${tpg}/enable`, "1"), /EINVAL/);
  });
});
