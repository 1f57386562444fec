// The three programs answer from inside the built image, as its user, through
// the links on its PATH: usage and version; the CLI's RPC to an absent
// gluster-blockd (grpc-js and the blockd descriptor inside the bundle); the
// controller serving CSI on its socket and stopping on SIGTERM; and the host
// tools each mode runs, with every command the chart starts.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { NODE_PROGRAMS } from "../../src/node/plugin.js";
import { renderChart } from "../helpers/helm.js";
import { openImage, type ImageContainer } from "../helpers/image-container.js";

let image: ImageContainer;
before(async () => {
  image = await openImage();
});
after(async () => image?.remove());

const USAGE = {
  "gluster-block-csi": /^usage: gluster-block-csi <controller\|node\|import> \[flags\]/,
  "gluster-blockd": /^usage: gluster-blockd --host <ip> \[flags\]/,
  "gluster-block": /^gluster-block \(\d+\.\d+\.\d+\)\nusage:/,
} as const;

for (const [program, usage] of Object.entries(USAGE)) {
  test(`${program} --help answers inside the image, through tini, from /usr/local/bin`, async () => {
    const r = await image.run(["/usr/bin/tini", "-s", "--", program, "--help"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, usage);
  });
}

test("gluster-block version prints the version the original prints", async () => {
  const r = await image.run(["gluster-block", "version"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^gluster-block \(0\.5\.1\)\nRepository rev: /);
});

test("the CLI reaches for gluster-blockd over gRPC and says when it is not there", async () => {
  const r = await image.run(["gluster-block", "list", "hv"], { env: { GB_CLI_SOCKET: "/tmp/no-blockd.sock" } });
  assert.equal(r.code, 255, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /failed to connect to gluster-blockd at .*no-blockd\.sock: is it running\?/);
});

test("the controller serves CSI on its unix socket and exits 0 on SIGTERM", async () => {
  const script = [
    "gluster-block-csi controller --endpoint unix:///tmp/csi.sock --kube-api off --blockd-endpoints 127.0.0.1:9 --blockd-insecure-no-auth >/tmp/ctl.log 2>&1 &",
    "pid=$!",
    'i=0; while [ ! -S /tmp/csi.sock ] && kill -0 "$pid" 2>/dev/null && [ "$i" -lt 600 ]; do sleep 0.1; i=$((i+1)); done',
    '[ -S /tmp/csi.sock ] && echo "socket=yes"',
    'kill -TERM "$pid"; wait "$pid"; echo "exit=$?"',
    "cat /tmp/ctl.log",
  ].join("\n");
  const r = await image.run(["sh", "-c", script]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^socket=yes$/m, r.stdout);
  assert.match(r.stdout, /^exit=0$/m, r.stdout);
  assert.match(r.stdout, /"message":"listening"/);
});

// the node plugin's own list (its readiness check), and what gluster-blockd runs: the FUSE mount helper, gluster, modprobe, fallocate
const TOOLS = [...NODE_PROGRAMS, "mount.glusterfs", "gluster", "modprobe", "fallocate", "tini", "node"];

test("the host tools each mode runs are on the image's PATH; the initiator name is not the image's", async () => {
  const r = await image.run(["sh", "-c", 'for t in "$@"; do command -v "$t" >/dev/null || echo "missing $t"; done', "sh", ...TOOLS]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "", r.stdout);
  assert.ok(!existsSync(join(image.root, "etc/iscsi/initiatorname.iscsi")), "the node pod mounts the host's /etc/iscsi");
  const iscsiadm = await image.run(["iscsiadm", "--version"]);
  assert.match(iscsiadm.stdout, /^iscsiadm version 2\.1\./, "open-iscsi 2.1.x, as the hosts' iscsid speaks");
  // every `gluster` command would start it (python) to see whether geo-replication exists: 9-14 s of each call in a TCG VM (Dockerfile)
  assert.ok(!existsSync(join(image.root, "usr/lib/x86_64-linux-gnu/glusterfs/gsyncd")), "no gsyncd: the gluster CLI starts no python");
  assert.ok(existsSync(join(image.root, "usr/sbin/gluster")), "the gluster CLI is where the test looks");
});

test("every command the chart starts in this image is tini, then a program on the image's PATH", async () => {
  const commands = renderChart().flatMap((o) =>
    ((o.spec as { template?: { spec: { containers: { image: string; command?: string[] }[] } } } | undefined)?.template?.spec.containers ?? [])
      .filter((c) => c.image.startsWith("gluster-block-csi:"))
      .map((c) => c.command ?? []),
  );
  assert.equal(commands.length, 3, JSON.stringify(commands));
  for (const [init, subreaper, dashes, program] of commands) {
    // -s: tini reaps as a subreaper where it is not PID 1 (the node pod shares the host's PIDs)
    assert.deepEqual([init, subreaper, dashes], ["/usr/bin/tini", "-s", "--"]);
    assert.ok(program);
    const r = await image.run(["sh", "-c", 'command -v "$1"', "sh", program]);
    assert.equal(r.stdout.trim(), `/usr/local/bin/${program}`);
  }
});
