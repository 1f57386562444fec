// The seed's example on the real stack: gluster-blockd on three storage VMs,
// the gluster-block CLI creating an HA-3 block with CHAP, an initiator logging
// in to the three portals through one multipath map, xfs, data; then list,
// info in every format, modify auth and size, LIO wiped on a node and healed
// by blockd's start-up reconcile, and a delete that leaves nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ensureLab, type Lab, type LabNode } from "../../lab/harness/lab.js";
import { buildProduct, startBlockd, startBlockdEverywhere, stopBlockdEverywhere, cli, blockdLog, blockdSh } from "../../lab/harness/product.js";
import { wwidFor, iqnFor, IQN_PREFIX } from "../../src/identity/names.js";

let lab: Lab;
let n1: LabNode;
const BLOCK = "sample-block";
// the block's identity, random per create: read from the first test's create
let GBID = "";
let IQN = "";
let WWID = "";
const timings: string[] = [];
let password = "";

async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    const line = `STEP ${name.padEnd(44)} ${((performance.now() - t0) / 1000).toFixed(2)}s`;
    timings.push(line);
    console.log(line);
  }
}

const waitFor = (seconds: number, cond: string): string => `for k in $(seq ${seconds * 5}); do ${cond} && exit 0; sleep 0.2; done; exit 1`;

function field(out: string, key: string): string {
  const m = new RegExp(`^${key}: ?(.*)$`, "m").exec(out);
  assert.ok(m, `${key} in:\n${out}`);
  return (m[1] ?? "").trim();
}

async function login(n: LabNode, portals: string[], user: string | undefined, pass: string | undefined): Promise<void> {
  for (const p of portals) {
    const auth =
      user && pass
        ? `iscsiadm -m node -T ${IQN} -p ${p} -o update -n node.session.auth.authmethod -v CHAP
         iscsiadm -m node -T ${IQN} -p ${p} -o update -n node.session.auth.username -v ${user}
         iscsiadm -m node -T ${IQN} -p ${p} -o update -n node.session.auth.password -v '${pass}'`
        : "";
    const r = await n.run(`set -e
      iscsiadm -m node -T ${IQN} -p ${p} -o new >/dev/null
      iscsiadm -m node -T ${IQN} -p ${p} -o update -n node.startup -v manual
      iscsiadm -m node -T ${IQN} -p ${p} -o update -n node.session.timeo.replacement_timeout -v 10
      ${auth}
      iscsiadm -m node -T ${IQN} -p ${p} --login`);
    if (r.code !== 0) {
      // what the target and the initiator held when the login failed
      const host = lab.nodes.find((x) => p.startsWith(`${x.address}:`));
      const target = host
        ? (
            await host.run(
              `cd /sys/kernel/config/target/iscsi/${IQN} && for g in tpgt_*; do echo "$g enable=$(cat $g/enable) gen=$(cat $g/attrib/generate_node_acls) auth=$(cat $g/attrib/authentication) userid=$(cat $g/auth/userid) acls=$(ls $g/acls | tr '\\n' ' ')"; done; journalctl -k -n 8 --no-pager`,
            )
          ).stdout
        : "";
      const rec = (await n.run(`iscsiadm -m node -T ${IQN} -p ${p} | grep -E 'auth|startup'`)).stdout;
      assert.fail(`login to ${p} failed (${r.code}): ${r.stderr}\n--- target ${host?.name ?? "?"}:\n${target}\n--- record on ${n.name}:\n${rec}`);
    }
  }
}

async function logoutAll(n: LabNode): Promise<void> {
  await n.run(
    `umount /mnt/gb-e2e 2>/dev/null; multipath -f ${WWID} 2>/dev/null; iscsiadm -m node -T ${IQN} --logout 2>/dev/null; iscsiadm -m node -T ${IQN} -o delete 2>/dev/null; true`,
  );
}

before(async () => {
  buildProduct();
  lab = await ensureLab({ nodes: 3 });
  n1 = lab.node(1);
  await lab.resetState();
  await step("start gluster-blockd on 3 nodes", () => startBlockdEverywhere(lab));
});

after(async () => {
  if (lab) {
    await logoutAll(n1);
    await cli(n1, ["delete", `block-test/${BLOCK}`]).catch(() => undefined);
    for (const n of lab.nodes) {
      const log = await blockdLog(n);
      assert.ok(!password || !log.includes(password), `the CHAP password appears in ${n.name}'s blockd log`);
    }
    await stopBlockdEverywhere(lab);
    console.log(timings.join("\n"));
  }
});

test("create ha 3 with auth prints IQN, portals and CHAP credentials", { timeout: 600_000 }, async () => {
  const hosts = lab.addresses.join(",");
  const r = await step("gluster-block create ha 3 auth 1GiB", () => cli(n1, ["create", `block-test/${BLOCK}`, "ha", "3", "auth", "enable", hosts, "1GiB"]));
  assert.equal(r.code, 0, r.stderr + r.stdout);
  IQN = field(r.stdout, "IQN");
  assert.ok(IQN.startsWith(IQN_PREFIX), IQN);
  GBID = IQN.slice(IQN_PREFIX.length);
  assert.match(GBID, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, "a random GBID");
  WWID = wwidFor(GBID);
  assert.equal(iqnFor(GBID), IQN);
  assert.equal(field(r.stdout, "USERNAME"), GBID);
  password = field(r.stdout, "PASSWORD");
  assert.match(password, /^[0-9a-f-]{36}$/);
  assert.equal(field(r.stdout, "PORTAL\\(S\\)"), lab.addresses.map((a) => `${a}:3260`).join(" "));
  assert.match(r.stdout, /^RESULT: SUCCESS$/m);
  // the original's layout exactly
  assert.equal(
    r.stdout,
    `IQN: ${IQN}\nUSERNAME: ${GBID}\nPASSWORD: ${password}\nPORTAL(S):  ${lab.addresses.map((a) => `${a}:3260`).join(" ")}\nRESULT: SUCCESS\n`,
  );
  // targetcli shows the original's tree on every node (the nodes at once: targetcli takes seconds to start in a VM)
  const trees = await Promise.all(
    lab.nodes.map(async (n) => ({
      n,
      ls: (await n.must(["targetcli", "ls", `/iscsi/${IQN}`], { timeoutMs: 300_000 })).stdout,
      bs: (await n.must(["targetcli", "ls", "/backstores/user:glfs"], { timeoutMs: 300_000 })).stdout,
    })),
  );
  for (const { n, ls, bs } of trees) {
    assert.match(ls, /tpg1 .*\n[\s\S]*tpg2[\s\S]*tpg3/);
    const own = lab.nodes.indexOf(n) + 1;
    assert.match(ls, new RegExp(`tpg${own} \\.+ \\[gen-acls, tpg-auth, 1-way auth\\]`), ls);
    assert.equal((ls.match(/\[disabled\]/g) ?? []).length, 2, ls);
    assert.match(bs, new RegExp(`${BLOCK} \\.+ \\[block-test@localhost/block-store/${GBID};tcmur_cmd_time_out=43 \\(1\\.0GiB\\) activated\\]`), bs);
  }
});

test("an initiator logs in with CHAP to 3 portals: one map of 3 paths, xfs, data", { timeout: 600_000 }, async () => {
  const portals = lab.addresses.map((a) => `${a}:3260`);
  await step("iscsi login 3 portals with CHAP", () => login(n1, portals, GBID, password));
  await step("multipath map with 3 paths", () =>
    n1.must(
      `${waitFor(60, `[ "$(multipath -ll ${WWID} 2>/dev/null | grep -c 'active ready running')" = 3 ]`)} || { multipath -v2 >/dev/null; multipath -ll; exit 1; }`,
    ),
  );
  await step("mkfs.xfs -K, mount, write, read back", () =>
    n1.must(
      `set -e; mkfs.xfs -f -q -K /dev/mapper/${WWID}; mkdir -p /mnt/gb-e2e; mount /dev/mapper/${WWID} /mnt/gb-e2e
      dd if=/dev/urandom of=/root/gb-e2e.bin bs=1M count=16 status=none; cp /root/gb-e2e.bin /mnt/gb-e2e/data; sync
      umount /mnt/gb-e2e; echo 3 > /proc/sys/vm/drop_caches; mount /dev/mapper/${WWID} /mnt/gb-e2e; cmp /root/gb-e2e.bin /mnt/gb-e2e/data`,
      { timeoutMs: 300_000 },
    ),
  );
});

test("login without CHAP credentials is refused", { timeout: 300_000 }, async () => {
  const n2 = lab.node(2);
  const r = await n2.run(
    `iscsiadm -m node -T ${IQN} -p ${lab.addresses[0]}:3260 -o new >/dev/null && iscsiadm -m node -T ${IQN} -p ${lab.addresses[0]}:3260 --login; rc=$?; iscsiadm -m node -T ${IQN} -o delete >/dev/null 2>&1; exit $rc`,
  );
  assert.notEqual(r.code, 0, "a login without CHAP must fail");
  assert.match(r.stdout + r.stderr, /authoriz|Login failed|24/i);
});

test("list and info in every format agree", { timeout: 300_000 }, async () => {
  const list = await cli(n1, ["list", "block-test"]);
  assert.equal(list.code, 0, list.stderr);
  assert.ok(list.stdout.split("\n").includes(BLOCK));
  const plain = await cli(n1, ["info", `block-test/${BLOCK}`]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(field(plain.stdout, "NAME"), BLOCK);
  assert.equal(field(plain.stdout, "SIZE"), "1.0 GiB");
  assert.equal(field(plain.stdout, "HA"), "3");
  assert.equal(field(plain.stdout, "PASSWORD"), password);
  const exported = field(plain.stdout, "EXPORTED ON").split(" ").sort();
  assert.deepEqual(exported, [...lab.addresses].sort());
  // each format from another node, the nodes at once: every node's blockd answers alike
  const flags = ["--json", "--json-plain", "--json-spaced", "--json-pretty"];
  const answers = await Promise.all(
    flags.map(async (flag, i) => {
      const n = lab.nodes[i % lab.nodes.length] ?? n1;
      return { flag, j: await cli(n, ["info", `block-test/${BLOCK}`, flag]), l: await cli(n, ["list", "block-test", flag]) };
    }),
  );
  for (const { flag, j, l: listed } of answers) {
    assert.equal(j.code, 0, `info ${flag}: ${j.stderr}`);
    assert.equal(listed.code, 0, `list ${flag}: ${listed.stderr}`);
    const o = JSON.parse(j.stdout) as Record<string, unknown>;
    assert.equal(o.NAME, BLOCK);
    assert.equal(o.GBID, GBID);
    assert.equal(o.HA, 3);
    assert.equal(o.SIZE, "1.0 GiB");
    assert.equal(o.PASSWORD, password);
    assert.deepEqual((o["EXPORTED ON"] as string[]).sort(), exported);
    const l = JSON.parse(listed.stdout) as { blocks: string[]; RESULT: string };
    assert.ok(l.blocks.includes(BLOCK));
    assert.equal(l.RESULT, "SUCCESS");
  }
});

test("modify auth disable then enable: the new credentials work", { timeout: 600_000 }, async () => {
  const off = await step("modify auth disable", () => cli(n1, ["modify", `block-test/${BLOCK}`, "auth", "disable"]));
  assert.equal(off.code, 0, off.stderr);
  assert.match(off.stdout, /^RESULT: SUCCESS$/m);
  const on = await step("modify auth enable", () => cli(n1, ["modify", `block-test/${BLOCK}`, "auth", "enable"]));
  assert.equal(on.code, 0, on.stderr);
  const newPassword = field(on.stdout, "PASSWORD");
  assert.notEqual(newPassword, password);
  password = newPassword;
  // the running sessions keep going (the original's policy: auth applies at login); a new login needs the new secret
  await logoutAll(n1);
  await step("re-login with the new credentials", () =>
    login(
      n1,
      lab.addresses.map((a) => `${a}:3260`),
      GBID,
      password,
    ),
  );
  await n1.must(waitFor(60, `[ "$(multipath -ll ${WWID} 2>/dev/null | grep -c 'active ready running')" = 3 ]`));
});

test("modify size 2GiB: the initiator sees 2 GiB after a rescan", { timeout: 600_000 }, async () => {
  const r = await step("modify size 2GiB", () => cli(n1, ["modify", `block-test/${BLOCK}`, "size", "2GiB"]));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(field(r.stdout, "SIZE"), "2.0 GiB");
  await n1.must(`iscsiadm -m session -R >/dev/null; multipathd resize map ${WWID} >/dev/null`);
  await n1.must(waitFor(30, `[ "$(blockdev --getsize64 /dev/mapper/${WWID})" = ${2 * 1024 ** 3} ]`));
});

test("LIO wiped on a node comes back when its blockd restarts; the path recovers", { timeout: 600_000 }, async () => {
  const n2 = lab.node(2);
  await step("targetcli clearconfig on n2", () => n2.must("targetcli clearconfig confirm=True", { timeoutMs: 300_000 }));
  await n1.must(waitFor(60, `[ "$(multipath -ll ${WWID} 2>/dev/null | grep -c 'active ready running')" -le 2 ]`));
  await step("restart blockd on n2 (reconcile)", () => startBlockd(n2));
  await step("target back and path active", async () => {
    await n2.must(
      waitFor(60, `test -e /sys/kernel/config/target/iscsi/${IQN}/tpgt_2/enable && [ "$(cat /sys/kernel/config/target/iscsi/${IQN}/tpgt_2/enable)" = 1 ]`),
    );
    await n1.must(waitFor(90, `[ "$(multipath -ll ${WWID} 2>/dev/null | grep -c 'active ready running')" = 3 ]`) + ` || { multipath -ll ${WWID}; exit 1; }`, {
      timeoutMs: 200_000,
    });
  });
});

test("delete leaves no LIO object, file or journal on any node", { timeout: 600_000 }, async () => {
  await logoutAll(n1);
  const r = await step("gluster-block delete", () => cli(n1, ["delete", `block-test/${BLOCK}`]));
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^SUCCESSFUL ON: +/m);
  for (const n of lab.nodes) {
    const left = await n.must(
      `ls /sys/kernel/config/target/iscsi | grep -c gluster-block || true; ls -d /sys/kernel/config/target/core/user_*/${BLOCK} 2>/dev/null | wc -l`,
    );
    assert.deepEqual(left.stdout.trim().split("\n"), ["0", "0"], `${n.name}: ${left.stdout}`);
  }
  const files = await n1.must(blockdSh(`m=$(findmnt -rn -o TARGET | grep '^/run/gluster-blockd/mnt/block-test$'); ls "$m/block-store" "$m/block-meta"`));
  assert.ok(!files.stdout.includes(GBID) && !files.stdout.includes(BLOCK), files.stdout);
  const list = await cli(n1, ["list", "block-test"]);
  assert.equal(list.stdout.trim(), "*Nil*");
});

/** What LIO on every node and the hosting volume hold: to prove a refused command changed nothing. */
async function stackSnapshot(): Promise<string> {
  const lio = await Promise.all(
    lab.nodes.map(
      async (n) => (await n.must("ls /sys/kernel/config/target/iscsi 2>/dev/null; ls -d /sys/kernel/config/target/core/user_*/* 2>/dev/null; true")).stdout,
    ),
  );
  const vol = (await n1.must(`m=/run/gluster-blockd/mnt/block-test; ls "$m/block-store" "$m/block-meta"; cat "$m"/block-meta/* 2>/dev/null | md5sum`)).stdout;
  return JSON.stringify({ lio, vol });
}

test("bad input gets a clear error and the original's exit code, and changes nothing", { timeout: 900_000 }, async () => {
  const hosts = lab.addresses.join(",");
  const ok = await cli(n1, ["create", "block-test/keep", "ha", "3", "prealloc", "no", hosts, "64MiB"]);
  assert.equal(ok.code, 0, ok.stderr);
  const before = await stackSnapshot();
  const cases: [string[], number, RegExp][] = [
    // as 0.5.1: an existing block is refused with its words and no credentials, whatever the parameters
    [["create", "block-test/keep", "ha", "3", "prealloc", "no", hosts, "64MiB"], 17, /^BLOCK with name: 'keep' already EXIST\n$/],
    [["create", "block-test/keep", "ha", "3", "prealloc", "no", "auth", "enable", hosts, "64MiB"], 17, /^BLOCK with name: 'keep' already EXIST\n$/],
    [["create", "block-test/keep", "ha", "3", "prealloc", "no", hosts, "128MiB"], 17, /^BLOCK with name: 'keep' already EXIST\n$/],
    [["create", "block-test/x1", "ha", "4", hosts, "64MiB"], 255, /ha/i],
    [["create", "block-test/x2", "ha", "1", (lab.addresses[0] ?? "").replace(/\.\d+$/, ".99"), "64MiB"], 255, /not in the trusted storage pool/],
    [["create", "block-test/x3", "ha", "1", "storage-1", "64MiB"], 255, /not an IP address/],
    [["create", "block-test/bad.name", "ha", "1", hosts, "64MiB"], 255, /only letters, digits/],
    [["create", "block-test/x4", "ha", "1", hosts, "1.5GiB"], 255, /fraction/],
    [["create", "block-test/x5", "ha", "1", hosts, "2GB"], 255, /unknown size unit/],
    [["create", "no-such-vol/x6", "ha", "1", hosts, "64MiB"], 2, /doesn't exist/],
    [["create", "block-test/x7", "ha", "1", hosts, "64TiB"], 28, /space/],
    [["info", "block-test/nosuch"], 2, /doesn't exist/],
    [["delete", "block-test/nosuch"], 2, /doesn't exist/],
    [["modify", "block-test/keep", "size", "32MiB"], 255, /force/],
    [["modify", "block-test/keep", "auth", "maybe"], 255, /enable|disable/],
  ];
  // the cases on "keep" in turn on n1 (one at a time, as one admin would), the others spread over the nodes at once
  const onKeep = cases.filter(([args]) => args[1] === "block-test/keep");
  const others = cases.filter(([args]) => args[1] !== "block-test/keep");
  const chains = [onKeep, ...lab.nodes.slice(1).map((_, k) => others.filter((_c, i) => i % (lab.nodes.length - 1) === k))];
  await Promise.all(
    chains.map(async (chain, k) => {
      const n = lab.nodes[k] ?? n1;
      for (const [args, code, msg] of chain) {
        const r = await cli(n, [...args, "--json-plain"]);
        assert.equal(r.code, code, `${n.name}: ${args.join(" ")}: exit ${r.code}\n${r.stdout}${r.stderr}`);
        const err = JSON.parse(r.stderr) as { RESULT: string; errCode: number; errMsg: string };
        assert.deepEqual(Object.keys(err), ["RESULT", "errCode", "errMsg"], "the error form has no other keys (no credentials)");
        assert.equal(err.RESULT, "FAIL");
        assert.equal(err.errCode, code);
        assert.match(err.errMsg, msg, args.join(" "));
      }
    }),
  );
  assert.equal(await stackSnapshot(), before, "LIO, journals and files unchanged");
  assert.equal((await cli(n1, ["delete", "block-test/keep"])).code, 0);
});

test("replace moves a target to another node; the initiator's portals follow", { timeout: 900_000 }, async () => {
  const [a1, a2, a3] = lab.addresses as [string, string, string];
  const r = await cli(n1, ["create", "block-test/moving", "ha", "2", "prealloc", "no", `${a1},${a2}`, "64MiB"]);
  assert.equal(r.code, 0, r.stderr);
  const moved = await step("gluster-block replace", () => cli(n1, ["replace", "block-test/moving", a2, a3]));
  assert.equal(moved.code, 0, moved.stderr + moved.stdout);
  assert.match(moved.stdout, new RegExp(`^CREATE SUCCESS: ${a3.replace(/\./g, "\\.")}$`, "m"));
  assert.match(moved.stdout, new RegExp(`^DELETE SUCCESS: ${a2.replace(/\./g, "\\.")}$`, "m"));
  const iqn = /^IQN: (\S+)$/m.exec(r.stdout)?.[1] ?? "";
  assert.ok(iqn.startsWith(IQN_PREFIX), r.stdout);
  assert.equal((await lab.node(2).run(`test -e /sys/kernel/config/target/iscsi/${iqn}`)).code, 1, "nothing left on the old node");
  assert.equal((await lab.node(3).must(`cat /sys/kernel/config/target/iscsi/${iqn}/tpgt_2/enable`)).stdout.trim(), "1");
  assert.equal((await n1.must(`ls /sys/kernel/config/target/iscsi/${iqn}/tpgt_2/np`)).stdout.trim(), `${a3}:3260`);
  const info = await cli(n1, ["info", "block-test/moving", "--json"]);
  assert.deepEqual(((JSON.parse(info.stdout) as Record<string, string[]>)["EXPORTED ON"] ?? []).sort(), [a1, a3].sort());
  assert.equal((await cli(n1, ["delete", "block-test/moving"])).code, 0);
});
