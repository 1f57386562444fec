// The lab's kubelet stand-in for podman (lab/harness/chart-pod.ts): the
// chart's DaemonSets, rendered by the real helm with the lab's values, made
// into `podman run` command lines with nothing of the programs written by hand.
import { test } from "node:test";
import assert from "node:assert/strict";
import { expandVars, normalizeImage, podmanRun, type PodContext } from "../../lab/harness/chart-pod.js";
import { serveProbes } from "../../src/glusterblock/blockd/probe-endpoint.js";
import { parseHttpAddress } from "../../src/util/http-endpoint.js";
import { nullLogger } from "../../src/util/log.js";
import { exec, ExecError } from "../../src/util/exec.js";
import { argOf, BLOCKD_CONTAINER, blockdDaemonSet, containerPathOf, hostPathOf, NODE_CONTAINER, nodeDaemonSet } from "../../lab/harness/lab-chart.js";

const CTX: PodContext = {
  name: "gluster-blockd",
  nodeName: "n2",
  hostIP: "10.213.0.12",
  secretsRoot: "/var/lib/lab-pods/gluster-blockd",
  secrets: { "blockd-key": { key: "k\n" }, "blockd-tls": { "ca.crt": "C", "tls.crt": "T", "tls.key": "K" } },
};

test("expandVars: $(VAR) from the env, $$ a literal $, an unknown $(VAR) kept, as the kubelet expands", () => {
  const env = { HOST_IP: "10.0.0.1", A: "x" };
  assert.equal(expandVars("--host=$(HOST_IP)", env), "--host=10.0.0.1");
  assert.equal(expandVars("$$(HOST_IP) $(NOPE) $(A)$(A)", env), "$(HOST_IP) $(NOPE) xx");
  assert.equal(expandVars("plain $ sign", env), "plain $ sign");
});

test("normalizeImage: Docker's rules (library/, docker.io, a registry host with a dot, a port or localhost)", () => {
  assert.equal(normalizeImage("gluster-block-csi:0.1.0"), "docker.io/library/gluster-block-csi:0.1.0");
  assert.equal(normalizeImage("team/app:1"), "docker.io/team/app:1");
  assert.equal(normalizeImage("registry.k8s.io/sig-storage/csi-provisioner:v5.3.0"), "registry.k8s.io/sig-storage/csi-provisioner:v5.3.0");
  assert.equal(normalizeImage("localhost/x:1"), "localhost/x:1");
  assert.equal(normalizeImage("reg:5000/x:1"), "reg:5000/x:1");
});

test("blockd: host network, privileged as root, the chart's mounts and flags with $(HOST_IP) expanded, the Secrets as read-only files", () => {
  const r = podmanRun(blockdDaemonSet(), BLOCKD_CONTAINER, CTX);
  const a = r.args;
  assert.deepEqual(a.slice(0, 6), ["run", "--rm", "--replace", "--name=gluster-blockd", "--pull=never", "--log-driver=passthrough"]);
  for (const x of ["--network=host", "--privileged", "--user=0", "--env=HOST_IP=10.213.0.12"]) assert.ok(a.includes(x), `${x} in ${a.join(" ")}`);
  assert.ok(!a.includes("--pid=host"), "blockd's pod does not share the host's PIDs");
  assert.ok(a.includes("--volume=/sys/kernel/config:/sys/kernel/config"), a.join(" "));
  assert.ok(a.includes("--volume=/run:/host/run:rslave"), "HostToContainer is rslave");
  assert.ok(a.includes("--volume=/lib/modules:/lib/modules:ro"));
  assert.ok(a.includes("--volume=/var/lib/lab-pods/gluster-blockd/blockd-key:/etc/gluster-blockd-key:ro"));
  assert.ok(a.includes(`--entrypoint=["/usr/bin/tini","-s","--","gluster-blockd"]`));
  const image = a.indexOf("docker.io/library/gluster-block-csi:0.1.0");
  assert.ok(image > 0, "the chart's image, normalized");
  const args = a.slice(image + 1);
  assert.ok(args.includes("--host=10.213.0.12"), args.join(" "));
  assert.ok(args.includes("--volumes=block-test") && args.includes("--log-level=debug"), "the lab's values");
  assert.ok(args.includes("--glusterd-socket=/host/run/glusterd.socket"));
  assert.deepEqual(
    r.secrets.map((s) => [s.dir, s.mode, Object.keys(s.files).sort()]),
    [
      ["/var/lib/lab-pods/gluster-blockd/blockd-key", 0o400, ["key"]],
      ["/var/lib/lab-pods/gluster-blockd/blockd-tls", 0o400, ["ca.crt", "tls.crt", "tls.key"]],
    ],
  );
  assert.match(r.prepare, /\[ -d '\/sys\/kernel\/config' \]/, "type Directory is checked, not made");
});

test("blockd's readiness: the chart's /readyz probed at the host's IP, as the kubelet would; the condition holds on 200 only", async () => {
  const r = podmanRun(blockdDaemonSet(), BLOCKD_CONTAINER, { ...CTX, hostIP: "127.0.0.1" });
  assert.ok(
    r.args.some((a) => /^--probe-address=127\.0\.0\.1:\d+$/.test(a)),
    r.args.join(" "),
  );
  const port = Number(argOf(blockdDaemonSet(), BLOCKD_CONTAINER, "--probe-address").split(":").pop());
  assert.match(r.readiness ?? "", /\/dev\/tcp\/127\.0\.0\.1\//);
  // the condition, run for real against a probe endpoint on that port
  let reconciled = (): void => undefined;
  const probes = await serveProbes(parseHttpAddress("127.0.0.1:0"), new Promise<void>((res) => (reconciled = res)), nullLogger);
  const holds = async (): Promise<boolean> => {
    const cond = (r.readiness ?? "").replace(`/127.0.0.1/${port}`, `/127.0.0.1/${probes.port}`);
    return exec("sh", ["-c", cond], { timeoutMs: 10_000 }).then(
      () => true,
      (err: unknown) => {
        if (err instanceof ExecError) return false;
        throw err;
      },
    );
  };
  try {
    assert.equal(await holds(), false, "503 while reconciling");
    reconciled();
    await new Promise((res) => setImmediate(res));
    assert.equal(await holds(), true, "200 once reconciled");
  } finally {
    await probes.close();
  }
  assert.equal(await holds(), false, "nothing listening");
});

test("blockd without the files of a Secret volume is refused", () => {
  assert.throws(() => podmanRun(blockdDaemonSet(), BLOCKD_CONTAINER, { ...CTX, secrets: {} }), /Secret volume blockd-key .*no files/);
});

test("node plugin: host network and PIDs, the kubelet dir rshared, DirectoryOrCreate made, node name from spec.nodeName, env overrides", () => {
  const r = podmanRun(nodeDaemonSet(), NODE_CONTAINER, {
    name: "gbcsi-node",
    nodeName: "n1",
    hostIP: "10.213.0.11",
    secretsRoot: "/x",
    extraEnv: { GBCSI_GC_MODE: "off" },
  });
  const a = r.args;
  for (const x of ["--network=host", "--pid=host", "--privileged", "--env=NODE_NAME=n1", "--env=GBCSI_HEAL_INTERVAL_SECONDS=30", "--env=GBCSI_GC_MODE=off"])
    assert.ok(a.includes(x), `${x} in ${a.join(" ")}`);
  assert.ok(!a.includes("--env=GBCSI_GC_MODE=dry-run"), "the override replaces the chart's value");
  assert.ok(a.includes("--volume=/var/lib/kubelet:/var/lib/kubelet:rshared"), "Bidirectional is rshared");
  assert.ok(a.includes("--volume=/etc/iscsi:/etc/iscsi") && a.includes("--volume=/var/lib/iscsi:/var/lib/iscsi"));
  assert.ok(a.includes("--node-id=n1"), "$(NODE_NAME) expanded");
  assert.match(r.prepare, /mkdir -p '\/var\/lib\/gluster-block-csi'/);
  assert.match(r.prepare, /\[ -e '\/etc\/multipath.conf' \] \|\| : > '\/etc\/multipath.conf'/, "FileOrCreate");
  assert.deepEqual(r.secrets, []);
});

test("paths between a container and its node, through the chart's hostPath mounts", () => {
  const socket = argOf(nodeDaemonSet(), NODE_CONTAINER, "--endpoint").replace(/^unix:\/\//, "");
  assert.equal(hostPathOf(nodeDaemonSet(), NODE_CONTAINER, socket), "/var/lib/kubelet/plugins/block.csi.gluster.org/csi.sock");
  assert.equal(containerPathOf(blockdDaemonSet(), BLOCKD_CONTAINER, "/run/gluster-blockd-test-crash"), "/host/run/gluster-blockd-test-crash");
  assert.throws(() => hostPathOf(nodeDaemonSet(), NODE_CONTAINER, "/tmp/x"), /on no hostPath volume/);
});
