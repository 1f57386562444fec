import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { ConfigfsLioTargets } from "../../../../src/glusterblock/lio/configfs-lio-targets.js";
import { FakeConfigfs } from "../../../doubles/fake-configfs.js";
import type { BlockTargetSpec, LioBlockState } from "../../../../src/glusterblock/lio/types.js";
import { LioConflictError, LioInvalidSpecError } from "../../../../src/glusterblock/lio/errors.js";
import type { Logger } from "../../../../src/util/log.js";

const ROOT = "/sys/kernel/config/target";
const GBID = "741d7e15-7fc9-4aa3-82b8-bd5c5298b65e";
const PASSWORD = "9b5f6a1e-secret-chap-pw";
const HOSTS = ["10.213.0.11", "10.213.0.12", "10.213.0.13"];
const INIT_A = "iqn.1994-05.com.redhat:node-a";
const INIT_B = "iqn.1994-05.com.redhat:node-b";

function spec(over: Partial<BlockTargetSpec> = {}): BlockTargetSpec {
  const gbid = over.gbid ?? GBID;
  return {
    name: "a1",
    gbid,
    cfgstring: `block-test@localhost/block-store/${gbid};tcmur_cmd_time_out=43`,
    sizeBytes: 1073741824,
    iqn: `iqn.2016-12.org.gluster-block:${gbid}`,
    hosts: HOSTS,
    localHost: "10.213.0.11",
    aoHost: "10.213.0.11",
    auth: { userid: gbid, password: PASSWORD },
    generateNodeAcls: true,
    acls: [],
    ...over,
  };
}

function setup(): { fs: FakeConfigfs; lio: ConfigfsLioTargets; lines: string[] } {
  const fs = new FakeConfigfs(ROOT);
  const lines: string[] = [];
  const logger: Logger = {
    error: (m, meta) => lines.push(`${m} ${JSON.stringify(meta)}`),
    warn: (m, meta) => lines.push(`${m} ${JSON.stringify(meta)}`),
    info: (m, meta) => lines.push(`${m} ${JSON.stringify(meta)}`),
    debug: (m, meta) => lines.push(`${m} ${JSON.stringify(meta)}`),
    child: () => logger,
  };
  return { fs, lio: new ConfigfsLioTargets({ root: ROOT, fs, logger }), lines };
}

/** state without the HBA index (which depends on history) */
function norm(st: LioBlockState | undefined): unknown {
  if (!st) return undefined;
  return JSON.parse(JSON.stringify(st, (k, v: unknown) => (k === "hba" || k === "backstoreHba" ? undefined : v)));
}

describe("ConfigfsLioTargets.apply: create", () => {
  test("an HA-3 block with CHAP looks like the original's on the PRIOPATH node", async () => {
    const { fs, lio } = setup();
    const r = await lio.apply(spec());
    assert.equal(r.created, true);
    assert.ok(r.writes > 0);
    const st = await lio.get(spec().iqn);
    assert.ok(st?.backstore && st.target);
    const bs = st.backstore;
    assert.equal(bs.name, "a1");
    assert.equal(bs.handler, "glfs");
    assert.equal(bs.cfgstring, `block-test@localhost/block-store/${GBID};tcmur_cmd_time_out=43`);
    assert.equal(bs.sizeBytes, 1073741824);
    assert.equal(bs.wwn, GBID);
    assert.equal(bs.cmdTimeOutSec, 130);
    assert.equal(bs.enabled, true);
    assert.equal((await fs.read(`${ROOT}/core/${bs.hba}/a1/attrib/cmd_ring_size_mb`)).trim(), "2", "a 2 MiB command ring, not the kernel's 8");
    const groups = Object.fromEntries(bs.aluaGroups.map((g) => [g.name, g]));
    assert.deepEqual(groups.glfs_tg_pt_gp_ao, { name: "glfs_tg_pt_gp_ao", id: 1, accessState: 0, accessType: 1 });
    assert.deepEqual(groups.glfs_tg_pt_gp_ano, { name: "glfs_tg_pt_gp_ano", id: 2, accessState: 1, accessType: 1 });
    assert.ok(groups.default_tg_pt_gp);

    const tpgs = st.target.tpgs;
    assert.deepEqual(
      tpgs.map((t) => t.tag),
      [1, 2, 3],
    );
    assert.deepEqual(
      tpgs.map((t) => t.enabled),
      [true, false, false],
    );
    assert.deepEqual(
      tpgs.map((t) => t.portals),
      [["10.213.0.11:3260"], ["10.213.0.12:3260"], ["10.213.0.13:3260"]],
    );
    assert.deepEqual(
      tpgs.map((t) => t.luns.map((l) => [l.index, l.backstore, l.aluaGroup])),
      [[[0, "a1", "glfs_tg_pt_gp_ao"]], [[0, "a1", "glfs_tg_pt_gp_ano"]], [[0, "a1", "glfs_tg_pt_gp_ano"]]],
    );
    for (const t of tpgs) {
      assert.equal(t.authentication, true);
      assert.equal(t.generateNodeAcls, true);
      assert.equal(t.demoModeWriteProtect, false);
      assert.equal(t.chapUserid, GBID);
      assert.equal(t.hasChapPassword, true);
      assert.deepEqual(t.acls, []);
    }
    assert.deepEqual(
      tpgs.map((t) => t.tpgEnabledSendtargets),
      [true, false, false],
    );
    assert.equal(await fs.read(`${ROOT}/iscsi/${spec().iqn}/tpgt_1/auth/password`), `${PASSWORD}\n`);
  });

  test("WWN is set before the first LUN link and the own TPG is enabled last", async () => {
    const { fs, lio } = setup();
    await lio.apply(spec());
    const idx = (pred: (o: string) => boolean): number => fs.ops.findIndex(pred);
    const wwn = idx((o) => o.endsWith("/wwn/vpd_unit_serial"));
    const firstLink = idx((o) => o.startsWith("symlink"));
    const enableBs = idx((o) => /core\/user_\d+\/a1\/enable$/.test(o));
    const enableTpg = idx((o) => o.endsWith("tpgt_1/enable"));
    assert.ok(enableBs >= 0 && wwn > enableBs && firstLink > wwn);
    assert.equal(enableTpg, fs.ops.length - 1);
  });

  test("re-applying the same spec writes nothing", async () => {
    const { fs, lio } = setup();
    await lio.apply(spec());
    const before = fs.ops.length;
    const r = await lio.apply(spec());
    assert.equal(r.writes, 0);
    assert.equal(r.created, false);
    assert.equal(fs.ops.length, before);
  });

  test("a non-PRIOPATH node serves its own TPG and puts it in the ANO group", async () => {
    const { lio } = setup();
    await lio.apply(spec({ localHost: "10.213.0.13", aoHost: "10.213.0.12" }));
    const st = await lio.get(spec().iqn);
    assert.deepEqual(
      st?.target?.tpgs.map((t) => [t.enabled, t.luns[0]?.aluaGroup]),
      [
        [false, "glfs_tg_pt_gp_ano"],
        [false, "glfs_tg_pt_gp_ao"],
        [true, "glfs_tg_pt_gp_ano"],
      ],
    );
  });

  test("without PRIOPATH there are no glfs ALUA groups and LUNs stay in the default group", async () => {
    const { lio } = setup();
    await lio.apply(spec({ aoHost: undefined, auth: undefined }));
    const st = await lio.get(spec().iqn);
    assert.deepEqual(
      st?.backstore?.aluaGroups.map((g) => g.name),
      ["default_tg_pt_gp"],
    );
    assert.deepEqual(
      st?.target?.tpgs.map((t) => t.luns[0]?.aluaGroup),
      Array(3).fill("default_tg_pt_gp"),
    );
    assert.deepEqual(
      st?.target?.tpgs.map((t) => [t.authentication, t.hasChapPassword]),
      Array(3).fill([false, false]),
    );
  });

  test("ring buffer and block size go through control before enable", async () => {
    const { fs, lio } = setup();
    await lio.apply(spec({ ringBufferMb: 64, hwBlockSize: 4096 }));
    const st = await lio.get(spec().iqn);
    assert.equal(st?.backstore?.maxDataAreaMb, 64);
    assert.equal(st?.backstore?.hwBlockSize, 4096);
    assert.ok(fs.ops.some((o) => o.endsWith("/control")));
  });

  test("a new backstore gets the lowest HBA index no plugin uses", async () => {
    const { fs, lio } = setup();
    await fs.mkdir(`${ROOT}/core/user_0`);
    await fs.mkdir(`${ROOT}/core/fileio_1`);
    await lio.apply(spec());
    const st = await lio.get(spec().iqn);
    assert.equal(st?.backstore?.hba, "user_2");
  });
});

describe("ConfigfsLioTargets.apply: generated ACLs made per-initiator (an adopted 0.5.1 block)", () => {
  const iqn = spec().iqn;

  test("the fake keeps what the kernel keeps: an initiator generated ACLs let in logs in again after generate_node_acls 0", async () => {
    const { fs, lio } = setup();
    await lio.apply(spec());
    assert.equal(fs.login(iqn, 1, INIT_B), true);
    fs.logout(iqn, 1, INIT_B);
    assert.deepEqual(fs.dynamicAclsOn(iqn, 1), [INIT_B], "cached: generated ACLs turned cache_dynamic_acls on");
    await fs.write(`${ROOT}/iscsi/${iqn}/tpgt_1/attrib/generate_node_acls`, "0");
    assert.equal(fs.login(iqn, 1, INIT_B), true, "its dynamic ACL admits it; configfs shows no ACL of its name");
    assert.deepEqual(await fs.readdir(`${ROOT}/iscsi/${iqn}/tpgt_1/acls`), []);
  });

  test("an initiator that ever logged in while ACLs were generated is refused after: the TPGs are made again, without cached ACLs", async () => {
    const { fs, lio } = setup();
    await lio.apply(spec());
    assert.equal(fs.login(iqn, 1, INIT_B), true);
    fs.logout(iqn, 1, INIT_B);
    assert.equal(fs.login(iqn, 1, INIT_A), true, "a session at the switch");

    const r = await lio.apply(spec({ generateNodeAcls: false, acls: [INIT_A] }));
    assert.ok(
      r.changes.some((c) => /rmdir .*tpgt_1$/.test(c)),
      `the TPG removed: ${r.changes.join("; ")}`,
    );
    assert.deepEqual(fs.dynamicAclsOn(iqn, 1), []);
    assert.deepEqual(fs.sessionsOn(iqn, 1), [], "the switch closed the sessions (A logs in again through its ACL)");
    assert.equal(fs.login(iqn, 1, INIT_B), false, "B: no ACL of its name, no dynamic one");
    assert.equal(fs.login(iqn, 1, INIT_A), true);
    for (const t of (await lio.get(iqn))?.target?.tpgs ?? []) {
      assert.equal(t.generateNodeAcls, false);
      assert.equal(t.cacheDynamicAcls, false, `tpg${t.tag}`);
    }
    const again = await lio.apply(spec({ generateNodeAcls: false, acls: [INIT_A] }));
    assert.equal(again.writes, 0, again.changes.join("; "));
  });

  test("a TPG switched to per-initiator ACLs by an earlier version (cache_dynamic_acls left on) is a difference, and apply makes it again", async () => {
    const { fs, lio } = setup();
    await lio.apply(spec());
    assert.equal(fs.login(iqn, 1, INIT_B), true);
    fs.logout(iqn, 1, INIT_B);
    for (const t of [1, 2, 3]) await fs.write(`${ROOT}/iscsi/${iqn}/tpgt_${t}/attrib/generate_node_acls`, "0");
    assert.equal((await lio.get(iqn))?.target?.tpgs[0]?.cacheDynamicAcls, true);
    await lio.apply(spec({ generateNodeAcls: false, acls: [INIT_A] }));
    assert.equal(fs.login(iqn, 1, INIT_B), false);
  });
});

describe("ConfigfsLioTargets.apply: crash at any point", () => {
  test("every crash point resumes to the same tree, which then needs no writes", async () => {
    const ref = setup();
    await ref.lio.apply(spec({ generateNodeAcls: false, acls: [INIT_A] }));
    const want = norm(await ref.lio.get(spec().iqn));
    const total = ref.fs.ops.length;
    assert.ok(total > 20);
    for (let k = 0; k < total; k++) {
      const { fs, lio } = setup();
      fs.crashAt = k;
      await assert.rejects(lio.apply(spec({ generateNodeAcls: false, acls: [INIT_A] })), /simulated crash/);
      fs.crashAt = undefined;
      await lio.apply(spec({ generateNodeAcls: false, acls: [INIT_A] }));
      assert.deepEqual(norm(await lio.get(spec().iqn)), want, `crash before op ${k}`);
      const again = await lio.apply(spec({ generateNodeAcls: false, acls: [INIT_A] }));
      assert.equal(again.writes, 0, `crash before op ${k}: second apply wrote ${again.changes.join("; ")}`);
    }
  });

  test("getMany answers for each target what get does alone, whatever half-state a crash left beside a whole block", async () => {
    const other = spec({ name: "b2", gbid: "0f7c2a4e-5b1d-4c3e-9a8f-6d2e1b0c3a4f" });
    const ref = setup();
    await ref.lio.apply(other);
    const start = ref.fs.ops.length;
    await ref.lio.apply(spec());
    const total = ref.fs.ops.length - start;
    for (let k = 0; k < total; k++) {
      const { fs, lio } = setup();
      await lio.apply(other);
      fs.crashAt = fs.ops.length + k;
      await assert.rejects(lio.apply(spec()), /simulated crash/);
      fs.crashAt = undefined;
      const iqns = [spec().iqn, other.iqn, "iqn.2016-12.org.gluster-block:9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"];
      const many = await lio.getMany(iqns);
      assert.deepEqual([...many.keys()], iqns, `crash before op ${k}`);
      for (const iqn of iqns) assert.deepEqual(many.get(iqn), await lio.get(iqn), `crash before op ${k}: ${iqn}`);
      assert.equal(many.get(iqns[2] ?? ""), undefined);
      assert.equal(many.get(other.iqn)?.backstore?.wwn, other.gbid, `crash before op ${k}: the whole block is found whole`);
    }
  });

  test("every crash point during remove is finished by the next remove", async () => {
    const ref = setup();
    await ref.lio.apply(spec({ generateNodeAcls: false, acls: [INIT_A, INIT_B] }));
    const start = ref.fs.ops.length;
    await ref.lio.remove({ name: "a1", iqn: spec().iqn });
    const total = ref.fs.ops.length - start;
    for (let k = 0; k < total; k++) {
      const { fs, lio } = setup();
      await lio.apply(spec({ generateNodeAcls: false, acls: [INIT_A, INIT_B] }));
      fs.crashAt = fs.ops.length + k;
      await assert.rejects(lio.remove({ name: "a1", iqn: spec().iqn }), /simulated crash/);
      fs.crashAt = undefined;
      await lio.remove({ name: "a1", iqn: spec().iqn });
      assert.deepEqual(fs.userObjects(), [`${ROOT}/iscsi/`], `crash before remove op ${k}`);
    }
  });

  test("a backstore made but never enabled is finished, not duplicated", async () => {
    const { fs, lio } = setup();
    await fs.mkdir(`${ROOT}/core/user_0`);
    await fs.mkdir(`${ROOT}/core/user_0/a1`);
    const r = await lio.apply(spec());
    assert.equal(r.created, true);
    const st = await lio.get(spec().iqn);
    assert.equal(st?.backstore?.hba, "user_0");
    assert.equal(st?.backstore?.enabled, true);
    assert.deepEqual(await fs.readdir(`${ROOT}/core`), ["user_0"]);
  });
});

describe("ConfigfsLioTargets.apply: changes", () => {
  test("resize writes dev_size once, which reaches tcmu-runner", async () => {
    const { fs, lio } = setup();
    await lio.apply(spec());
    const r = await lio.apply(spec({ sizeBytes: 2147483648 }));
    assert.equal(r.resized, true);
    assert.equal(r.writes, 1);
    assert.deepEqual(
      fs.reconfigs.map((x) => x.size),
      [2147483648],
    );
    assert.equal((await lio.get(spec().iqn))?.backstore?.sizeBytes, 2147483648);
  });

  test("auth off clears CHAP and the flag; on again restores them; the password is never in a change or log line", async () => {
    const { lio, lines } = setup();
    const on = await lio.apply(spec());
    const off = await lio.apply(spec({ auth: undefined }));
    let st = await lio.get(spec().iqn);
    for (const t of st?.target?.tpgs ?? []) {
      assert.equal(t.authentication, false);
      assert.equal(t.chapUserid, undefined);
      assert.equal(t.hasChapPassword, false);
    }
    assert.ok(off.writes > 0);
    const on2 = await lio.apply(spec());
    st = await lio.get(spec().iqn);
    for (const t of st?.target?.tpgs ?? []) assert.equal(t.authentication && t.hasChapPassword && t.chapUserid === GBID, true);
    const all = [...on.changes, ...off.changes, ...on2.changes, ...lines].join("\n");
    assert.ok(!all.includes(PASSWORD));
    assert.ok(all.includes("password = ***"));
  });

  test("a new CHAP password replaces the old one", async () => {
    const { fs, lio } = setup();
    await lio.apply(spec());
    const r = await lio.apply(spec({ auth: { userid: GBID, password: "another-pass-1234" } }));
    assert.equal(r.writes, 3);
    assert.equal(await fs.read(`${ROOT}/iscsi/${spec().iqn}/tpgt_2/auth/password`), "another-pass-1234\n");
  });

  test("per-initiator ACLs: mapped LUN 0 and CHAP on each ACL, none on the TPG", async () => {
    const { fs, lio } = setup();
    await lio.apply(spec({ generateNodeAcls: false, acls: [INIT_A, INIT_B] }));
    const st = await lio.get(spec().iqn);
    for (const t of st?.target?.tpgs ?? []) {
      assert.equal(t.generateNodeAcls, false);
      assert.equal(t.hasChapPassword, false);
      assert.deepEqual(t.acls, [
        { initiator: INIT_A, mappedLuns: [0], writeProtected: false, chapUserid: GBID, hasChapPassword: true },
        { initiator: INIT_B, mappedLuns: [0], writeProtected: false, chapUserid: GBID, hasChapPassword: true },
      ]);
    }
    const link = `${ROOT}/iscsi/${spec().iqn}/tpgt_1/acls/${INIT_A}/lun_0`;
    const alias = (await fs.readdir(link)).find((n) => n !== "write_protect") ?? "";
    assert.equal(await fs.kind(`${link}/${alias}`), "link");
  });

  test("a read-only initiator's mapped LUN 0 is write protected on every TPG, after its link; the others stay read-write", async () => {
    const { fs, lio } = setup();
    await lio.apply(spec({ generateNodeAcls: false, acls: [INIT_A, INIT_B], readOnlyAcls: [INIT_B] }));
    const st = await lio.get(spec().iqn);
    for (const t of st?.target?.tpgs ?? []) {
      assert.deepEqual(
        t.acls.map((a) => [a.initiator, a.writeProtected]),
        [
          [INIT_A, false],
          [INIT_B, true],
        ],
      );
    }
    for (const tag of [1, 2, 3]) {
      const ml = `${ROOT}/iscsi/${spec().iqn}/tpgt_${tag}/acls/${INIT_B}/lun_0`;
      assert.equal(await fs.read(`${ml}/write_protect`), "1\n");
      // the kernel keeps write_protect on the mapping the link makes: written before it, it would be lost
      const link = fs.ops.findIndex((o) => o.startsWith(`symlink ${ml}/`));
      const wp = fs.ops.findIndex((o) => o === `write ${ml}/write_protect`);
      assert.ok(link >= 0 && wp > link, `tpgt_${tag}: write_protect after the link`);
    }
    const again = await lio.apply(spec({ generateNodeAcls: false, acls: [INIT_A, INIT_B], readOnlyAcls: [INIT_B] }));
    assert.equal(again.writes, 0, "re-applying the same writes nothing");
    assert.deepEqual(await lio.pendingMany([spec({ generateNodeAcls: false, acls: [INIT_A, INIT_B], readOnlyAcls: [INIT_B] })]), new Set());
    // read-write again: the same mapping, its mode written
    const rw = spec({ generateNodeAcls: false, acls: [INIT_A, INIT_B] });
    assert.deepEqual(await lio.pendingMany([rw]), new Set([rw.iqn]), "a change of mode is pending");
    const back = await lio.apply(rw);
    assert.equal(back.writes, 3, back.changes.join("\n"));
    assert.ok(back.changes.every((c) => c.includes(`${INIT_B}/lun_0/write_protect`)));
  });

  test("ACL add and remove touch only that initiator", async () => {
    const { lio } = setup();
    await lio.apply(spec({ generateNodeAcls: false, acls: [INIT_A] }));
    const add = await lio.apply(spec({ generateNodeAcls: false, acls: [INIT_A, INIT_B] }));
    assert.ok(add.changes.every((c) => !c.includes(INIT_A)));
    assert.ok(add.changes.some((c) => c.includes(INIT_B)));
    const del = await lio.apply(spec({ generateNodeAcls: false, acls: [INIT_B] }));
    assert.ok(del.changes.every((c) => c.includes(INIT_A)));
    const st = await lio.get(spec().iqn);
    assert.deepEqual(
      st?.target?.tpgs.map((t) => t.acls.map((a) => a.initiator)),
      Array(3).fill([INIT_B]),
    );
  });

  test("switching from gen-acls to ACLs moves CHAP from the TPG to the ACLs", async () => {
    const { lio } = setup();
    await lio.apply(spec());
    await lio.apply(spec({ generateNodeAcls: false, acls: [INIT_A] }));
    const st = await lio.get(spec().iqn);
    for (const t of st?.target?.tpgs ?? []) {
      assert.equal(t.generateNodeAcls, false);
      assert.equal(t.chapUserid, undefined);
      assert.equal(t.acls[0]?.chapUserid, GBID);
    }
  });

  test("a PRIOPATH move regroups the LUNs; a smaller host list drops TPGs", async () => {
    const { lio } = setup();
    await lio.apply(spec());
    await lio.apply(spec({ aoHost: "10.213.0.12" }));
    let st = await lio.get(spec().iqn);
    assert.deepEqual(
      st?.target?.tpgs.map((t) => t.luns[0]?.aluaGroup),
      ["glfs_tg_pt_gp_ano", "glfs_tg_pt_gp_ao", "glfs_tg_pt_gp_ano"],
    );
    await lio.apply(spec({ hosts: HOSTS.slice(0, 2), aoHost: "10.213.0.12" }));
    st = await lio.get(spec().iqn);
    assert.deepEqual(
      st?.target?.tpgs.map((t) => t.tag),
      [1, 2],
    );
  });

  test("a changed cfgstring rebuilds the backstore and relinks the LUNs", async () => {
    const { lio } = setup();
    await lio.apply(spec());
    const cfg = `block-test@10.213.0.11/block-store/${GBID};tcmur_cmd_time_out=43`;
    const r = await lio.apply(spec({ cfgstring: cfg }));
    assert.equal(r.created, true);
    const st = await lio.get(spec().iqn);
    assert.equal(st?.backstore?.cfgstring, cfg);
    assert.deepEqual(
      st?.target?.tpgs.map((t) => t.luns[0]?.backstore),
      ["a1", "a1", "a1"],
    );
    assert.equal((await lio.apply(spec({ cfgstring: cfg }))).writes, 0);
  });

  test("a same-named backstore of another block is a conflict, left untouched", async () => {
    const { fs, lio } = setup();
    const other = "1bcc8980-5c86-4fc6-a2bb-b185786f3a5f";
    await lio.apply(spec({ gbid: other }));
    const before = fs.ops.length;
    await assert.rejects(lio.apply(spec()), LioConflictError);
    assert.equal(fs.ops.length, before);
  });

  test("a bad spec is refused before any write", async () => {
    const { fs, lio } = setup();
    const bad: Partial<BlockTargetSpec>[] = [
      { name: "a/1" },
      { localHost: "10.9.9.9" },
      { aoHost: "10.9.9.9" },
      { sizeBytes: 0 },
      { sizeBytes: 1.5 },
      { cfgstring: "vol@host:/x" },
      { iqn: "iqn.2016-12.org.gluster-block:other" },
      { hosts: [] },
      { acls: ["not an iqn"] },
      { generateNodeAcls: false, acls: [INIT_A], readOnlyAcls: [INIT_B] },
      { generateNodeAcls: true, acls: [], readOnlyAcls: [INIT_B] },
      { auth: { userid: GBID, password: "" } },
    ];
    for (const b of bad) await assert.rejects(lio.apply(spec(b)), LioInvalidSpecError, JSON.stringify(b));
    assert.equal(fs.ops.length, 0);
  });
});

describe("ConfigfsLioTargets.remove", () => {
  test("takes everything apart in an order LIO accepts and leaves nothing", async () => {
    const { fs, lio } = setup();
    await lio.apply(spec({ generateNodeAcls: false, acls: [INIT_A] }));
    await lio.remove({ name: "a1", iqn: spec().iqn });
    assert.deepEqual(fs.userObjects(), [`${ROOT}/iscsi/`]);
    assert.equal(await lio.get(spec().iqn), undefined);
    const ops = fs.ops.slice(fs.ops.findIndex((o) => o.startsWith("write") && o.endsWith("tpgt_1/enable")));
    assert.ok(ops[0]?.endsWith("tpgt_1/enable"), "TPG disabled first");
    assert.ok(ops.at(-1)?.startsWith(`rmdir ${ROOT}/core/user_`), "HBA last");
  });

  test("is idempotent: nothing there, or removed twice, is fine", async () => {
    const { fs, lio } = setup();
    await lio.remove({ name: "a1", iqn: spec().iqn });
    await lio.apply(spec());
    await lio.remove({ name: "a1", iqn: spec().iqn });
    const n = fs.ops.length;
    await lio.remove({ name: "a1", iqn: spec().iqn });
    assert.equal(fs.ops.length, n);
  });

  test("finds the backstore through the target, not by looking through every HBA, once the first remove has swept", async () => {
    const { fs, lio } = setup();
    const gbids = ["1bcc8980-5c86-4fc6-a2bb-b185786f3a5f", "2c3c1d22-0000-4000-8000-000000000001", "3d3c1d22-0000-4000-8000-000000000002"];
    for (const [i, gbid] of gbids.entries()) await lio.apply(spec({ name: `b${i}`, gbid, iqn: `iqn.2016-12.org.gluster-block:${gbid}` }));
    let coreReads = 0;
    const readdir = fs.readdir.bind(fs);
    fs.readdir = (path: string) => {
      if (path === `${ROOT}/core`) coreReads++;
      return readdir(path);
    };
    await lio.remove({ name: "b0", iqn: `iqn.2016-12.org.gluster-block:${gbids[0]}` });
    assert.ok(coreReads > 0, "the first remove of the process sweeps");
    coreReads = 0;
    await lio.remove({ name: "b1", iqn: `iqn.2016-12.org.gluster-block:${gbids[1]}` });
    await lio.apply(spec({ name: "b2", gbid: gbids[2], iqn: `iqn.2016-12.org.gluster-block:${gbids[2]}`, generateNodeAcls: false, acls: [INIT_A] }));
    assert.equal(coreReads, 0, "a remove and a re-apply of existing blocks read no HBA list");
    assert.deepEqual(
      (await lio.list()).map((b) => b.name),
      ["b2"],
    );
  });

  test("an empty HBA left by an earlier attempt is swept by a remove that finds no backstore", async () => {
    const { fs, lio } = setup();
    const other = "1bcc8980-5c86-4fc6-a2bb-b185786f3a5f";
    await lio.apply(spec({ name: "t1", gbid: other, iqn: `iqn.2016-12.org.gluster-block:${other}` }));
    await lio.remove({ name: "none", iqn: "iqn.2016-12.org.gluster-block:2c3c1d22-0000-4000-8000-000000000001" });
    await fs.mkdir(`${ROOT}/core/user_7`); // a remove cut between the object and its HBA
    await lio.remove({ name: "a1", iqn: spec().iqn });
    assert.deepEqual((await fs.readdir(`${ROOT}/core`)).filter((h) => h.startsWith("user_")).length, 1, "only t1's HBA is left");
  });

  test("leaves other blocks alone", async () => {
    const { lio } = setup();
    const other = "1bcc8980-5c86-4fc6-a2bb-b185786f3a5f";
    await lio.apply(spec());
    await lio.apply(spec({ name: "t1", gbid: other }));
    await lio.remove({ name: "a1", iqn: spec().iqn });
    const all = await lio.list();
    assert.deepEqual(
      all.map((b) => b.name),
      ["t1"],
    );
    assert.equal((await lio.apply(spec({ name: "t1", gbid: other }))).writes, 0);
  });
});

describe("ConfigfsLioTargets.list/get", () => {
  test("activePaths: each gluster-block target, and whether this node holds its active/optimized path", async () => {
    const { fs, lio } = setup();
    const [b, c] = ["1bcc8980-5c86-4fc6-a2bb-b185786f3a5f", "2c3c1d22-0000-4000-8000-000000000001"];
    await lio.apply(spec());
    await lio.apply(spec({ name: "b", gbid: b, iqn: `iqn.2016-12.org.gluster-block:${b}`, aoHost: HOSTS[1] }));
    await lio.apply(spec({ name: "c", gbid: c, iqn: `iqn.2016-12.org.gluster-block:${c}`, hosts: [HOSTS[0] ?? ""], aoHost: undefined }));
    await fs.mkdir(`${ROOT}/iscsi/iqn.2003-01.org.linux-iscsi.other:x1`);
    assert.deepEqual(
      await lio.activePaths(),
      new Map([
        [spec().iqn, true],
        [`iqn.2016-12.org.gluster-block:${b}`, false],
        [`iqn.2016-12.org.gluster-block:${c}`, false],
      ]),
    );
  });

  test("pairs backstores with targets and reports orphans of either kind", async () => {
    const { fs, lio } = setup();
    const t1 = "1bcc8980-5c86-4fc6-a2bb-b185786f3a5f";
    const orphanTarget = "2c3c1d22-0000-4000-8000-000000000001";
    await lio.apply(spec());
    await lio.apply(spec({ name: "t1", gbid: t1 }));
    // an orphan backstore (its target gone) and an orphan target (its backstore gone)
    await lio.apply(spec({ name: "ob", gbid: "3d3c1d22-0000-4000-8000-000000000002" }));
    await fs.mkdir(`${ROOT}/iscsi/iqn.2016-12.org.gluster-block:${orphanTarget}`);
    await fs.mkdir(`${ROOT}/iscsi/iqn.2016-12.org.gluster-block:${orphanTarget}/tpgt_1`);
    const ob = (await lio.get("iqn.2016-12.org.gluster-block:3d3c1d22-0000-4000-8000-000000000002"))?.target;
    assert.ok(ob);
    const lioNoTarget = new ConfigfsLioTargets({ root: ROOT, fs });
    // drop ob's target only
    for (const t of ob.tpgs) {
      const tp = `${ROOT}/iscsi/${ob.iqn}/tpgt_${t.tag}`;
      if (t.enabled) await fs.write(`${tp}/enable`, "0");
      for (const l of await fs.readdir(`${tp}/lun/lun_0`)) if ((await fs.kind(`${tp}/lun/lun_0/${l}`)) === "link") await fs.unlink(`${tp}/lun/lun_0/${l}`);
      await fs.rmdir(`${tp}/lun/lun_0`);
      for (const np of await fs.readdir(`${tp}/np`)) await fs.rmdir(`${tp}/np/${np}`);
      await fs.rmdir(tp);
    }
    await fs.rmdir(`${ROOT}/iscsi/${ob.iqn}`);

    const all = await lioNoTarget.list();
    const byKey = new Map(all.map((b) => [b.name ?? `target:${b.gbid}`, b]));
    assert.equal(all.length, 4);
    assert.ok(byKey.get("a1")?.target && byKey.get("a1")?.backstore);
    assert.equal(byKey.get("t1")?.gbid, t1);
    assert.ok(byKey.get("ob")?.backstore && !byKey.get("ob")?.target);
    const lone = byKey.get(`target:${orphanTarget}`);
    assert.ok(lone?.target && !lone.backstore);
    // get() of a target that is gone still finds its backstore by WWN
    const gone = await lio.get("iqn.2016-12.org.gluster-block:3d3c1d22-0000-4000-8000-000000000002");
    assert.equal(gone?.backstore?.name, "ob");
    assert.equal(gone?.target, undefined);
  });

  test("get of an unknown IQN is undefined", async () => {
    const { lio } = setup();
    assert.equal(await lio.get("iqn.2016-12.org.gluster-block:00000000-0000-0000-0000-000000000000"), undefined);
  });
});
