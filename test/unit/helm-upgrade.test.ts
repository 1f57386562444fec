// `helm upgrade` with nothing changed must leave every pod template as the
// install rendered it, or it restarts every blockd for nothing. The chart's
// generated key and certificates are made at install and found again by
// `lookup` on upgrade; the pods' checksum annotations must hash that same
// material. Rendered through the real helm against a cluster double
// (`--dry-run=server`, where `lookup` answers): an install with nothing in
// the cluster, its Secrets put in, then the upgrade.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { HelmCluster } from "../doubles/helm-cluster.js";
import { findObject, renderChart, renderChartWithCluster, type K8sObject, type RenderOptions } from "../helpers/helm.js";

const NS = "gluster-block-csi";

let cluster: HelmCluster;
let kubeconfig: string;

before(async () => {
  cluster = await new HelmCluster().start();
  kubeconfig = await cluster.kubeconfig();
});

after(async () => {
  await cluster?.stop();
});

interface PodTemplate {
  metadata: { annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: unknown;
}
const template = (o: K8sObject): PodTemplate => (o.spec as { template: PodTemplate }).template;
const annotation = (o: K8sObject, key: string): string | undefined => template(o).metadata.annotations?.[key];
const WORKLOADS: [string, string][] = [
  ["DaemonSet", "-blockd"],
  ["DaemonSet", "-node"],
  ["Deployment", "-controller"],
];
const secrets = (objs: readonly K8sObject[]): K8sObject[] => objs.filter((o) => o.kind === "Secret");
const dataOf = (objs: readonly K8sObject[], suffix: string): Record<string, string> => findObject(objs, "Secret", suffix).data as Record<string, string>;

/** helm install: rendered with nothing in the cluster, then applied (its Secrets stored) */
async function install(opts: RenderOptions = {}): Promise<K8sObject[]> {
  const objs = await renderChartWithCluster(kubeconfig, { ...opts, namespace: NS });
  for (const s of secrets(objs)) cluster.put(s, NS);
  return objs;
}

describe("helm upgrade with nothing changed renders the pod templates the install did", () => {
  let installed: K8sObject[];
  let upgraded: K8sObject[];

  before(async () => {
    installed = await install();
    cluster.requests.length = 0;
    upgraded = await renderChartWithCluster(kubeconfig, { namespace: NS, upgrade: true });
  });

  test("the upgrade looked the generated Secrets up and kept their material", () => {
    const looked = new Set(cluster.gets("Secret"));
    for (const s of secrets(installed)) assert.ok(looked.has(s.metadata.name), `lookup of ${s.metadata.name}`);
    for (const suffix of ["-blockd-key", "-blockd-tls", "-controller-tls"]) assert.deepEqual(dataOf(upgraded, suffix), dataOf(installed, suffix), suffix);
  });

  for (const [kind, suffix] of WORKLOADS) {
    test(`${kind} *${suffix}: the same pod template, checksums included`, () => {
      const a = template(findObject(installed, kind, suffix));
      const b = template(findObject(upgraded, kind, suffix));
      assert.deepEqual(b, a);
    });
  }

  test("the checksums are of the material in the Secrets: the same in blockd and the controller", () => {
    const blockd = findObject(installed, "DaemonSet", "-blockd");
    const ctrl = findObject(installed, "Deployment", "-controller");
    for (const key of ["checksum/blockd-key", "checksum/blockd-tls"]) {
      assert.match(annotation(blockd, key) ?? "", /^[0-9a-f]{64}$/, key);
      assert.equal(annotation(ctrl, key), annotation(blockd, key), key);
    }
  });

  test("new certificates (the TLS Secrets deleted, then an upgrade) restart blockd and the controller; the key's checksum stays", async () => {
    for (const suffix of ["blockd-tls", "controller-tls"]) cluster.delete("v1", "Secret", `gbcsi-gluster-block-csi-${suffix}`, NS);
    const renewed = await renderChartWithCluster(kubeconfig, { namespace: NS, upgrade: true });
    assert.notEqual(dataOf(renewed, "-blockd-tls")["ca.crt"], dataOf(installed, "-blockd-tls")["ca.crt"], "a new CA");
    for (const [kind, suffix] of [WORKLOADS[0], WORKLOADS[2]] as [string, string][]) {
      const before = findObject(installed, kind, suffix);
      const after = findObject(renewed, kind, suffix);
      assert.notEqual(annotation(after, "checksum/blockd-tls"), annotation(before, "checksum/blockd-tls"), `${suffix} restarts`);
      assert.equal(annotation(after, "checksum/blockd-key"), annotation(before, "checksum/blockd-key"));
    }
    for (const s of secrets(renewed)) cluster.put(s, NS);
  });
});

describe("checksums of a key given in values", () => {
  const keyChecksum = (objs: readonly K8sObject[]): string | undefined => annotation(findObject(objs, "DaemonSet", "-blockd"), "checksum/blockd-key");

  test("the same key renders the same checksum; another key another one, which restarts the pods", () => {
    const a = renderChart({ set: ["blockd.key.value=unit-test-key-aaaaaaaaaaaa"] });
    const again = renderChart({ set: ["blockd.key.value=unit-test-key-aaaaaaaaaaaa"] });
    const b = renderChart({ set: ["blockd.key.value=unit-test-key-bbbbbbbbbbbb"] });
    assert.match(keyChecksum(a) ?? "", /^[0-9a-f]{64}$/);
    assert.equal(keyChecksum(again), keyChecksum(a));
    assert.notEqual(keyChecksum(b), keyChecksum(a));
    assert.equal(annotation(findObject(b, "Deployment", "-controller"), "checksum/blockd-key"), keyChecksum(b), "the controller restarts too");
    // the key's own checksum, not the rendered Secret's text: a relabelled Secret is no reason to restart
    assert.equal(keyChecksum(a), createHash("sha256").update("unit-test-key-aaaaaaaaaaaa").digest("hex"));
  });

  test("a generated key's checksum is of the key in the Secret rendered beside it", () => {
    const objs = renderChart();
    const key = Buffer.from(dataOf(objs, "-blockd-key").key ?? "", "base64").toString("utf8");
    assert.equal(key.length, 48);
    assert.equal(keyChecksum(objs), createHash("sha256").update(key).digest("hex"));
  });
});
