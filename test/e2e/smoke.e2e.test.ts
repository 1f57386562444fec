// Smoke test of the real storage stack on the 3-VM lab, with no product
// code: a file on the replica-3 volume, exported by LIO (tcmu-runner glfs
// backstore) from all three nodes under one IQN/WWN with CHAP, logged in from
// n1 over 3 portals, one dm-multipath map of 3 paths, xfs, write/read back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ensureLab } from "../../lab/harness/lab.js";
import type { Lab } from "../../lab/harness/lab.js";

const GBID = "5e1b6c2a-9f3d-4b7e-a1c8-2d4f6e8a0b13";
const IQN = `iqn.2016-12.org.gluster-block:${GBID}`;
const CHAP_USER = GBID;
const CHAP_PASS = "smoke-chap-secret-0123";
const BACKSTORE = "smoke1";
const SIZE = "1G";
/** tcmu-runner/LIO: NAA 6, OUI 001405, then the first 25 hex digits of the unit serial */
const WWID = `36001405${GBID.replace(/-/g, "").slice(0, 25)}`;
const VOL_MNT = "/mnt/lab-smoke-vol";
const BLK_MNT = "/mnt/lab-smoke-blk";

const wait = (seconds: number, cond: string): string => `for k in $(seq ${seconds * 5}); do ${cond} && exit 0; sleep 0.2; done; exit 1`;

test("smoke: gluster + tcmu glfs + LIO x3 + iSCSI CHAP x3 + multipath + xfs", { timeout: 45 * 60_000 }, async () => {
  const timings: [string, string][] = [];
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      const s = ((performance.now() - t0) / 1000).toFixed(2);
      timings.push([name, s]);
      console.log(`STEP ${name.padEnd(34)} ${s}s`);
    }
  };
  let lab: Lab | undefined;
  let failure: unknown;
  try {
    lab = await step("lab ready (ensureLab, 3 VMs)", () => ensureLab({ nodes: 3 }));
    const l = lab;
    const [n1] = [l.node(1)];
    await step("reset state", () => l.resetState());

    await step("FUSE mount + block file", async () => {
      await n1.must(`set -e; mkdir -p ${VOL_MNT}; mount -t glusterfs ${n1.address}:/${l.volume} ${VOL_MNT}
        mkdir -p ${VOL_MNT}/block-store; truncate -s ${SIZE} ${VOL_MNT}/block-store/${GBID}`);
      const size = await n1.must(["stat", "-c", "%s", `${VOL_MNT}/block-store/${GBID}`]);
      assert.equal(size.stdout.trim(), String(1 << 30));
    });

    const initiator = await step("initiator name of n1", async () => {
      const r = await n1.must("systemctl start iscsid && sed -n 's/^InitiatorName=//p' /etc/iscsi/initiatorname.iscsi");
      const name = r.stdout.trim();
      assert.match(name, /^iqn\./);
      return name;
    });

    await step("targetcli export on n1..n3", () =>
      Promise.all(
        l.nodes.map(async (n) => {
          const batch = [
            `/backstores/user:glfs create name=${BACKSTORE} size=${SIZE} cfgstring=${l.volume}@${n.address}/block-store/${GBID} wwn=${GBID}`,
            `/iscsi create ${IQN}`,
            `/iscsi/${IQN}/tpg1/luns create /backstores/user:glfs/${BACKSTORE}`,
            `/iscsi/${IQN}/tpg1/portals delete 0.0.0.0 3260`,
            `/iscsi/${IQN}/tpg1/portals create ${n.address} 3260`,
            `/iscsi/${IQN}/tpg1/acls create ${initiator}`,
            `/iscsi/${IQN}/tpg1/acls/${initiator} set auth userid=${CHAP_USER} password=${CHAP_PASS}`,
            `/iscsi/${IQN}/tpg1 set attribute authentication=1 generate_node_acls=0`,
            "",
          ].join("\n");
          await n.must(["targetcli"], { input: batch, timeoutMs: 300_000 });
          // targetcli's batch mode goes on after errors: check configfs itself
          const tpg = `/sys/kernel/config/target/iscsi/${IQN}/tpgt_1`;
          const r = await n.must(`set -e; cd ${tpg}
            test -e lun/lun_0; test -e np/${n.address}:3260; test "$(ls np)" = "${n.address}:3260"
            test "$(cat attrib/authentication)" = 1; test "$(cat attrib/generate_node_acls)" = 0
            test "$(cat acls/${initiator}/auth/userid)" = ${CHAP_USER}; test "$(cat enable)" = 1
            cat /sys/kernel/config/target/core/user_*/${BACKSTORE}/wwn/vpd_unit_serial
            grep -h . /sys/kernel/config/target/core/user_*/${BACKSTORE}/info | tr -s ' ' | head -3`);
          assert.match(r.stdout, new RegExp(`T10 VPD Unit Serial Number: ${GBID}`), `${n.name}: ${r.stdout}`);
        }),
      ),
    );

    await step("iSCSI CHAP login n1 -> 3 portals", async () => {
      for (const n of l.nodes) {
        await n1.must(`set -e; iscsiadm -m discovery -t st -p ${n.address} >/dev/null
          o() { iscsiadm -m node -T ${IQN} -p ${n.address} -o update -n "$1" -v "$2"; }
          o node.session.auth.authmethod CHAP; o node.session.auth.username ${CHAP_USER}
          o node.session.auth.password ${CHAP_PASS}; o node.session.timeo.replacement_timeout 10
          iscsiadm -m node -T ${IQN} -p ${n.address} --login`);
      }
      const s = await n1.must("iscsiadm -m session");
      assert.equal(
        s.stdout
          .trim()
          .split("\n")
          .filter((x) => x.includes(IQN)).length,
        3,
        s.stdout,
      );
    });

    await step("one multipath map, 3 active paths", async () => {
      const r = await n1.run(wait(60, `[ "$(multipath -ll ${WWID} 2>/dev/null | grep -c 'active ready running')" = 3 ]`), {
        timeoutMs: 90_000,
      });
      const ll = (await n1.run("multipath -ll")).stdout;
      assert.equal(r.code, 0, `no map ${WWID} with 3 active paths:\n${ll}`);
      const maps = (await n1.must(`multipathd show maps raw format "%w"`)).stdout.trim().split("\n");
      assert.deepEqual(maps, [WWID], `maps: ${maps.join(",")}`);
      const paths = (await n1.must(`multipathd show paths raw format "%d %w %t %T"`)).stdout.trim().split("\n");
      assert.equal(paths.length, 3, paths.join("\n"));
      for (const p of paths) assert.match(p, new RegExp(`^sd[a-z]+ ${WWID} active ready$`), p);
      // and each SCSI disk reports that WWID itself
      for (const p of paths) {
        const sd = p.split(" ")[0] ?? "";
        const id = await n1.must(["/lib/udev/scsi_id", "-g", "-u", `/dev/${sd}`]);
        assert.equal(id.stdout.trim(), WWID);
      }
      console.log(`WWID ${WWID} (36001405 + first 25 hex digits of GBID ${GBID}) confirmed on 3 paths\n${ll}`);
    });

    const dev = `/dev/mapper/${WWID}`;
    await step("mkfs.xfs -K (no discard)", () => n1.must(["mkfs.xfs", "-f", "-q", "-K", dev], { timeoutMs: 300_000 }));

    await step("mount, write 32 MiB + fsync", () =>
      n1.must(
        `set -e; mkdir -p ${BLK_MNT}; mount ${dev} ${BLK_MNT}
        dd if=/dev/urandom of=/root/smoke.pattern bs=1M count=32 status=none
        dd if=/root/smoke.pattern of=${BLK_MNT}/pattern bs=1M conv=fsync status=none`,
        { timeoutMs: 300_000 },
      ),
    );

    await step("drop caches, remount, read back", async () => {
      await n1.must(`set -e; umount ${BLK_MNT}; sync; echo 3 > /proc/sys/vm/drop_caches; mount ${dev} ${BLK_MNT}`, {
        timeoutMs: 300_000,
      });
      const r = await n1.run(`cmp /root/smoke.pattern ${BLK_MNT}/pattern && sha256sum < ${BLK_MNT}/pattern`, {
        timeoutMs: 300_000,
      });
      assert.equal(r.code, 0, `read back differs: ${r.stdout}${r.stderr}`);
    });
  } catch (err) {
    failure = err ?? new Error("step failed");
    if (lab) {
      const d = await lab.collectLogs().catch((e: unknown) => `(log collection failed: ${String(e)})`);
      console.log(`lab logs: ${d}`);
    }
  }
  if (lab) {
    const l = lab;
    try {
      await step("cleanup + verify", () => cleanup(l));
    } catch (err) {
      if (failure === undefined) failure = err;
      else console.log(`cleanup after the failure also failed: ${String(err)}`);
    }
  }
  console.log(`timings: ${timings.map(([n, s]) => `${n}=${s}s`).join(", ")}`);
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(`step failed: ${JSON.stringify(failure)}`);
});

async function cleanup(lab: Lab): Promise<void> {
  const n1 = lab.node(1);
  await n1.must(`set -u
    umount ${BLK_MNT} 2>/dev/null; rmdir ${BLK_MNT} 2>/dev/null
    multipath -f ${WWID} 2>/dev/null
    iscsiadm -m node -T ${IQN} --logout >/dev/null 2>&1
    iscsiadm -m node -T ${IQN} -o delete >/dev/null 2>&1
    for p in ${lab.addresses.join(" ")}; do iscsiadm -m discoverydb -t st -p $p -o delete >/dev/null 2>&1; done
    rm -f /root/smoke.pattern; true`);
  await Promise.all(lab.nodes.map((n) => n.must("targetcli clearconfig confirm=True >/dev/null", { timeoutMs: 300_000 })));
  await n1.must(`set -e; mountpoint -q ${VOL_MNT} || mount -t glusterfs ${n1.address}:/${lab.volume} ${VOL_MNT}
    rm -f ${VOL_MNT}/block-store/${GBID}; umount ${VOL_MNT}; rmdir ${VOL_MNT}`);
  // verify: nothing of the test is left
  const s = await n1.run("iscsiadm -m session");
  assert.doesNotMatch(s.stdout, new RegExp(IQN));
  assert.equal((await n1.run(`ls /etc/iscsi/nodes | grep -c ${GBID}`)).stdout.trim(), "0");
  assert.equal((await n1.must("dmsetup ls --target multipath")).stdout.includes(WWID), false);
  for (const n of lab.nodes) {
    assert.equal((await n.must("ls /sys/kernel/config/target/iscsi | grep -c iqn || true")).stdout.trim(), "0");
  }
  assert.equal((await n1.must(`findmnt -rn -o TARGET | grep -c '^/mnt/lab-smoke' || true`)).stdout.trim(), "0");
}
