// The CSI node ID, from NodeGetInfo to ControllerPublishVolume: the node's
// name and its iSCSI initiator IQN, "<node-name>/<initiator-iqn>", so the
// controller can put the initiator on the targets' ACLs with no lookup.
import { invalidArgument } from "../rpc/errors.js";
import { isInitiatorName } from "../identity/initiator-name.js";

export interface NodeIdentity {
  nodeName: string;
  initiatorIqn: string;
}

/** CSI: node_id is at most 192 bytes. */
export const MAX_NODE_ID_BYTES = 192;

const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/i;

export function formatNodeId(n: NodeIdentity): string {
  if (!NODE_NAME.test(n.nodeName)) throw new Error(`node name ${JSON.stringify(n.nodeName)} is not a DNS name`);
  if (!isInitiatorName(n.initiatorIqn)) throw new Error(`initiator name ${JSON.stringify(n.initiatorIqn)} is not an iSCSI name`);
  const id = `${n.nodeName}/${n.initiatorIqn}`;
  if (Buffer.byteLength(id) > MAX_NODE_ID_BYTES) throw new Error(`node id longer than ${MAX_NODE_ID_BYTES} bytes`);
  return id;
}

export function parseNodeId(id: string): NodeIdentity {
  if (id === "") throw invalidArgument("node_id is required");
  const slash = id.indexOf("/");
  const nodeName = id.slice(0, slash);
  const initiatorIqn = id.slice(slash + 1);
  if (slash < 0 || !NODE_NAME.test(nodeName) || !isInitiatorName(initiatorIqn)) {
    throw invalidArgument(`node_id ${JSON.stringify(id)} is not of the form <node-name>/<initiator-iqn>`);
  }
  return { nodeName, initiatorIqn };
}
