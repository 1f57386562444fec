// What every part of the demo shares: the lab, the step log, the flags, and
// the names of what the demo makes. The names are fixed, so a later run (or
// --cleanup) finds what an interrupted or --keep run left.
import type { Lab, LabNode } from "../lab/harness/lab.js";
import { NODE_STATE_DIR } from "../lab/harness/node-plugin.js";
import { DEFAULT_DRIVER_NAME } from "../src/csi/identity-server.js";
import { iqnFor, wwidFor } from "../src/identity/names.js";
import { recordFileName } from "../src/node/node-record.js";
import type { DemoFlags } from "./flags.js";
import type { Scrubber } from "./secrets.js";
import type { StepLog } from "./step-log.js";

export const VOLUME = "block-test";

/** the seed's example block, and where the hand-driven initiator mounts it */
export const SEED_BLOCK = "sample-block";
export const SEED_SIZE = "1GiB";
export const SEED_MOUNT = "/mnt/sample-block";

/** the PV external-provisioner would name after a claim's UID */
export const PV_NAME = "pvc-0d3e0c5a-1b2c-4d3e-8f40-5a6b7c8d9e0f";
export const PVC = { namespace: "demo", name: "demo-data" };
export const STORAGE_CLASS = "gluster-block";
export const CSI_SIZE_BYTES = 1024 ** 3;
export const CSI_NAMESPACE = "gluster-block-csi";
export const CSI_VOLUME_ID = `v1/${VOLUME}/${PV_NAME}`;
/** kubelet's paths for the PV on the node */
export const STAGING_PATH = `/var/lib/kubelet/plugins/kubernetes.io/csi/${DEFAULT_DRIVER_NAME}/${PV_NAME}/globalmount`;
export const PUBLISH_PATH = `/var/lib/kubelet/pods/0d3e0c5a-demo-pod/volumes/kubernetes.io~csi/${PV_NAME}/mount`;
export const NODE_RECORD_FILE = `${NODE_STATE_DIR}/volumes/${recordFileName(CSI_VOLUME_ID)}`;

export interface Block {
  name: string;
  gbid: string;
  iqn: string;
  wwid: string;
}

/** block name -> its GBID, as its create or `info` answered (GBIDs are random per create) */
const gbids = new Map<string, string>();
/** the nil UUID: a block whose GBID was never learned has no target to find */
const UNKNOWN_GBID = "00000000-0000-0000-0000-000000000000";

export function learnGbid(name: string, gbid: string): void {
  gbids.set(name, gbid);
}

export function block(name: string): Block {
  const gbid = gbids.get(name) ?? UNKNOWN_GBID;
  return { name, gbid, iqn: iqnFor(gbid), wwid: wwidFor(gbid) };
}

export interface DemoContext {
  lab: Lab;
  /** the initiator: the hand-driven one and the node plugin's worker (n1) */
  initiator: LabNode;
  log: StepLog;
  scrubber: Scrubber;
  flags: DemoFlags;
  /** teardown failures: the demo fails even when every step before them passed */
  problems: string[];
}

export const portalsOf = (lab: Lab): string[] => lab.addresses.map((a) => `${a}:3260`);
