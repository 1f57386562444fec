// The chart through the real helm (test/helpers/helm.ts fetches it once):
// lint with no warnings, render with defaults and with every option set, and
// every rendered object valid against the Kubernetes OpenAPI schema.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { CHART_DIR, helm, renderChart, schemaProblems, findObject, type K8sObject } from "../helpers/helm.js";
import { ROOT } from "../helpers/spawn-program.js";

const ALL_OPTIONS = join(ROOT, "test/fixtures/helm/all-options.yaml");
const EXISTING_SECRET = join(ROOT, "test/fixtures/helm/existing-secret.yaml");

test("helm lint --strict passes with no warnings, with defaults and with every option", () => {
  for (const extra of [[], ["--values", ALL_OPTIONS], ["--values", EXISTING_SECRET]]) {
    const r = helm(["lint", "--strict", CHART_DIR, ...extra]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    assert.doesNotMatch(r.stdout, /\[(WARNING|ERROR)\]/, r.stdout);
  }
});

// maps whose contents are the user's own (labels, scheduling, resources) count as one key
const FREE_FORM = new Set(["commonLabels", "nodeSelector", "podLabels", "podAnnotations", "annotations", "resources", "sidecarResources", "affinity"]);

/** every leaf path of a values tree ("controller.defaults.fsType") */
function leaves(v: unknown, prefix = ""): string[] {
  const last = prefix.slice(prefix.lastIndexOf(".") + 1);
  if (v === null || typeof v !== "object" || Array.isArray(v) || FREE_FORM.has(last)) return [prefix];
  return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => leaves(x, prefix ? `${prefix}.${k}` : k));
}

test("the all-options values file sets every key of values.yaml, to another value", () => {
  const dflt = parse(readFileSync(join(CHART_DIR, "values.yaml"), "utf8")) as unknown;
  const all = parse(readFileSync(ALL_OPTIONS, "utf8")) as unknown;
  const at = (v: unknown, path: string): unknown =>
    path.split(".").reduce<unknown>((o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), v);
  const allLeaves = new Set(leaves(all));
  assert.deepEqual(
    leaves(dflt).filter((k) => !allLeaves.has(k)),
    [],
    "keys of values.yaml the all-options file leaves out",
  );
  assert.deepEqual(
    leaves(all).filter((k) => !leaves(dflt).includes(k)),
    [],
    "keys the chart does not have",
  );
  // booleans that gate whole objects stay on, so that every object is rendered and validated; the insecure switch stays off
  const same = leaves(dflt).filter((k) => JSON.stringify(at(dflt, k)) === JSON.stringify(at(all, k)));
  assert.deepEqual(same.sort(), [
    "blockd.enabled",
    "blockd.key.existingSecret",
    "blockd.tls.controllerExistingSecret",
    "blockd.tls.enabled",
    "blockd.tls.existingSecret",
    "blockd.tls.insecureKeyOverPlaintext",
    "controller.extraCreateMetadata",
    "controller.kubeApi",
    "controller.leaderElection",
    "controller.storageCapacity.enabled",
    "csiDriver.create",
    "metrics.enabled",
    "storageClass.auth",
  ]);
});

test("every key of values.yaml is documented: a comment above it or above its parent", () => {
  const lines = readFileSync(join(CHART_DIR, "values.yaml"), "utf8").split("\n");
  const key = (l: string): { indent: number } | undefined => {
    const m = /^(\s*)[A-Za-z]\w*:/.exec(l);
    return m ? { indent: (m[1] ?? "").length } : undefined;
  };
  const commentAbove = (i: number): boolean => (lines[i - 1] ?? "").trim().startsWith("#");
  const undocumented: string[] = [];
  lines.forEach((line, i) => {
    const k = key(line);
    if (!k || commentAbove(i)) return;
    let p = i - 1;
    while (p >= 0 && !((key(lines[p] ?? "")?.indent ?? Infinity) < k.indent)) p--;
    if (k.indent > 0 && p >= 0 && commentAbove(p)) return;
    undocumented.push(`${i + 1}: ${line.trim()}`);
  });
  assert.deepEqual(undocumented, []);
});

const RENDERS: Record<string, () => K8sObject[]> = {
  defaults: () => renderChart(),
  "every option": () => renderChart({ values: [ALL_OPTIONS] }),
  "blockd outside Kubernetes, existing key Secret": () => renderChart({ values: [EXISTING_SECRET] }),
  "defaults + StorageClass": () => renderChart({ set: ["storageClass.create=true", "storageClass.hostingVolume=hv"] }),
  "TLS off (insecure, explicitly)": () => renderChart({ set: ["blockd.tls.enabled=false", "blockd.tls.insecureKeyOverPlaintext=true"] }),
  "topology on, zones read from the Nodes (token and RBAC for the node plugin)": () =>
    renderChart({ set: ["topology.enabled=true", "storageClass.create=true", "storageClass.hostingVolume=hv", "storageClass.allowedZones={zone-a,zone-b}"] }),
};

describe("rendered objects validate against the Kubernetes OpenAPI schema", () => {
  for (const [name, render] of Object.entries(RENDERS)) {
    test(name, async () => {
      const objs = render();
      assert.ok(objs.length >= 8, `only ${objs.length} objects rendered`);
      const problems = (await Promise.all(objs.map((o) => schemaProblems(o)))).flat();
      assert.deepEqual(problems, []);
      const names = objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`);
      assert.equal(new Set(names).size, names.length, "an object is rendered twice");
      for (const o of objs) assert.ok(o.metadata.name.length <= 63, `${o.kind}/${o.metadata.name} is longer than 63 characters`);
    });
  }
});

test("the schema check catches a wrong type and an unknown field (it can fail)", async () => {
  const ds = findObject(renderChart(), "DaemonSet", "-node");
  const spec = (ds.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec;
  const c0 = spec.containers[0];
  assert.ok(c0);
  c0.mountPropagaton = "Bidirectional";
  c0.ports = [{ containerPort: "not-a-number" }];
  const problems = await schemaProblems(ds);
  assert.ok(
    problems.some((p) => p.includes("unknown field") && p.includes("mountPropagaton")),
    problems.join("\n"),
  );
  assert.ok(
    problems.some((p) => p.includes("containerPort")),
    problems.join("\n"),
  );
});

test("kubeVersion admits Kubernetes 1.24 (the version the lab runs) and refuses older", () => {
  const chart = parse(readFileSync(join(CHART_DIR, "Chart.yaml"), "utf8")) as { kubeVersion?: string };
  assert.equal(chart.kubeVersion, ">=1.24.0-0");
  for (const v of ["1.24.0", "v1.24.17-gke.100", "1.31.2"]) {
    const r = helm(["template", "x", CHART_DIR, "--kube-version", v]);
    assert.equal(r.code, 0, `${v}: ${r.stderr}`);
  }
  const old = helm(["template", "x", CHART_DIR, "--kube-version", "1.23.17"]);
  assert.notEqual(old.code, 0);
  assert.match(old.stderr, /chart requires kubeVersion: >=1\.24\.0-0 which is incompatible with Kubernetes v1\.23\.17/);
  assert.match(readFileSync(join(CHART_DIR, "README.md"), "utf8"), /On 1\.24 and 1\.25 the chart turns\s+`node\.acceptPathAuthority` on by itself/);
});

test("node.acceptPathAuthority: auto is on below Kubernetes 1.26 and off from 1.26; true and false decide; anything else is refused", () => {
  const pathAuthority = (kubeVersion: string, set: string[] = []): string | undefined => {
    const ds = findObject(renderChart({ kubeVersion, set }), "DaemonSet", "-node");
    const spec = (ds.spec as { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } }).template.spec;
    return spec.containers.flatMap((c) => c.env ?? []).find((e) => e.name === "GBCSI_PATH_AUTHORITY")?.value;
  };
  assert.equal(pathAuthority("1.24.0"), "on");
  assert.equal(pathAuthority("v1.25.16"), "on");
  assert.equal(pathAuthority("1.26.0"), undefined);
  assert.equal(pathAuthority("1.31.2"), undefined);
  assert.equal(pathAuthority("1.31.2", ["node.acceptPathAuthority=true"]), "on");
  assert.equal(pathAuthority("1.24.0", ["node.acceptPathAuthority=false"]), undefined);
  const bad = helm(["template", "x", CHART_DIR, "--set", "node.acceptPathAuthority=yes"]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /node\.acceptPathAuthority must be auto, true or false, not "yes"/);
});

test("the driver's container starts first, and no start-up probe times out sooner than its liveness probe", () => {
  interface Probe {
    timeoutSeconds?: number;
  }
  interface Container {
    name: string;
    startupProbe?: Probe;
    livenessProbe?: Probe;
  }
  const objs = renderChart({ values: [ALL_OPTIONS] });
  const pods = [findObject(objs, "Deployment", "-controller"), findObject(objs, "DaemonSet", "-node"), findObject(objs, "DaemonSet", "-blockd")];
  let probes = 0;
  for (const o of pods) {
    const containers = (o.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers;
    if (!o.metadata.name.endsWith("-blockd")) assert.equal(containers[0]?.name, "gluster-block-csi", `${o.kind}/${o.metadata.name}: the driver first`);
    for (const c of containers) {
      if (!c.startupProbe) continue;
      probes++;
      // the kubelet's default timeout is 1 s: a busy node's slow answer would count as a failure and the start-up would be cut short
      const startup = c.startupProbe.timeoutSeconds ?? 1;
      assert.ok(startup >= 5, `${o.metadata.name}/${c.name}: start-up probe timeout ${startup} s`);
      assert.ok(
        startup >= (c.livenessProbe?.timeoutSeconds ?? 1),
        `${o.metadata.name}/${c.name}: start-up probe timeout ${startup} s below the liveness probe's`,
      );
    }
  }
  assert.equal(probes, 4);
});

test("a StorageClass without a hosting volume is refused at render time", () => {
  const r = helm(["template", "x", CHART_DIR, "--set", "storageClass.create=true"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /storageClass.hostingVolume is required/);
});

test("a short blockd key is refused", () => {
  const r = helm(["template", "x", CHART_DIR, "--set", "blockd.key.value=short"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /at least 16 characters/);
});

test("NOTES.txt renders and tells the next steps", () => {
  const r = helm(["install", "gbcsi", CHART_DIR, "--dry-run=client", "--namespace", "gluster-block-csi"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /NOTES:/);
  assert.match(r.stdout, /kubectl label node <storage-node> gluster\.org\/storage-node=true/);
  assert.match(r.stdout, /node-stage-secret-name: gluster-block-chap-\$\{pv\.name\}/);
  assert.match(r.stdout, /kubectl describe pv/);
});

test("NOTES.txt and the README: the Pod Security label the privileged pods need, and the Leases uninstall leaves", () => {
  const notes = (...set: string[]): string => {
    const r = helm(["install", "gbcsi", CHART_DIR, "--dry-run=client", "--namespace", "storage-ns", ...set.flatMap((s) => ["--set", s])]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.slice(r.stdout.indexOf("NOTES:"));
  };
  const dflt = notes();
  assert.ok(dflt.includes("kubectl label namespace storage-ns pod-security.kubernetes.io/enforce=privileged"), dflt);
  assert.ok(dflt.includes("kubectl -n storage-ns get lease"));
  // as csi-lib-utils names them: csi-provisioner the driver name, the attacher and resizer with their prefixes
  assert.ok(
    dflt.includes(
      "kubectl -n storage-ns delete lease block-csi-gluster-org external-attacher-leader-block-csi-gluster-org external-resizer-block-csi-gluster-org",
    ),
    dflt,
  );
  assert.ok(
    notes("driverName=block2.csi.example.org").includes(
      "delete lease block2-csi-example-org external-attacher-leader-block2-csi-example-org external-resizer-block2-csi-example-org",
    ),
  );
  assert.doesNotMatch(notes("controller.leaderElection=false"), /lease/i, "no leader election, no Leases");
  const readme = readFileSync(join(CHART_DIR, "README.md"), "utf8");
  assert.ok(readme.includes("`kubectl label namespace <ns> pod-security.kubernetes.io/enforce=privileged`"));
  assert.ok(readme.includes("kubectl label namespace gluster-block-csi pod-security.kubernetes.io/enforce=privileged\nhelm install"));
  for (const lease of ["block-csi-gluster-org", "external-attacher-leader-block-csi-gluster-org", "external-resizer-block-csi-gluster-org"])
    assert.ok(readme.includes(`\`${lease}\``), lease);
  assert.ok(readme.includes("kubectl -n gluster-block-csi get lease"));
});

test("NOTES.txt with topology on names the label to set and the driver's key; off, it says nothing of zones", () => {
  const notes = (...set: string[]): string => {
    const r = helm(["install", "gbcsi", CHART_DIR, "--dry-run=client", "--namespace", "storage-ns", ...set.flatMap((s) => ["--set", s])]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.slice(r.stdout.indexOf("NOTES:"));
  };
  const on = notes("topology.enabled=true", "driverName=block2.csi.example.org");
  assert.ok(on.includes("kubectl label node <node> topology.kubernetes.io/zone=<zone>"), on);
  assert.ok(on.includes("- key: topology.block2.csi.example.org/zone"), on);
  assert.doesNotMatch(notes(), /zone/);
});
