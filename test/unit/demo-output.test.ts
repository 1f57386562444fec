// npm run demo's pure parts: the CHAP password never reaches its output
// (masked by shape, scrubbed by value), the PV-style block, the step log and
// summary, the flags, the CLI field reader, and the initiator scripts that
// must not carry the password on a command line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { HIDDEN, maskPasswordLines, Scrubber } from "../../demo/secrets.js";
import { attributeLines, describePv, quantity, type PvView } from "../../demo/pv-describe.js";
import { indent, shortName, stepLine, StepLog, summaryTable } from "../../demo/step-log.js";
import { parseDemoFlags } from "../../demo/flags.js";
import { cliField, oneLine } from "../../demo/cli-output.js";
import { detachScript, loginScript, sweepScript } from "../../demo/initiator.js";
import { toVolumeContext } from "../../src/csi/volume-context.js";
import { iqnFor, wwidFor } from "../../src/identity/names.js";
import { gbidFor } from "../doubles/names.js";
import { processSecrets } from "../../src/util/secrets.js";

const PASSWORD = "9b1f3c2e-7d4a-4e5b-8c6d-0a1b2c3d4e5f";
const GBID = gbidFor("block-test", "sample-block");
const CREATE_OUT = `IQN: ${iqnFor(GBID)}\nUSERNAME: ${GBID}\nPASSWORD: ${PASSWORD}\nPORTAL(S):  10.213.0.11:3260 10.213.0.12:3260 10.213.0.13:3260\nRESULT: SUCCESS\n`;
const INFO_OUT = `NAME: sample-block\nVOLUME: block-test\nGBID: ${GBID}\nSIZE: 1.0 GiB\nHA: 3\nIOTIMEOUT: 43 Seconds\nPASSWORD: ${PASSWORD}\nEXPORTED ON: 10.213.0.11 10.213.0.12 10.213.0.13\n`;

test("maskPasswordLines hides the value of the create and info PASSWORD lines, and only it", () => {
  for (const out of [CREATE_OUT, INFO_OUT]) {
    const masked = maskPasswordLines(out);
    assert.ok(!masked.includes(PASSWORD));
    assert.match(masked, /^PASSWORD: \*{8} \(hidden\)$/m);
    assert.equal(masked.replace(/^PASSWORD: .*$/m, ""), out.replace(/^PASSWORD: .*$/m, ""), "the other lines unchanged");
  }
  assert.equal(maskPasswordLines("         | PASSWORD: x"), `         | PASSWORD: ${HIDDEN}`, "indented output too");
  assert.equal(maskPasswordLines("PASSWORD: \nHA: 3"), "PASSWORD: \nHA: 3", "an empty password (auth disabled) stays empty");
});

test("Scrubber removes a known password wherever it appears, not only on PASSWORD lines", () => {
  const s = new Scrubber(false);
  s.hide(PASSWORD);
  s.hide("");
  const text = `n1: iscsiadm ... -v ${PASSWORD}: exit 24\n{"password":"${PASSWORD}"}\n${CREATE_OUT}`;
  const clean = s.clean(text);
  assert.ok(!clean.includes(PASSWORD), clean);
  assert.match(clean, /^USERNAME: /m, "the username stays: it is the GBID, not a secret");
});

test("Scrubber also hides the secrets the process registered in src/util/secrets", () => {
  const secret = "controller-made-chap-password-5a6b7c";
  processSecrets.add(secret);
  try {
    assert.ok(!new Scrubber().clean(`stage failed: ${secret}`).includes(secret));
    assert.ok(new Scrubber(false).clean(`x ${secret}`).includes(secret), "without the registry only its own");
  } finally {
    processSecrets.delete(secret);
  }
});

test("StepLog: every line it writes goes through the scrubber, a failing step included", async () => {
  const written: string[] = [];
  const s = new Scrubber(false);
  let now = 0;
  const log = new StepLog(
    s,
    (t) => written.push(t),
    () => now,
  );
  s.hide(PASSWORD);
  log.block(CREATE_OUT);
  log.say(`a detail naming ${PASSWORD}`);
  await assert.rejects(
    log.step("login", () => {
      now += 2_500;
      return Promise.reject(new Error(`iscsiadm -v ${PASSWORD}: exit 24\nmore`));
    }),
  );
  const all = written.join("");
  assert.ok(!all.includes(PASSWORD), all);
  assert.match(all, /^\[ {2}2\.5s\] login \.\.\. FAILED: iscsiadm -v \*\*\*: exit 24$/m, "one line, the first of the message");
  assert.deepEqual(log.steps, [{ name: "login", seconds: 2.5, ok: false }]);
});

test("StepLog times steps with its clock; the summary lists them and the wall total", async () => {
  const written: string[] = [];
  let now = 1_000;
  const log = new StepLog(
    new Scrubber(false),
    (t) => written.push(t),
    () => now,
  );
  const r = await log.step(
    "CreateVolume",
    () => {
      now += 3_210;
      return Promise.resolve(42);
    },
    (v) => `got ${v}`,
  );
  assert.equal(r, 42);
  log.record("NodeStageVolume", 12.34, true, "staged");
  now += 20_000;
  assert.deepEqual(written, ["[  3.2s] CreateVolume ... got 42\n", "[ 12.3s] NodeStageVolume ... staged\n"]);
  assert.equal(log.elapsedSeconds(), 23.21);
  assert.equal(
    log.summary(),
    [
      "  step                 time",
      "  ---------------  --------",
      "  CreateVolume         3.2s",
      "  NodeStageVolume     12.3s",
      "  ---------------  --------",
      "  total (wall)        23.2s",
    ].join("\n"),
  );
});

test("stepLine, indent and summaryTable formats", () => {
  assert.equal(stepLine("mount", 0.04, ""), "[  0.0s] mount");
  assert.equal(stepLine("boot", 612.3, "booted"), "[612.3s] boot ... booted");
  assert.equal(indent("a\n\nb  \n\n"), "         | a\n         |\n         | b");
  assert.match(summaryTable([{ name: "x", seconds: 1, ok: false }], 2), /^ {2}x {17}1\.0s {2}FAILED$/m);
  assert.equal(shortName("gluster-block create block-test/sample-block ha 3", 24), "gluster-block create...");
  assert.match(summaryTable([{ name: "a".repeat(100), seconds: 1, ok: true }], 1, 20), /^ {2}a{17}\.\.\. {6}1\.0s$/m, "long names cut");
});

const pv = (attributes: Record<string, string>): PvView => ({
  name: "pvc-1",
  driver: "block.csi.gluster.org",
  storageClass: "gluster-block",
  claim: "demo/data",
  reclaimPolicy: "Delete",
  accessModes: "RWO",
  volumeMode: "Filesystem",
  capacityBytes: "1073741824",
  fsType: "xfs",
  volumeHandle: "v1/block-test/pvc-1",
  readOnly: false,
  attributes,
});

test("describePv shows what kubectl describe pv would, volume attributes sorted", () => {
  const gbid = gbidFor("block-test", "pvc-1");
  const ctx = toVolumeContext({
    iqn: iqnFor(gbid),
    portals: ["10.213.0.12:3260", "10.213.0.11:3260", "10.213.0.13:3260"],
    lun: 0,
    hostingVolume: "block-test",
    gbid,
    ha: 3,
    wwid: wwidFor(gbid),
    fsType: "xfs",
    auth: true,
  });
  const text = describePv(pv(ctx));
  const lines = text.split("\n");
  assert.equal(lines[0], "Name:            pvc-1");
  assert.ok(lines.includes("Capacity:        1Gi"));
  assert.ok(lines.includes("    Driver:            block.csi.gluster.org"));
  assert.ok(lines.includes("    FSType:            xfs"));
  assert.ok(lines.includes("    VolumeHandle:      v1/block-test/pvc-1"));
  const first = lines.findIndex((l) => l.startsWith("    VolumeAttributes:"));
  assert.equal(lines[first], "    VolumeAttributes:      auth=true");
  const attrs = lines.slice(first, first + 9).map((l) => l.slice(27));
  assert.deepEqual(attrs, [
    "auth=true",
    "fsType=xfs",
    `gbid=${gbid}`,
    "haCount=3",
    "hostingVolume=block-test",
    `iqn=${iqnFor(gbid)}`,
    "lun=0",
    "portals=10.213.0.12:3260,10.213.0.11:3260,10.213.0.13:3260",
    `wwid=${wwidFor(gbid)}`,
  ]);
  assert.equal(lines[first + 9], "Events:          <none>");
});

test("describePv masks a secret-named attribute, should one ever appear", () => {
  const text = describePv(pv({ iqn: "x", chapPassword: PASSWORD }));
  assert.ok(!text.includes(PASSWORD));
  assert.deepEqual(attributeLines({ b: "2", a: "1", password: "p" }), ["a=1", "b=2", `password=${HIDDEN}`]);
  assert.match(describePv(pv({})), /^ {4}VolumeAttributes: {6}<none>$/m);
});

test("quantity prints sizes as Kubernetes does", () => {
  assert.equal(quantity(1024 ** 3), "1Gi");
  assert.equal(quantity("536870912"), "512Mi");
  assert.equal(quantity(3 * 1024 ** 4), "3Ti");
  assert.equal(quantity(1500), "1500");
  assert.equal(quantity(0), "0");
  assert.throws(() => quantity(-1), /negative/);
});

test("parseDemoFlags: --down, --keep, --cleanup, --help; contradictions and unknown flags refused", () => {
  assert.deepEqual(parseDemoFlags([]), { down: false, keep: false, cleanup: false, help: false });
  assert.deepEqual(parseDemoFlags(["--down"]), { down: true, keep: false, cleanup: false, help: false });
  assert.equal(parseDemoFlags(["--keep"]).keep, true);
  assert.equal(parseDemoFlags(["-h"]).help, true);
  assert.equal(parseDemoFlags(["--cleanup", "--down"]).cleanup, true);
  assert.throws(() => parseDemoFlags(["--keep", "--down"]), /--keep .* --down/);
  assert.throws(() => parseDemoFlags(["--keep", "--cleanup"]), /--cleanup/);
  assert.throws(() => parseDemoFlags(["--fast"]), /unknown argument "--fast"[\s\S]*usage: npm run demo/);
});

test("cliField and oneLine read the CLI's KEY: value output", () => {
  assert.equal(cliField(CREATE_OUT, "USERNAME"), GBID);
  assert.equal(cliField(CREATE_OUT, "PORTAL(S)"), "10.213.0.11:3260 10.213.0.12:3260 10.213.0.13:3260");
  assert.equal(cliField("PASSWORD: \n", "PASSWORD"), "");
  assert.equal(cliField(CREATE_OUT, "GBID"), undefined);
  assert.equal(oneLine("a\n\n b \n"), "a; b");
  assert.equal(oneLine("\n", "none"), "none");
});

test("the login script takes the password on stdin: no command line carries it", () => {
  const t = { iqn: iqnFor(GBID), wwid: wwidFor(GBID), portals: ["10.213.0.11:3260", "10.213.0.12:3260"] };
  const script = loginScript(t, GBID);
  assert.match(script, /^IFS= read -r pw$/m);
  assert.equal(script.match(/node\.session\.auth\.password -v "\$pw"$/gm)?.length, 2);
  assert.equal(script.match(/--login/g)?.length, 2);
  assert.ok(!script.includes(PASSWORD));
});

test("the sweep touches only its own target and mounts", () => {
  const other = iqnFor(gbidFor("block-test", "someone-else"));
  const t = { iqn: iqnFor(GBID), wwid: wwidFor(GBID) };
  const script = sweepScript({ ...t, mounts: ["/mnt/sample-block"], recordFile: "/var/lib/gluster-block-csi/volumes/x.json" });
  assert.ok(!script.includes(other));
  assert.doesNotMatch(script, /logoutall|-o delete\s*$|multipath -F/m, "nothing host-wide");
  assert.ok(script.startsWith("if mountpoint -q '/mnt/sample-block'"), "mounts first");
  assert.ok(script.indexOf("multipath -f") < script.indexOf("--logout"), "the map goes before its paths");
  assert.ok(detachScript(t).includes(`iscsiadm -m node -T '${t.iqn}' --logout`));
});
