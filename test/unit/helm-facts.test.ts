// What breaks CSI drivers in the field, read from the rendered chart: the
// socket path kubelet and node-driver-registrar agree on, Bidirectional
// propagation on the kubelet dir, a privileged node plugin, the CHAP secret
// templating, blockd on the host network at its port, and RBAC covering the
// Kubernetes calls the controller's code makes; one TLS Secret per role
// (blockd's peer certificate in blockd, the controller's client certificate
// in the controller, of one CA) with each program's flags at its files, and
// each generated certificate accepted by the very start-up checks its
// program runs, in its role.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CHART_DIR, helm, renderChart, findObject, type K8sObject } from "../helpers/helm.js";
import { captureLog } from "../../lab/harness/log-capture.js";
import { loadBlockdTls, certificateRoles, BLOCKD_TLS_FLAGS } from "../../src/rpc/tls.js";
import { CONTROLLER_FLAGS, CONTROLLER_TLS_FLAGS } from "../../src/controller/config.js";
import { ROOT } from "../helpers/spawn-program.js";
import { NODE_DEFAULTS } from "../../src/node/node-config.js";
import { nodeConfigFromEnv } from "../../src/node/node-config.js";
import { BLOCKD_PORT } from "../../src/rpc/blockd-port.js";
import { CHAP_SECRET_PREFIX } from "../../src/controller/chap-secrets.js";
import { DEFAULT_DRIVER_NAME } from "../../src/csi/identity-server.js";
import { zoneKey } from "../../src/csi/topology.js";
import { parseFlags } from "../../src/util/flags.js";
import { controllerConfig } from "../../src/controller/config.js";

interface Mount {
  name: string;
  mountPath: string;
  mountPropagation?: string;
  readOnly?: boolean;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}
interface Container {
  name: string;
  args?: string[];
  env?: EnvVar[];
  command?: string[];
  securityContext?: { privileged?: boolean; runAsNonRoot?: boolean };
  volumeMounts?: Mount[];
  ports?: { name?: string; containerPort: number }[];
}
interface PodSpec {
  containers: Container[];
  volumes: { name: string; hostPath?: { path: string }; secret?: { secretName: string; defaultMode?: number } }[];
  hostNetwork?: boolean;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  serviceAccountName?: string;
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const pod = (o: K8sObject): PodSpec => (o.spec as { template: { spec: PodSpec } }).template.spec;
const container = (p: PodSpec, name: string): Container => {
  const c = p.containers.find((x) => x.name === name);
  assert.ok(c, `no container ${name}`);
  return c;
};
const arg = (c: Container, flag: string): string | undefined => c.args?.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
const hostPathOf = (p: PodSpec, m: Mount): string | undefined => p.volumes.find((v) => v.name === m.name)?.hostPath?.path;
const mountAt = (c: Container, path: string): Mount | undefined => c.volumeMounts?.find((m) => m.mountPath === path);

/** The Secret and its key that a flag's file comes from: the mount holding the path, that mount's Secret volume, the file's name. */
function secretFileOf(p: PodSpec, c: Container, flag: string): { secret: string; key: string; mount: Mount; defaultMode?: number } | undefined {
  const file = arg(c, flag);
  if (file === undefined) return undefined;
  const m = c.volumeMounts?.find((x) => file.startsWith(`${x.mountPath}/`));
  const v = p.volumes.find((x) => x.name === m?.name)?.secret;
  if (!m || !v) return undefined;
  return { secret: v.secretName, key: file.slice(m.mountPath.length + 1), mount: m, ...(v.defaultMode !== undefined ? { defaultMode: v.defaultMode } : {}) };
}

const TLS_FILES = { cert: "tls.crt", key: "tls.key", ca: "ca.crt" } as const;

/** Each TLS flag of a container resolves to one key of one Secret volume, mounted read-only. */
function tlsSecretOf(p: PodSpec, c: Container, flags: Record<keyof typeof TLS_FILES, string>): string {
  const secrets = new Set<string>();
  for (const [which, flag] of Object.entries(flags) as [keyof typeof TLS_FILES, string][]) {
    const f = secretFileOf(p, c, `--${flag}`);
    assert.ok(f, `${c.name}: --${flag} is not a file of a mounted Secret (${arg(c, `--${flag}`)})`);
    assert.equal(f.key, TLS_FILES[which], `${c.name}: --${flag} names the Secret's ${TLS_FILES[which]}`);
    assert.equal(f.mount.readOnly, true, `${c.name}: the TLS Secret is mounted read-only`);
    secrets.add(f.secret);
  }
  assert.equal(secrets.size, 1, `${c.name}: the three TLS files come from one Secret`);
  return [...secrets][0] ?? "";
}

for (const [label, opts, kubelet, driver, callBudgetSeconds] of [
  ["defaults", {}, "/var/lib/kubelet", DEFAULT_DRIVER_NAME, 20],
  ["every option", { values: [join(ROOT, "test/fixtures/helm/all-options.yaml")] }, "/var/lib/k0s/kubelet", "block2.csi.example.org", 15],
] as const) {
  describe(`rendered with ${label}`, () => {
    const objs = renderChart(opts);
    const node = pod(findObject(objs, "DaemonSet", "-node"));
    const plugin = container(node, "gluster-block-csi");
    const registrar = container(node, "node-driver-registrar");

    test("node-driver-registrar tells the kubelet the host path of the very socket the plugin serves", () => {
      const endpoint = arg(plugin, "--endpoint");
      assert.equal(endpoint, "unix:///csi/csi.sock");
      const sockInPlugin = endpoint.replace("unix://", "");
      // the registrar's --csi-address is the same file, through the same volume
      assert.equal(arg(registrar, "--csi-address"), sockInPlugin);
      const pluginMount = plugin.volumeMounts?.find((m) => sockInPlugin.startsWith(`${m.mountPath}/`));
      const registrarMount = registrar.volumeMounts?.find((m) => sockInPlugin.startsWith(`${m.mountPath}/`));
      assert.ok(pluginMount && registrarMount);
      assert.equal(pluginMount.name, registrarMount.name);
      assert.equal(pluginMount.mountPath, registrarMount.mountPath);
      // that volume is the kubelet's plugin dir for this driver on the host
      const hostDir = hostPathOf(node, pluginMount);
      assert.equal(hostDir, `${kubelet}/plugins/${driver}`);
      assert.equal(arg(registrar, "--kubelet-registration-path"), `${hostDir}${sockInPlugin.slice(pluginMount.mountPath.length)}`);
      // and the registrar writes its registration socket where the kubelet looks
      const reg = mountAt(registrar, "/registration");
      assert.ok(reg);
      assert.equal(hostPathOf(node, reg), `${kubelet}/plugins_registry`);
      assert.equal(arg(plugin, "--driver-name"), driver);
    });

    test("the kubelet dir is mounted at its host path with Bidirectional propagation, in a privileged container", () => {
      const m = mountAt(plugin, kubelet);
      assert.ok(m, `no mount at ${kubelet}`);
      assert.equal(m.mountPropagation, "Bidirectional");
      assert.equal(hostPathOf(node, m), kubelet);
      assert.equal(plugin.securityContext?.privileged, true, "Bidirectional propagation needs a privileged container");
      assert.equal(node.hostNetwork, true, "iscsiadm/multipath reach the host's iscsid/multipathd by abstract sockets");
    });

    test("the node plugin's environment is one the program accepts, with node.callBudgetSeconds as its call budget", () => {
      const env = Object.fromEntries((plugin.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
      assert.equal(env.GBCSI_CALL_BUDGET_SECONDS, String(callBudgetSeconds));
      assert.equal(nodeConfigFromEnv(env).callBudgetMs, callBudgetSeconds * 1000);
    });

    test("the node plugin sees the host's devices, sysfs, udev, iSCSI database and its own state dir", () => {
      const stateDir = arg(plugin, "--state-dir") ?? NODE_DEFAULTS.stateDir;
      for (const path of ["/dev", "/sys", "/run/udev", "/etc/iscsi", "/var/lib/iscsi", "/etc/multipath", "/lib/modules", "/run/lock", stateDir]) {
        const m = mountAt(plugin, path);
        assert.ok(m, `no mount at ${path}`);
        assert.equal(hostPathOf(node, m), path, `${path} must be the host's`);
        assert.ok(!stateDir.startsWith(`${kubelet}/`), "the state dir must be outside the kubelet's dirs");
      }
    });

    test("the StorageClass templates the CHAP Secret the controller makes, in the release namespace", () => {
      const all = renderChart({
        ...opts,
        set: ["storageClass.create=true", "storageClass.hostingVolume=hv", "storageClass.auth=true"],
        namespace: "storage-ns",
      });
      const sc = findObject(all, "StorageClass", "");
      const params = sc.parameters as Record<string, string>;
      assert.equal(params["csi.storage.k8s.io/node-stage-secret-name"], `${CHAP_SECRET_PREFIX}\${pv.name}`);
      assert.equal(params["csi.storage.k8s.io/node-stage-secret-namespace"], "storage-ns");
      assert.equal(sc.provisioner, driver);
      const ctrl = container(pod(findObject(all, "Deployment", "-controller")), "gluster-block-csi");
      assert.equal(arg(ctrl, "--namespace"), "storage-ns", "the controller writes its Secrets where the StorageClass points");
      const prov = container(pod(findObject(all, "Deployment", "-controller")), "csi-provisioner");
      assert.ok(prov.args?.includes("--extra-create-metadata"), "the controller names Secrets and Events from the PV/PVC metadata");
      const noAuth = findObject(
        renderChart({ ...opts, set: ["storageClass.create=true", "storageClass.hostingVolume=hv", "storageClass.auth=false"] }),
        "StorageClass",
        "",
      );
      assert.equal((noAuth.parameters as Record<string, string>)["csi.storage.k8s.io/node-stage-secret-name"], undefined);
    });

    test("gluster-blockd runs on the host network, privileged, at the port the controller dials, with the shared key", () => {
      const ds = pod(findObject(objs, "DaemonSet", "-blockd"));
      assert.equal(ds.hostNetwork, true);
      const blockd = container(ds, "gluster-blockd");
      assert.equal(blockd.securityContext?.privileged, true);
      const port = Number(arg(blockd, "--listen")?.split(":").pop());
      assert.ok(blockd.ports?.some((p) => p.name === "blockd" && p.containerPort === port));
      const ctrlPod = pod(findObject(objs, "Deployment", "-controller"));
      const ctrl = container(ctrlPod, "gluster-block-csi");
      const endpoints = arg(ctrl, "--blockd-endpoints");
      if (endpoints === undefined) {
        assert.equal(Number(arg(ctrl, "--blockd-port") ?? BLOCKD_PORT), port);
        assert.match(arg(ctrl, "--blockd-selector") ?? "", /app\.kubernetes\.io\/name=gluster-blockd/);
      } else assert.ok(endpoints.split(",").every((e) => e.endsWith(`:${port}`)));
      for (const m of ["/sys/kernel/config", "/dev", "/lib/modules"]) assert.ok(mountAt(blockd, m), `blockd needs ${m}`);
      // the same Secret on both ends
      const keyVolume = (p: PodSpec, c: Container, flag: string): string | undefined => {
        const file = arg(c, flag) ?? "";
        const m = c.volumeMounts?.find((x) => file.startsWith(`${x.mountPath}/`));
        return p.volumes.find((v) => v.name === m?.name)?.secret?.secretName;
      };
      const secret = keyVolume(ds, blockd, "--key-file");
      assert.ok(secret);
      assert.equal(keyVolume(ctrlPod, ctrl, "--blockd-key-file"), secret);
      assert.ok(objs.some((o) => o.kind === "Secret" && o.metadata.name === secret));
    });

    test("blockd mounts its peer certificate and the controller its own client certificate: two Secrets, neither mounted by the other", () => {
      const ds = pod(findObject(objs, "DaemonSet", "-blockd"));
      const blockd = container(ds, "gluster-blockd");
      const ctrlPod = pod(findObject(objs, "Deployment", "-controller"));
      const ctrl = container(ctrlPod, "gluster-block-csi");
      const peerSecret = tlsSecretOf(ds, blockd, BLOCKD_TLS_FLAGS);
      const ctrlSecret = tlsSecretOf(ctrlPod, ctrl, CONTROLLER_TLS_FLAGS);
      assert.notEqual(ctrlSecret, peerSecret, "one identity per role: the controller does not hold blockd's certificate");
      const secretsOf = (p: PodSpec): string[] => p.volumes.flatMap((v) => (v.secret ? [v.secret.secretName] : []));
      assert.ok(!secretsOf(ctrlPod).includes(peerSecret), "blockd's peer key is not in the controller's pod");
      assert.ok(!secretsOf(ds).includes(ctrlSecret), "the controller's key is not in blockd's pods");
      for (const name of [peerSecret, ctrlSecret]) {
        const tls = objs.find((o) => o.kind === "Secret" && o.metadata.name === name);
        assert.ok(tls, `the TLS Secret ${name} is rendered`);
        assert.equal(tls.type, "kubernetes.io/tls");
        assert.deepEqual(Object.keys(tls.data as object).sort(), Object.values(TLS_FILES).sort());
        assert.equal(tls.metadata.annotations?.["helm.sh/resource-policy"], "keep");
      }
      // the controller runs as non-root: its copy must be group-readable (fsGroup); blockd's is root's alone
      assert.equal(secretFileOf(ctrlPod, ctrl, "--blockd-tls-key")?.defaultMode, 0o440);
      assert.equal(secretFileOf(ds, blockd, "--tls-key")?.defaultMode, 0o400);
      // a new CA or certificate restarts both, or they would keep the old one
      for (const p of [findObject(objs, "DaemonSet", "-blockd"), findObject(objs, "Deployment", "-controller")]) {
        const annotations = (p.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata.annotations;
        assert.match(annotations?.["checksum/blockd-tls"] ?? "", /^[0-9a-f]{64}$/);
      }
    });

    test("the generated certificates: two distinct ones of one CA, each passing its program's start-up checks in its role, and the controller's no peer", async () => {
      const ds = pod(findObject(objs, "DaemonSet", "-blockd"));
      const ctrlPod = pod(findObject(objs, "Deployment", "-controller"));
      const dataOf = (name: string): Record<string, string> =>
        objs.find((o) => o.kind === "Secret" && o.metadata.name === name)?.data as Record<string, string>;
      const peer = dataOf(tlsSecretOf(ds, container(ds, "gluster-blockd"), BLOCKD_TLS_FLAGS));
      const ctrl = dataOf(tlsSecretOf(ctrlPod, container(ctrlPod, "gluster-block-csi"), CONTROLLER_TLS_FLAGS));
      const pem = (b64: string | undefined): string => Buffer.from(b64 ?? "", "base64").toString("utf8");
      assert.equal(peer["ca.crt"], ctrl["ca.crt"], "one CA: each end trusts the other's certificate");
      const peerCert = new X509Certificate(pem(peer["tls.crt"]));
      const ctrlCert = new X509Certificate(pem(ctrl["tls.crt"]));
      assert.notEqual(peerCert.fingerprint256, ctrlCert.fingerprint256);
      assert.notEqual(peer["tls.key"], ctrl["tls.key"]);
      assert.deepEqual(certificateRoles(peerCert), ["peer"]);
      assert.deepEqual(
        certificateRoles(ctrlCert),
        ["controller"],
        "the controller's certificate is no peer: blockd refuses it the peer RPCs, and no client takes it for a blockd",
      );
      const ca = new X509Certificate(pem(peer["ca.crt"]));
      for (const c of [peerCert, ctrlCert]) assert.ok(c.checkIssued(ca) && c.verify(ca.publicKey), `${c.subject} is signed by the CA`);
      const dir = await mkdtemp(join(tmpdir(), "gb-chart-tls-"));
      try {
        const write = async (role: string, data: Record<string, string>) => {
          const files = { cert: join(dir, `${role}.crt`), key: join(dir, `${role}.key`), ca: join(dir, `${role}-ca.crt`) };
          for (const [k, file] of Object.entries(files))
            await writeFile(file, Buffer.from(data[TLS_FILES[k as keyof typeof TLS_FILES]] ?? "", "base64"), { mode: 0o600 });
          return files;
        };
        const peerFiles = await write("peer", peer);
        const ctrlFiles = await write("controller", ctrl);
        const log = captureLog("warn");
        // blockd: DNS:gluster-blockd, serverAuth and clientAuth, the key of the certificate
        const served = await loadBlockdTls(peerFiles, { flags: BLOCKD_TLS_FLAGS, role: "peer", log: log.log });
        // the controller: DNS:gluster-block-csi-controller, and not a peer's
        await loadBlockdTls(ctrlFiles, { flags: CONTROLLER_TLS_FLAGS, role: "controller", log: log.log });
        await assert.rejects(
          loadBlockdTls(peerFiles, { flags: CONTROLLER_TLS_FLAGS, role: "controller", log: log.log }),
          /this is a blockd peer certificate/,
          "the controller would refuse blockd's",
        );
        assert.equal(log.lines.length, 0, `no warning (in date, signed by the CA): ${log.text()}`);
        const days = label === "defaults" ? 3650 : 365;
        assert.ok(Math.abs(served.validTo.getTime() - Date.now() - days * 86_400_000) < 2 * 86_400_000, `valid for blockd.tls.validityDays (${days})`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    test("the controller's volume health check runs at the values' interval, with the flag the program reads", () => {
      const c = container(pod(findObject(objs, "Deployment", "-controller")), "gluster-block-csi");
      assert.equal(arg(c, "--health-interval"), label === "defaults" ? "60" : "120");
      assert.ok("health-interval" in CONTROLLER_FLAGS);
    });

    test("the controller runs as non-root", () => {
      const p = pod(findObject(objs, "Deployment", "-controller"));
      assert.equal(p.securityContext?.runAsNonRoot, true);
      assert.notEqual(p.securityContext?.runAsUser, 0);
    });

    test("RBAC covers every Kubernetes call in the controller's code, and the node plugin has none", () => {
      const sa = pod(findObject(objs, "Deployment", "-controller")).serviceAccountName;
      const bound = (kind: "Role" | "ClusterRole"): Rule[] =>
        objs
          .filter((o) => o.kind === `${kind}Binding` && (o.subjects as { name: string }[]).some((s) => s.name === sa))
          .flatMap((b) => objs.filter((r) => r.kind === kind && r.metadata.name === (b.roleRef as { name: string }).name))
          .flatMap((r) => r.rules as Rule[]);
      const allows = (rules: Rule[], group: string, resource: string, verb: string): boolean =>
        rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
      // the calls as written in src/controller/kube-api.ts: this.core.createNamespacedSecret(...), this.storage.listCSINode()
      const src = readFileSync(join(ROOT, "src/controller/kube-api.ts"), "utf8");
      const calls = [...src.matchAll(/this\.(core|storage)\.(create|read|replace|list|delete|patch)(Namespaced)?([A-Z]\w*?)(?:ForAllNamespaces)?\(/g)];
      assert.ok(calls.length >= 8, `found only ${calls.length} API calls in kube-api.ts`);
      const VERB: Record<string, string> = { create: "create", read: "get", replace: "update", list: "list", delete: "delete", patch: "patch" };
      const RESOURCE: Record<string, string> = {
        Secret: "secrets",
        Pod: "pods",
        Event: "events",
        StorageClass: "storageclasses",
        CSINode: "csinodes",
        Node: "nodes",
        PersistentVolume: "persistentvolumes",
        PersistentVolumeClaim: "persistentvolumeclaims",
      };
      for (const [, api, op, namespaced, kind] of calls) {
        const resource = RESOURCE[kind ?? ""];
        assert.ok(resource, `no RBAC mapping for ${kind}: add it here and to the chart`);
        const group = api === "storage" ? "storage.k8s.io" : "";
        const verb = VERB[op ?? ""] ?? "";
        // Secrets and Pods live in the driver's namespace (a Role); Events go to claims anywhere (ClusterRole)
        const ok =
          namespaced && resource !== "events"
            ? allows(bound("Role"), group, resource, verb) || allows(bound("ClusterRole"), group, resource, verb)
            : allows(bound("ClusterRole"), group, resource, verb);
        assert.ok(ok, `the controller calls ${op} ${resource} but RBAC does not grant it`);
      }
      // one Event per claim and reason: read, created once, its count patched on a repeat (in any namespace)
      for (const verb of ["get", "create", "patch"])
        assert.ok(allows(bound("ClusterRole"), "", "events", verb), `the controller's Events need ${verb} on events cluster-wide`);
      // least privilege: Secrets only in the namespace; cluster-wide only the import's read of in-tree CHAP
      // Secrets, with controller.import.enabled (the all-options file turns it on)
      const clusterSecrets = bound("ClusterRole").filter((r) => r.resources.includes("secrets"));
      assert.ok(
        clusterSecrets.every((r) => r.verbs.join() === "get"),
        "cluster-wide, Secrets are read at most",
      );
      assert.equal(clusterSecrets.length > 0, label === "every option", "cluster-wide Secret reads only with controller.import.enabled");
      assert.ok(allows(bound("Role"), "coordination.k8s.io", "leases", "update"), "sidecar leader election needs leases");
      assert.ok(allows(bound("ClusterRole"), "storage.k8s.io", "volumeattachments", "patch"), "the attacher patches VolumeAttachments");
      const nodeSa = pod(findObject(objs, "DaemonSet", "-node")).serviceAccountName;
      assert.ok(
        !objs.some((o) => o.kind.endsWith("Binding") && (o.subjects as { name: string }[]).some((s) => s.name === nodeSa)),
        "the node plugin needs no RBAC",
      );
    });
  });
}

/** The rules of every Role (or ClusterRole) bound to a service account. */
function rulesBoundTo(objs: K8sObject[], serviceAccount: string | undefined, kind: "Role" | "ClusterRole"): Rule[] {
  return objs
    .filter((o) => o.kind === `${kind}Binding` && (o.subjects as { name: string }[]).some((s) => s.name === serviceAccount))
    .flatMap((b) => objs.filter((r) => r.kind === kind && r.metadata.name === (b.roleRef as { name: string }).name))
    .flatMap((r) => r.rules as Rule[]);
}

describe("storage capacity tracking (controller.storageCapacity)", () => {
  const fieldRef = (c: Container, name: string): string | undefined => c.env?.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath;
  const allows = (rules: Rule[], group: string, resource: string, verb: string): boolean =>
    rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));

  test("on by default: the provisioner publishes CSIStorageCapacity owned by the Deployment, the CSIDriver asks the scheduler to use it, RBAC allows both", () => {
    const objs = renderChart();
    const deployment = findObject(objs, "Deployment", "-controller");
    const p = pod(deployment);
    const provisioner = container(p, "csi-provisioner");
    assert.ok(provisioner.args?.includes("--enable-capacity"), provisioner.args?.join(" "));
    // owner: the pod (0) -> its ReplicaSet (1) -> the Deployment (2), which helm uninstall removes with its objects
    assert.equal(deployment.kind, "Deployment");
    assert.equal(arg(provisioner, "--capacity-ownerref-level"), "2");
    assert.equal(arg(provisioner, "--capacity-poll-interval"), "1m");
    // external-provisioner reads NAMESPACE (where the objects go) and POD_NAME (where the owner lookup starts)
    assert.equal(fieldRef(provisioner, "NAMESPACE"), "metadata.namespace");
    assert.equal(fieldRef(provisioner, "POD_NAME"), "metadata.name");
    const driver = findObject(objs, "CSIDriver", "");
    assert.equal((driver.spec as { storageCapacity?: boolean }).storageCapacity, true);
    const role = rulesBoundTo(objs, p.serviceAccountName, "Role");
    for (const verb of ["get", "list", "watch", "create", "update", "patch", "delete"])
      assert.ok(allows(role, "storage.k8s.io", "csistoragecapacities", verb), `csistoragecapacities ${verb} in the release namespace`);
    assert.ok(allows(role, "", "pods", "get"), "the owner lookup gets the provisioner's pod");
    assert.ok(allows(role, "apps", "replicasets", "get"), "and its ReplicaSet, which names the Deployment");
    assert.ok(!rulesBoundTo(objs, p.serviceAccountName, "ClusterRole").some((r) => r.resources.includes("csistoragecapacities")), "not cluster-wide");
  });

  test("without zones, every node plugin reports one shared segment (csi-provisioner's central tracking keeps no object for an empty one); with zones, capacity off, or node.topology, not that", () => {
    const topologyOf = (set: string[]): string | undefined =>
      container(pod(findObject(renderChart({ set }), "DaemonSet", "-node")), "gluster-block-csi").env?.find((e) => e.name === "GBCSI_TOPOLOGY")?.value;
    assert.equal(topologyOf([]), "topology.block.csi.gluster.org/pool=shared");
    assert.equal(topologyOf(["driverName=other.example.org"]), "topology.other.example.org/pool=shared");
    assert.equal(topologyOf(["topology.enabled=true"]), undefined, "each reads its zone from its Node");
    assert.equal(topologyOf(["controller.storageCapacity.enabled=false"]), undefined);
    assert.equal(topologyOf(["node.topology=rack=r1"]), "rack=r1");
  });

  test("the poll interval is the value's", () => {
    const provisioner = container(
      pod(findObject(renderChart({ set: ["controller.storageCapacity.pollInterval=5m"] }), "Deployment", "-controller")),
      "csi-provisioner",
    );
    assert.equal(arg(provisioner, "--capacity-poll-interval"), "5m");
  });

  test("off: no capacity flags, env or rights, and the CSIDriver does not ask the scheduler to wait for capacity", () => {
    const objs = renderChart({ set: ["controller.storageCapacity.enabled=false"] });
    const p = pod(findObject(objs, "Deployment", "-controller"));
    const provisioner = container(p, "csi-provisioner");
    assert.ok(!provisioner.args?.some((a) => a.startsWith("--enable-capacity") || a.startsWith("--capacity-")), provisioner.args?.join(" "));
    assert.equal(fieldRef(provisioner, "POD_NAME"), undefined);
    assert.equal((findObject(objs, "CSIDriver", "").spec as { storageCapacity?: boolean }).storageCapacity, false);
    const role = rulesBoundTo(objs, p.serviceAccountName, "Role");
    assert.ok(!role.some((r) => r.resources.includes("csistoragecapacities") || r.resources.includes("replicasets")));
    assert.ok(!allows(role, "", "pods", "get"), "pods: list only (blockd discovery)");
    assert.ok(allows(role, "", "pods", "list"));
  });
});

describe("blockd TLS settings", () => {
  test("existing Secrets: the controller mounts its own, and none is generated", () => {
    const objs = renderChart({ values: [join(ROOT, "test/fixtures/helm/existing-secret.yaml")] });
    const ctrlPod = pod(findObject(objs, "Deployment", "-controller"));
    assert.equal(tlsSecretOf(ctrlPod, container(ctrlPod, "gluster-block-csi"), CONTROLLER_TLS_FLAGS), "my-controller-tls");
    assert.ok(!objs.some((o) => o.kind === "Secret" && /-(blockd|controller)-tls$/.test(o.metadata.name)));
    const both = renderChart({ set: ["blockd.tls.existingSecret=my-peer", "blockd.tls.controllerExistingSecret=my-ctrl"] });
    const ds = pod(findObject(both, "DaemonSet", "-blockd"));
    assert.equal(tlsSecretOf(ds, container(ds, "gluster-blockd"), BLOCKD_TLS_FLAGS), "my-peer");
    const ctrl = pod(findObject(both, "Deployment", "-controller"));
    assert.equal(tlsSecretOf(ctrl, container(ctrl, "gluster-block-csi"), CONTROLLER_TLS_FLAGS), "my-ctrl");
    assert.ok(!both.some((o) => o.kind === "Secret" && /-(blockd|controller)-tls$/.test(o.metadata.name)));
  });

  test("an existing Secret for one role alone is refused: the chart cannot sign the other for a CA it does not hold", () => {
    const peerOnly = helm(["template", "x", CHART_DIR, "--set", "blockd.tls.existingSecret=my-peer"]);
    assert.notEqual(peerOnly.code, 0);
    assert.match(
      peerOnly.stderr,
      /blockd\.tls\.existingSecret needs blockd\.tls\.controllerExistingSecret: the controller's own client certificate \(DNS:gluster-block-csi-controller\)/,
    );
    const ctrlOnly = helm(["template", "x", CHART_DIR, "--set", "blockd.tls.controllerExistingSecret=my-ctrl"]);
    assert.notEqual(ctrlOnly.code, 0);
    assert.match(ctrlOnly.stderr, /blockd\.tls\.controllerExistingSecret needs blockd\.tls\.existingSecret/);
  });

  test("blockd.tls.enabled=false alone is refused at render time: the key would cross the network in cleartext", () => {
    const r = helm(["template", "x", CHART_DIR, "--set", "blockd.tls.enabled=false"]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /blockd\.tls\.enabled=false sends blockd's shared key and the CHAP passwords over the network in cleartext: keep TLS on, or set blockd\.tls\.insecureKeyOverPlaintext=true/,
    );
  });

  test("blockd.tls.enabled=false with insecureKeyOverPlaintext: no TLS flags, volumes or Secret; the key stays, with the insecure flag on both ends", () => {
    const objs = renderChart({ set: ["blockd.tls.enabled=false", "blockd.tls.insecureKeyOverPlaintext=true"] });
    const ds = pod(findObject(objs, "DaemonSet", "-blockd"));
    const ctrlPod = pod(findObject(objs, "Deployment", "-controller"));
    for (const c of [container(ds, "gluster-blockd"), container(ctrlPod, "gluster-block-csi")]) {
      assert.deepEqual(
        c.args?.filter((a) => a.includes("tls")),
        [],
        c.name,
      );
      assert.ok(
        c.args?.some((a) => /^--(blockd-)?key-file=/.test(a)),
        `${c.name} keeps the key`,
      );
    }
    assert.ok(container(ds, "gluster-blockd").args?.includes("--insecure-key-over-plaintext"));
    assert.ok(container(ctrlPod, "gluster-block-csi").args?.includes("--blockd-insecure-key-over-plaintext"));
    assert.ok(![...ds.volumes, ...ctrlPod.volumes].some((v) => v.name === "blockd-tls" || v.name === "controller-tls"));
    assert.ok(!objs.some((o) => o.kind === "Secret" && /-(blockd|controller)-tls$/.test(o.metadata.name)));
  });
});

describe("list values with blank entries (`--set 'x={}'` stores [\"\"] in Helm 4)", () => {
  const ctrlArgs = (objs: K8sObject[]): string[] => container(pod(findObject(objs, "Deployment", "-controller")), "gluster-block-csi").args ?? [];

  for (const [label, opts] of [
    ["--set controller.blockd.endpoints={}", { set: ["controller.blockd.endpoints={}", "controller.hostingVolumes={}"] }],
    ['--set-json controller.blockd.endpoints=[""]', { setJson: ['controller.blockd.endpoints=[""]', 'controller.hostingVolumes=["", " "]'] }],
  ] as const) {
    test(`${label}: no empty --blockd-endpoints; the release's blockd pods are discovered`, () => {
      const args = ctrlArgs(renderChart({ ...opts, release: "rel" }));
      assert.ok(!args.some((a) => a.startsWith("--blockd-endpoints")), args.join(" "));
      assert.ok(args.includes("--blockd-selector=app.kubernetes.io/name=gluster-blockd,app.kubernetes.io/instance=rel"), args.join(" "));
      assert.ok(args.some((a) => a.startsWith("--blockd-port=")));
      assert.ok(!args.some((a) => a.startsWith("--hosting-volumes")), "nor an empty --hosting-volumes");
    });
  }

  test("blank entries among endpoints are dropped, the others kept in order", () => {
    const args = ctrlArgs(
      renderChart({ setJson: ['controller.blockd.endpoints=["", "10.0.0.1:24010", " ", "10.0.0.2:24010"]', 'controller.hostingVolumes=["hv1", ""]'] }),
    );
    assert.ok(args.includes("--blockd-endpoints=10.0.0.1:24010,10.0.0.2:24010"), args.join(" "));
    assert.ok(!args.some((a) => a.startsWith("--blockd-selector")));
    assert.ok(args.includes("--hosting-volumes=hv1"));
  });

  test("NOTES.txt with blockd elsewhere and blank endpoints says none are set", () => {
    const r = helm(["install", "--dry-run", "x", CHART_DIR, "--set", "blockd.enabled=false", "--set", "controller.blockd.endpoints={}"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /The controller has no blockd\.endpoints: set controller\.blockd\.endpoints\./);
  });
});

describe("topology (topology.enabled)", () => {
  const ctrlPod = (objs: K8sObject[]): PodSpec => pod(findObject(objs, "Deployment", "-controller"));
  const plugin = (objs: K8sObject[]): Container => container(pod(findObject(objs, "DaemonSet", "-node")), "gluster-block-csi");
  const envOf = (c: Container): Record<string, string> =>
    Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value ?? ""]));
  const allows = (rules: Rule[], group: string, resource: string, verb: string): boolean =>
    rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
  const TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
  /** the controller's flags as the program reads them (the sidecars' and program's own flags apart) */
  const controllerFlags = (objs: K8sObject[]) => {
    const args = (container(ctrlPod(objs), "gluster-block-csi").args ?? []).filter(
      (a) => a.startsWith("--") && !/^--(endpoint|driver-name|log-level|metrics-address)=/.test(a),
    );
    return controllerConfig(parseFlags(args, CONTROLLER_FLAGS), DEFAULT_DRIVER_NAME, {});
  };

  test("off by default: no topology flags, no zone label, no token and no RBAC for the node plugin", () => {
    const objs = renderChart();
    assert.equal(controllerFlags(objs).topology, undefined, "the controller runs without --topology");
    const provisioner = container(ctrlPod(objs), "csi-provisioner");
    assert.ok(!provisioner.args?.some((a) => /topology/i.test(a)), provisioner.args?.join(" "));
    assert.equal(envOf(plugin(objs)).GBCSI_ZONE_LABEL, undefined);
    assert.equal(mountAt(plugin(objs), TOKEN_DIR), undefined);
    const nodeSa = pod(findObject(objs, "DaemonSet", "-node")).serviceAccountName;
    assert.deepEqual(rulesBoundTo(objs, nodeSa, "ClusterRole"), []);
  });

  test("on: the controller places by the values' zone label, the node plugin reads its zone with a token of its own and `get` on nodes alone", () => {
    const objs = renderChart({ set: ["topology.enabled=true", "topology.zoneLabel=example.org/zone"] });
    assert.deepEqual(controllerFlags(objs).topology, { zoneLabel: "example.org/zone", staticZones: new Map() });
    const c = plugin(objs);
    const config = nodeConfigFromEnv(envOf(c));
    assert.equal(config.zoneLabel, "example.org/zone", "GBCSI_ZONE_LABEL, as the program reads it");
    assert.deepEqual(config.topology, {}, "no override");
    const ds = pod(findObject(objs, "DaemonSet", "-node"));
    const m = mountAt(c, TOKEN_DIR);
    assert.ok(m, "the token where in-cluster clients look for it");
    assert.equal(m.readOnly, true);
    const v = (ds.volumes as { name: string; projected?: { sources: Record<string, unknown>[] } }[]).find((x) => x.name === m.name);
    assert.ok(
      v?.projected?.sources.some((src) => "serviceAccountToken" in src),
      "a projected service account token",
    );
    assert.ok(
      v?.projected?.sources.some((src) => "configMap" in src),
      "with the API server's CA",
    );
    for (const other of ds.containers.filter((x) => x.name !== "gluster-block-csi"))
      assert.equal(mountAt(other, TOKEN_DIR), undefined, `${other.name} gets no token`);
    const rules = rulesBoundTo(objs, ds.serviceAccountName, "ClusterRole");
    assert.deepEqual(rules, [{ apiGroups: [""], resources: ["nodes"], verbs: ["get"] }], "get on nodes, nothing else");
    assert.deepEqual(rulesBoundTo(objs, ds.serviceAccountName, "Role"), []);
    // every call the node plugin's code makes is granted (src/node/node-labels-api.ts: core.readNode)
    const src = readFileSync(join(ROOT, "src/node/node-labels-api.ts"), "utf8");
    const calls = [...src.matchAll(/core\.(\w+)\(/g)].map((x) => x[1]);
    assert.deepEqual(calls, ["readNode"]);
    assert.ok(allows(rules, "", "nodes", "get"));
    // the controller reads the blockd pods' Nodes (ClusterRole, the sidecars' rule)
    assert.ok(allows(rulesBoundTo(objs, ctrlPod(objs).serviceAccountName, "ClusterRole"), "", "nodes", "get"));
  });

  test("the provisioner: the Topology gate for v4 and older and tags that are no version, not for v5 and later; true/false decide; --strict-topology from the values", () => {
    const args = (...set: string[]): string[] => container(ctrlPod(renderChart({ set: ["topology.enabled=true", ...set] })), "csi-provisioner").args ?? [];
    const gated = (...set: string[]): boolean => args(...set).includes("--feature-gates=Topology=true");
    assert.equal(gated(), false, "the chart's v5.3.0: on by default there, and a later release may drop the gate");
    assert.equal(gated("images.provisioner.tag=v4.0.1"), true, "v4.0.1 (the lab's): off by default there");
    assert.equal(gated("images.provisioner.tag=lab-3f2a9c"), true, "a tag that is no version");
    assert.equal(gated("images.provisioner.tag=v12.0.0"), false);
    assert.equal(gated("images.provisioner.tag=v5.3.0", "topology.provisionerFeatureGate=true"), true);
    assert.equal(gated("images.provisioner.tag=v4.0.1", "topology.provisionerFeatureGate=false"), false);
    const bad = helm(["template", "x", CHART_DIR, "--set", "topology.enabled=true", "--set", "topology.provisionerFeatureGate=yes"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /topology\.provisionerFeatureGate must be auto, true or false, not "yes"/);
    assert.ok(!args().includes("--strict-topology"));
    assert.ok(args("topology.strict=true").includes("--strict-topology"));
    const off = container(ctrlPod(renderChart({ set: ["topology.strict=true", "images.provisioner.tag=v4.0.1"] })), "csi-provisioner").args ?? [];
    assert.ok(!off.some((a) => /topology/i.test(a)), "topology off: neither");
  });

  test("storageClass.allowedZones: allowedTopologies on the driver's own key, as the node plugins report it", () => {
    for (const driver of [DEFAULT_DRIVER_NAME, "block2.csi.example.org"]) {
      const objs = renderChart({
        set: [
          "topology.enabled=true",
          `driverName=${driver}`,
          "storageClass.create=true",
          "storageClass.hostingVolume=hv",
          "storageClass.allowedZones={zone-a,zone-b}",
        ],
      });
      const sc = findObject(objs, "StorageClass", "");
      assert.deepEqual(sc.allowedTopologies, [{ matchLabelExpressions: [{ key: zoneKey(driver), values: ["zone-a", "zone-b"] }] }]);
    }
    const none = findObject(renderChart({ set: ["topology.enabled=true", "storageClass.create=true", "storageClass.hostingVolume=hv"] }), "StorageClass", "");
    assert.equal(none.allowedTopologies, undefined, "no zones: any");
  });

  test("static endpoints: their zones reach the controller as --blockd-zones, which it accepts", () => {
    const objs = renderChart({
      set: ["topology.enabled=true", "controller.blockd.endpoints={10.0.0.1:24010,10.0.0.2:24010}", "controller.blockd.zones={10.0.0.1:24010=zone-a}"],
    });
    assert.ok((container(ctrlPod(objs), "gluster-block-csi").args ?? []).includes("--blockd-zones=10.0.0.1:24010=zone-a"));
    assert.deepEqual([...(controllerFlags(objs).topology?.staticZones ?? [])], [["10.0.0.1:24010", "zone-a"]]);
  });

  test("values that cannot work are refused at render time, saying what to change", () => {
    const refused = (set: string[], re: RegExp): void => {
      const r = helm(["template", "x", CHART_DIR, ...set.flatMap((x) => ["--set", x])]);
      assert.notEqual(r.code, 0, set.join(" "));
      assert.match(r.stderr, re);
    };
    refused(["storageClass.allowedZones={zone-a}"], /storageClass\.allowedZones needs topology\.enabled=true/);
    refused(
      ["controller.blockd.endpoints={10.0.0.1:24010}", "controller.blockd.zones={10.0.0.1:24010=a}"],
      /controller\.blockd\.zones needs topology\.enabled=true/,
    );
    refused(["topology.enabled=true", "controller.blockd.zones={10.0.0.1:24010=a}"], /names the zones of controller\.blockd\.endpoints/);
    refused(
      ["topology.enabled=true", "node.topology=rack=r1"],
      /places volumes by topology\.block\.csi\.gluster\.org\/zone alone; "rack=r1" names another key/,
    );
  });

  test("node.topology with the driver's key overrides the Nodes' labels: no token, no RBAC", () => {
    const objs = renderChart({ set: ["topology.enabled=true", `node.topology=${zoneKey(DEFAULT_DRIVER_NAME)}=zone-a`] });
    const c = plugin(objs);
    assert.deepEqual(nodeConfigFromEnv(envOf(c)).topology, { [zoneKey(DEFAULT_DRIVER_NAME)]: "zone-a" });
    assert.equal(envOf(c).GBCSI_ZONE_LABEL, undefined);
    assert.equal(mountAt(c, TOKEN_DIR), undefined);
    assert.deepEqual(rulesBoundTo(objs, pod(findObject(objs, "DaemonSet", "-node")).serviceAccountName, "ClusterRole"), []);
  });
});

describe("the import's rights (controller.import.enabled)", () => {
  const allows = (rules: Rule[], group: string, resource: string, verb: string): boolean =>
    rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
  // the calls as written in src/controller/import/import-kube.ts: this.core.readNamespacedSecret(...), this.core.patchPersistentVolume(...)
  const importCalls = (): [string, string][] => {
    const src = readFileSync(join(ROOT, "src/controller/import/import-kube.ts"), "utf8");
    const VERB: Record<string, string> = { create: "create", read: "get", list: "list", delete: "delete", patch: "patch" };
    const RESOURCE: Record<string, string> = {
      Secret: "secrets",
      Pod: "pods",
      PersistentVolume: "persistentvolumes",
      PersistentVolumeClaim: "persistentvolumeclaims",
    };
    return [...src.matchAll(/this\.core\.(create|read|list|delete|patch)(?:Namespaced)?([A-Z]\w*?)\(/g)].map(([, op, kind]) => {
      const resource = RESOURCE[kind ?? ""];
      const verb = VERB[op ?? ""];
      assert.ok(resource && verb, `no RBAC mapping for ${op ?? ""} ${kind ?? ""}: add it here and to controller-import-clusterrole.yaml`);
      return [resource, verb];
    });
  };

  test("on: every call the import makes is granted cluster-wide (the claim's namespace is any)", () => {
    const calls = importCalls();
    assert.ok(calls.length >= 8, `found only ${calls.length} API calls in import-kube.ts`);
    const objs = renderChart({ set: ["controller.import.enabled=true"] });
    const cluster = rulesBoundTo(objs, pod(findObject(objs, "Deployment", "-controller")).serviceAccountName, "ClusterRole");
    for (const [resource, verb] of calls) assert.ok(allows(cluster, "", resource, verb), `the import calls ${verb} ${resource} but RBAC does not grant it`);
  });

  test("off by default: no cluster-wide Secret reads and no claim deletes", () => {
    const objs = renderChart();
    const cluster = rulesBoundTo(objs, pod(findObject(objs, "Deployment", "-controller")).serviceAccountName, "ClusterRole");
    assert.ok(!cluster.some((r) => r.resources.includes("secrets")));
    assert.ok(!allows(cluster, "", "persistentvolumeclaims", "delete"));
    assert.ok(!allows(cluster, "", "persistentvolumeclaims", "create"));
  });
});
