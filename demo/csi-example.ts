// Part 2, the same through the CSI driver, with this program in the role of
// the sidecars and kubelet: the controller runs on this host against the
// three blockd daemons, with a Kubernetes API stand-in that keeps the CHAP
// Secret; the node plugin runs on n1. CreateVolume -> ControllerPublish ->
// NodeStage -> NodePublish -> write, then the teardown in reverse.
import { status } from "@grpc/grpc-js";
import { setTimeout as delay } from "node:timers/promises";
import { BLOCKD_KEY, labControllerTls } from "../lab/harness/product.js";
import { NODE_SOCKET, STAGE_RETRIES, startNodePlugin, stopNodePlugin, traces, type CallResult } from "../lab/harness/node-plugin.js";
import { KubeApiStandin } from "../lab/harness/kube-api-standin.js";
import { mountCap, startController, type LocalController } from "../lab/harness/local-controller.js";
import { DEFAULT_DRIVER_NAME } from "../src/csi/identity-server.js";
import { chapSecretName } from "../src/controller/chap-secrets.js";
import { SECRET_KEYS } from "../src/csi/volume-context.js";
import type { CreateVolumeResponse__Output } from "../src/generated/csi/v1/CreateVolumeResponse.js";
import type { ControllerPublishVolumeResponse__Output } from "../src/generated/csi/v1/ControllerPublishVolumeResponse.js";
import {
  block,
  learnGbid,
  CSI_NAMESPACE,
  CSI_SIZE_BYTES,
  CSI_VOLUME_ID,
  NODE_RECORD_FILE,
  PUBLISH_PATH,
  PV_NAME,
  PVC,
  STAGING_PATH,
  STORAGE_CLASS,
  VOLUME,
  type DemoContext,
} from "./context.js";
import { blockListed, mountsNaming, writeAndCheck } from "./lab-steps.js";
import { nodeCalls } from "./node-calls.js";
import { describePv, quantity } from "./pv-describe.js";
import { HIDDEN } from "./secrets.js";
import { finishPart } from "./teardown.js";
import { Undo } from "./undo.js";

const FS_TYPE = "xfs";

export async function csiExample(ctx: DemoContext): Promise<void> {
  const { lab, log, initiator: n1 } = ctx;
  // named once CreateVolume answers (a GBID is random per create)
  let b = block(PV_NAME);
  const undo = new Undo();
  const cap = mountCap(FS_TYPE);
  let ctl: LocalController | undefined;
  let kube: KubeApiStandin | undefined;
  /** the API stand-in's Secrets, still readable after it stopped */
  let secrets: KubeApiStandin["secrets"] | undefined;
  const stopController = async (): Promise<void> => {
    const [c, k] = [ctl, kube];
    [ctl, kube] = [undefined, undefined];
    await c?.stop();
    await k?.stop();
  };
  try {
    undo.push(`stop the node plugin on ${n1.name}`, async () => {
      await stopNodePlugin(n1);
    });
    await log.step(
      `start the CSI node plugin on ${n1.name} (systemd unit gbcsi-node)`,
      () => startNodePlugin(n1),
      () => `unix://${NODE_SOCKET}`,
    );
    const nodeIdOf = (r: CallResult | undefined): string => (typeof r?.response?.node_id === "string" ? r.response.node_id : "");
    const [info] = await nodeCalls(log, n1, [{ method: "NodeGetInfo", request: {}, detail: (r) => `node_id ${nodeIdOf(r)} (what kubelet registers)` }]);
    const nodeId = nodeIdOf(info);
    if (nodeId === "") throw new Error("NodeGetInfo returned no node_id");

    undo.push("stop the controller and the Kubernetes API stand-in", stopController);
    ctl = await log.step(
      "start the CSI controller on this host",
      async () => {
        kube = await new KubeApiStandin().start();
        secrets = kube.secrets;
        const endpoints = lab.addresses.map((a) => `${a}:24010`);
        return startController({ endpoints, key: BLOCKD_KEY, tls: await labControllerTls(), kubeconfig: await kube.kubeconfig(), namespace: CSI_NAMESPACE });
      },
      () => `driver ${DEFAULT_DRIVER_NAME}; blockd on ${lab.addresses.join(", ")} port 24010; Secrets in a Kubernetes API stand-in`,
    );
    const controller = ctl;

    undo.push("DeleteVolume", async () => {
      await controller.call("DeleteVolume", { volume_id: CSI_VOLUME_ID }, 600_000);
      return `${CSI_VOLUME_ID}: block, its targets on 3 nodes and its Secret deleted`;
    });
    const created = await log.step(
      `CreateVolume ${PV_NAME} (${quantity(CSI_SIZE_BYTES)}, ${FS_TYPE}, hostingVolume ${VOLUME}, haCount 3)`,
      () =>
        asTheProvisioner(
          () =>
            controller.call<CreateVolumeResponse__Output>(
              "CreateVolume",
              {
                name: PV_NAME,
                capacity_range: { required_bytes: String(CSI_SIZE_BYTES) },
                volume_capabilities: [cap],
                parameters: {
                  hostingVolume: VOLUME,
                  haCount: "3",
                  "csi.storage.k8s.io/pv/name": PV_NAME,
                  "csi.storage.k8s.io/pvc/name": PVC.name,
                  "csi.storage.k8s.io/pvc/namespace": PVC.namespace,
                },
              },
              600_000,
            ),
          (why) => log.block(`CreateVolume answered ${why}; the provisioner calls again with the same request, and so does this demo`),
        ),
      (r) => `volume_id ${r.volume?.volume_id ?? "?"}`,
    );
    const volume = created.volume;
    if (!volume) throw new Error("CreateVolume returned no volume");
    learnGbid(PV_NAME, volume.volume_context?.gbid ?? "");
    b = block(PV_NAME);
    const secretName = chapSecretName(PV_NAME);
    const secret = secrets?.get(`${CSI_NAMESPACE}/${secretName}`);
    const data = (secret?.data ?? {}) as Record<string, string>;
    const chap = {
      username: Buffer.from(data[SECRET_KEYS.username] ?? "", "base64").toString(),
      password: Buffer.from(data[SECRET_KEYS.password] ?? "", "base64").toString(),
    };
    ctx.scrubber.hide(chap.password);
    log.say("  the PV external-provisioner would write (kubectl describe pv):");
    log.block(
      describePv({
        name: PV_NAME,
        driver: DEFAULT_DRIVER_NAME,
        storageClass: STORAGE_CLASS,
        claim: `${PVC.namespace}/${PVC.name}`,
        reclaimPolicy: "Delete",
        accessModes: "RWO",
        volumeMode: "Filesystem",
        capacityBytes: volume.capacity_bytes,
        fsType: FS_TYPE,
        volumeHandle: volume.volume_id,
        readOnly: false,
        attributes: volume.volume_context,
      }),
    );
    log.say(
      `  CHAP: Secret ${CSI_NAMESPACE}/${secretName} (the PV's node-stage secret): username=${chap.username}, password=${chap.password ? HIDDEN : "(missing)"}`,
    );
    if (chap.username !== b.gbid || chap.password === "") throw new Error(`the CHAP Secret ${CSI_NAMESPACE}/${secretName} is missing or incomplete`);

    undo.push(`ControllerUnpublishVolume from ${n1.name}`, async () => {
      await controller.call("ControllerUnpublishVolume", { volume_id: volume.volume_id, node_id: nodeId }, 300_000);
      return `${n1.name}'s initiator off the targets' ACLs`;
    });
    await log.step(
      `ControllerPublishVolume to ${n1.name}`,
      () =>
        controller.call<ControllerPublishVolumeResponse__Output>(
          "ControllerPublishVolume",
          { volume_id: volume.volume_id, node_id: nodeId, volume_capability: cap, readonly: false, volume_context: volume.volume_context },
          300_000,
        ),
      (r) => `${n1.name}'s initiator on the ACLs of 3 targets; publish_context ${JSON.stringify(r.publish_context ?? {})}`,
    );

    undo.pushLogged("NodeUnpublishVolume, NodeUnstageVolume", async () => {
      await nodeCalls(log, n1, [
        { method: "NodeUnpublishVolume", request: { volume_id: volume.volume_id, target_path: PUBLISH_PATH }, detail: () => `unmounted ${PUBLISH_PATH}` },
        {
          method: "NodeUnstageVolume",
          request: { volume_id: volume.volume_id, staging_target_path: STAGING_PATH },
          retries: 5,
          detail: () => "unmounted, map flushed, logged out of 3 portals, records deleted",
        },
      ]);
    });
    const stageRequest = {
      volume_id: volume.volume_id,
      publish_context: {},
      staging_target_path: STAGING_PATH,
      volume_capability: cap,
      secrets: { [SECRET_KEYS.username]: chap.username, [SECRET_KEYS.password]: chap.password },
      volume_context: volume.volume_context,
    };
    await nodeCalls(log, n1, [
      {
        method: "NodeStageVolume",
        request: stageRequest,
        retries: STAGE_RETRIES,
        detail: () => "CHAP login on 3 portals, WWID-checked map, mkfs.xfs, mounted at the staging path",
      },
      {
        method: "NodePublishVolume",
        request: {
          volume_id: volume.volume_id,
          staging_target_path: STAGING_PATH,
          target_path: PUBLISH_PATH,
          volume_capability: cap,
          readonly: false,
          volume_context: volume.volume_context,
        },
        detail: () => `bind mount at ${PUBLISH_PATH}`,
      },
    ]);

    await log.step(
      `on ${n1.name}: what the volume is made of`,
      async () => ({ ...(await traces(n1, b.iqn, b.wwid)), mounts: await mountsNaming(n1, PV_NAME) }),
      (t) => `${t.sessions} iSCSI sessions, ${t.paths} paths, ${t.maps} multipath map /dev/mapper/${b.wwid}, ${t.mounts} mounts (staging + pod)`,
    );
    await log.step(
      "the pod writes: 16 MiB and a file, sync, drop caches, read back",
      () => writeAndCheck(n1, PUBLISH_PATH),
      (r) => r,
    );
  } finally {
    await finishPart(ctx, undo, { name: `check: nothing of ${PV_NAME} is left`, run: () => nothingLeft(ctx, secrets) });
    // the controller lives in this process: with --keep too it goes (the volume stays)
    await stopController();
  }
}

async function nothingLeft(ctx: DemoContext, secrets: KubeApiStandin["secrets"] | undefined): Promise<string> {
  const b = block(PV_NAME);
  const t = await traces(ctx.initiator, b.iqn, b.wwid);
  const counts = {
    sessions: t.sessions,
    paths: t.paths,
    maps: t.maps,
    mounts: await mountsNaming(ctx.initiator, PV_NAME),
    nodeRecords: t.nodeRecords,
    wwids: t.wwids,
  };
  const left = Object.entries(counts)
    .filter(([, v]) => v !== 0)
    .map(([k, v]) => `${k}=${v}`);
  const record = (await ctx.initiator.run(`test -e ${NODE_RECORD_FILE}`)).code === 0;
  if (record) left.push("the node plugin's record");
  if (secrets && secrets.size > 0) left.push(`${secrets.size} Secret(s) in the Kubernetes API stand-in`);
  if (await blockListed(ctx.initiator, PV_NAME)) left.push(`${PV_NAME} still in gluster-block list`);
  if (left.length > 0) throw new Error(`left behind: ${left.join(", ")}`);
  return `${ctx.initiator.name}: 0 sessions, paths, maps, mounts, node records; Secret deleted; not in gluster-block list`;
}

/**
 * The external-provisioner calls CreateVolume again after a retryable answer
 * (a rolled-back create when one node's tcmu-runner could not open the volume
 * answers UNAVAILABLE); the demo plays it, so it does the same, a few times.
 */
async function asTheProvisioner<T>(call: () => Promise<T>, say: (why: string) => void): Promise<T> {
  const RETRYABLE = new Set<number>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.ABORTED, status.RESOURCE_EXHAUSTED]);
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (attempt >= 3 || typeof code !== "number" || !RETRYABLE.has(code)) throw err;
      say(`${status[code]} (${err instanceof Error ? err.message : String(err)})`);
      await delay(5_000);
    }
  }
}
