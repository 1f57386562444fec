// Where NodeGetInfo's topology comes from: GBCSI_TOPOLOGY as an override,
// else the zone label of the node's own Node (read through the API, here a
// stand-in over HTTP with the real client), else none.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeApiStandin } from "../../../lab/harness/kube-api-standin.js";
import { captureLog } from "../../../lab/harness/log-capture.js";
import { topologySource, type TopologySettings } from "../../../src/node/node-topology.js";
import { NodeLabelsError, type NodeLabels } from "../../../src/node/node-labels.js";
import { apiNodeLabels, inClusterKubeConfig } from "../../../src/node/node-labels-api.js";
import { nodeConfigFromEnv, NodeConfigError } from "../../../src/node/node-config.js";
import { StatusError } from "../../../src/rpc/errors.js";
import { nullLogger } from "../../../src/util/log.js";

const KEY = "topology.block.csi.gluster.org/zone";
const LABEL = "topology.kubernetes.io/zone";
const settings = (over: Partial<TopologySettings> = {}): TopologySettings => ({ override: {}, zoneLabel: LABEL, zoneKey: KEY, nodeName: "w1", ...over });
const labels =
  (byNode: Record<string, Record<string, string>>, reads: string[] = []): NodeLabels =>
  (name) => {
    reads.push(name);
    return Promise.resolve(byNode[name]);
  };
async function statusOf(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (err) {
    return err instanceof StatusError ? { code: err.code, message: err.message } : { code: -1, message: String(err) };
  }
  return { code: status.OK, message: "" };
}

describe("topologySource", () => {
  test("the Node's zone label under the driver's key, read at each call (each registration)", async () => {
    const reads: string[] = [];
    const byNode = { w1: { [LABEL]: "zone-a", other: "x" } };
    const source = topologySource(settings(), nullLogger, labels(byNode, reads));
    assert.deepEqual(await source(), { [KEY]: "zone-a" });
    byNode.w1[LABEL] = "zone-b";
    assert.deepEqual(await source(), { [KEY]: "zone-b" });
    assert.deepEqual(reads, ["w1", "w1"]);
  });

  test("GBCSI_TOPOLOGY overrides: no Node is read; no zone label configured: no topology", async () => {
    const reads: string[] = [];
    assert.deepEqual(await topologySource(settings({ override: { [KEY]: "zone-x" } }), nullLogger, labels({}, reads))(), { [KEY]: "zone-x" });
    assert.deepEqual(await topologySource(settings({ zoneLabel: undefined }), nullLogger, labels({}, reads))(), {});
    assert.deepEqual(reads, []);
    assert.throws(() => topologySource(settings(), nullLogger), /needs a Kubernetes API/);
  });

  test("a Node without the label: no segment, and a warning that says what follows", async () => {
    const log = captureLog("warn");
    assert.deepEqual(await topologySource(settings(), log.log, labels({ w1: {} }))(), {});
    assert.match(log.text(), /this node has no zone label: it reports no topology/);
    assert.match(log.text(), /topology\.kubernetes\.io\/zone/);
  });

  test("no such Node, a refused or failed read, a label that is no label value: UNAVAILABLE saying why (the registration is tried again)", async () => {
    const missing = await statusOf(topologySource(settings(), nullLogger, labels({}))());
    assert.equal(missing.code, status.UNAVAILABLE);
    assert.match(missing.message, /there is no Node w1 \(--node-id must be the Kubernetes node name\)/);
    const refused = await statusOf(topologySource(settings(), nullLogger, () => Promise.reject(new NodeLabelsError(403, "reading Node w1: HTTP 403")))());
    assert.equal(refused.code, status.UNAVAILABLE);
    assert.match(
      refused.message,
      /cannot read this node's zone \(label topology\.kubernetes\.io\/zone of Node w1\): reading Node w1: HTTP 403; the chart grants it/,
    );
    const bad = await statusOf(topologySource(settings(), nullLogger, labels({ w1: { [LABEL]: "zone a" } }))());
    assert.equal(bad.code, status.UNAVAILABLE);
  });
});

describe("apiNodeLabels: the Node through the API", () => {
  let kube: KubeApiStandin;
  let kc: KubeConfig;
  before(async () => {
    kube = await new KubeApiStandin().start();
    kc = new KubeConfig();
    kc.loadFromFile(await kube.kubeconfig());
  });
  after(async () => kube?.stop());

  test("its labels; none for a Node that does not exist; a refusal as NodeLabelsError with its status", async () => {
    kube.nodes = [{ metadata: { name: "w1", labels: { [LABEL]: "zone-a" } } }, { metadata: { name: "w2" } }];
    const read = apiNodeLabels(kc);
    assert.deepEqual(await read("w1"), { [LABEL]: "zone-a" });
    assert.deepEqual(await read("w2"), {});
    assert.equal(await read("w9"), undefined);
    assert.deepEqual(
      kube.requestsTo("GET", "/api/v1/nodes/").map((r) => r.path),
      ["/api/v1/nodes/w1", "/api/v1/nodes/w2", "/api/v1/nodes/w9"],
    );
    kube.failNext.set("GET /api/v1/nodes/w1", 403);
    await assert.rejects(read("w1"), (e: unknown) => e instanceof NodeLabelsError && e.httpStatus === 403 && /may not get nodes/.test(e.message));
  });

  test("end to end: a source over the API gives the zone of the node it runs on", async () => {
    kube.nodes = [{ metadata: { name: "w1", labels: { [LABEL]: "zone-c" } } }];
    assert.deepEqual(await topologySource(settings(), nullLogger, apiNodeLabels(kc))(), { [KEY]: "zone-c" });
  });

  test("outside a pod there is no in-cluster configuration", () => {
    assert.equal(inClusterKubeConfig({}), undefined);
  });
});

test("GBCSI_ZONE_LABEL: a label key, or a configuration error naming it", () => {
  assert.equal(nodeConfigFromEnv({}).zoneLabel, undefined);
  assert.equal(nodeConfigFromEnv({ GBCSI_ZONE_LABEL: "" }).zoneLabel, undefined);
  assert.equal(nodeConfigFromEnv({ GBCSI_ZONE_LABEL: LABEL }).zoneLabel, LABEL);
  assert.throws(
    () => nodeConfigFromEnv({ GBCSI_ZONE_LABEL: "zone label" }),
    (e: unknown) => e instanceof NodeConfigError && /GBCSI_ZONE_LABEL/.test(e.message),
  );
});
