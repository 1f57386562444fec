import { test } from "node:test";
import assert from "node:assert/strict";
import { effectiveTcmuSettings, parseMultipathConfig, tcmuSettingProblems } from "../../../src/node/multipath-config.js";
import { parseMapJson } from "../../../src/node/multipath.js";
import { boundDeviceNode, parseFindmnt } from "../../../src/node/mount.js";
import { parseBlkidExport } from "../../../src/node/filesystem.js";
import { multipathWwid } from "../../../src/node/sysfs.js";
import { KeyedLocks } from "../../../src/node/locks.js";
import { VolumeBusyError } from "../../../src/node/errors.js";
import { parseTopology } from "../../../src/node/node-info.js";
import { nodeConfigFromEnv } from "../../../src/node/node-config.js";

// shape of `multipathd show config` (multipath-tools 0.9.4, Debian bookworm), trimmed
const SHOW_CONFIG = `defaults {
	verbosity 2
	polling_interval 5
	path_checker "tur"
	find_multipaths "greedy"
	no_path_retry "fail"
}
blacklist {
	device {
		vendor ".*"
		product ".*"
	}
}
devices {
	device {
		vendor "(LIO-ORG|SUSE)"
		product "."
		path_grouping_policy "group_by_prio"
		path_checker "directio"
		hardware_handler "1 alua"
		prio "alua"
		failback "immediate"
		no_path_retry 12
	}
	device {
		vendor "LIO-ORG"
		product "TCMU device"
		path_grouping_policy "failover"
		path_selector "round-robin 0"
		path_checker "directio"
		detect_checker "no"
		no_path_retry 12
	}
}
overrides {
}
`;

test("effective multipath settings for LIO-ORG TCMU: later device entries win, defaults fill in", () => {
  const eff = effectiveTcmuSettings(parseMultipathConfig(SHOW_CONFIG));
  assert.deepEqual(eff, { pathGroupingPolicy: "failover", pathChecker: "directio", detectChecker: "no", noPathRetry: "12", findMultipaths: "greedy" });
  assert.deepEqual(tcmuSettingProblems(eff), []);
});

test("multibus, tur and queue are each refused", () => {
  const bad = SHOW_CONFIG.replace('path_grouping_policy "failover"', "path_grouping_policy multibus")
    .replaceAll('path_checker "directio"', 'path_checker "tur"')
    .replace("overrides {\n}", 'overrides {\n\tno_path_retry "queue"\n}');
  const problems = tcmuSettingProblems(effectiveTcmuSettings(parseMultipathConfig(bad)));
  assert.equal(problems.length, 3);
  assert.match(problems.join(" "), /multibus.*tur.*queue/s);
});

test("directio with detect_checker left at its default (yes) is refused: multipathd would use tur on tcmu's ALUA paths", () => {
  const eff = effectiveTcmuSettings(parseMultipathConfig(SHOW_CONFIG.replace('\t\tdetect_checker "no"\n', "")));
  assert.equal(eff.detectChecker, "yes");
  const problems = tcmuSettingProblems(eff);
  assert.equal(problems.length, 1);
  assert.match(problems[0] ?? "", /detect_checker/);
});

test("no device entry: the defaults decide (tur is refused)", () => {
  const eff = effectiveTcmuSettings(parseMultipathConfig("defaults {\n path_checker tur\n}\n"));
  assert.equal(eff.pathChecker, "tur");
  assert.equal(tcmuSettingProblems(eff).length, 1);
});

test("multipathd show maps json: path states of one map", () => {
  const json = JSON.stringify({
    major_version: 0,
    minor_version: 1,
    maps: [
      { name: "other", uuid: "other", path_groups: [] },
      {
        name: "36001405abc",
        uuid: "36001405abc",
        features: "1 queue_if_no_path",
        path_groups: [
          { selector: "round-robin 0", paths: [{ dev: "sdb", dm_st: "active", chk_st: "ready", dev_st: "running" }] },
          { selector: "round-robin 0", paths: [{ dev: "sdc", dm_st: "failed", chk_st: "faulty", dev_st: "running" }] },
        ],
      },
    ],
  });
  const s = parseMapJson(json, "36001405abc");
  assert.deepEqual(
    s?.paths.map((p) => [p.dev, p.dmState, p.checkerState]),
    [
      ["sdb", "active", "ready"],
      ["sdc", "failed", "faulty"],
    ],
  );
  assert.equal(parseMapJson(json, "nope"), undefined);
  assert.equal(parseMapJson("not json", "x"), undefined);
});

test("findmnt -J -l and bind-mounted device nodes", () => {
  const out = parseFindmnt(
    JSON.stringify({
      filesystems: [
        { target: "/var/lib/kubelet/x/globalmount", source: "/dev/mapper/36001405abc", fstype: "xfs", options: "rw,relatime,attr2", "maj:min": "253:2" },
        { target: "/var/lib/kubelet/pods/p/dev", source: "udev[/dm-2]", fstype: "devtmpfs", options: "ro,nosuid", "maj:min": "0:5" },
      ],
    }),
  );
  assert.equal(out.length, 2);
  assert.deepEqual(out[0]?.options, ["rw", "relatime", "attr2"]);
  assert.equal(out[0]?.devNo, "253:2");
  assert.equal(boundDeviceNode(out[1]?.source ?? ""), "dm-2");
  assert.equal(boundDeviceNode("/dev/sda1"), undefined);
  assert.deepEqual(parseFindmnt(""), []);
});

test("blkid -o export", () => {
  assert.deepEqual(parseBlkidExport("DEVNAME=/dev/dm-2\nUUID=1234\nBLOCK_SIZE=512\nTYPE=xfs\n"), {
    DEVNAME: "/dev/dm-2",
    UUID: "1234",
    BLOCK_SIZE: "512",
    TYPE: "xfs",
  });
});

test("kernel wwid to multipath wwid", () => {
  assert.equal(multipathWwid("naa.6001405ABCDEF0123456789abcdef012\n"), "36001405abcdef0123456789abcdef012");
  assert.equal(multipathWwid("t10.ATA     disk"), "t10.ATA disk");
});

test("keyed locks: FIFO hand-over, a waiter past the limit gets VolumeBusyError", async () => {
  const locks = new KeyedLocks(30);
  const order: number[] = [];
  const r1 = await locks.acquire("v");
  const w2 = locks.acquire("v").then((rel) => {
    order.push(2);
    rel();
  });
  await new Promise((r) => setTimeout(r, 5));
  order.push(1);
  r1();
  await w2;
  assert.deepEqual(order, [1, 2]);
  assert.equal(locks.isHeld("v"), false);
  const held = await locks.acquire("v");
  await assert.rejects(locks.acquire("v"), VolumeBusyError);
  assert.equal(locks.tryAcquire("v"), undefined);
  held();
  assert.ok(locks.tryAcquire("v"));
});

test("node settings from the environment", () => {
  const c = nodeConfigFromEnv({ GBCSI_GC_MODE: "fix", GBCSI_GC_GRACE_SECONDS: "0", GBCSI_TOPOLOGY: "zone=a,rack=r1" });
  assert.equal(c.gcMode, "fix");
  assert.equal(c.gcGraceMs, 0);
  assert.equal(c.gcIntervalMs, 600_000);
  assert.deepEqual(c.topology, { zone: "a", rack: "r1" });
  assert.equal(nodeConfigFromEnv({}).gcMode, "dry-run");
  assert.throws(() => nodeConfigFromEnv({ GBCSI_GC_MODE: "yes" }), /GBCSI_GC_MODE/);
  assert.throws(() => parseTopology("zone"), /key=value/);
});

test("the call budget: 20 s by default, any number of seconds above 0 (csi-sanity's unhurried NodeStage wants more)", () => {
  assert.equal(nodeConfigFromEnv({}).callBudgetMs, 20_000);
  assert.equal(nodeConfigFromEnv({ GBCSI_CALL_BUDGET_SECONDS: "" }).callBudgetMs, 20_000);
  assert.equal(nodeConfigFromEnv({ GBCSI_CALL_BUDGET_SECONDS: "120" }).callBudgetMs, 120_000);
  assert.equal(nodeConfigFromEnv({ GBCSI_CALL_BUDGET_SECONDS: "2.5" }).callBudgetMs, 2_500);
  for (const bad of ["0", "-5", "20s", "soon"]) assert.throws(() => nodeConfigFromEnv({ GBCSI_CALL_BUDGET_SECONDS: bad }), /GBCSI_CALL_BUDGET_SECONDS/, bad);
});
