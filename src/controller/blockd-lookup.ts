// Small blockd queries shared by the handlers.
import { status } from "@grpc/grpc-js";
import { StatusError, invalidArgument, notFound } from "../rpc/errors.js";
import { parseVolumeId, type VolumeRef } from "../csi/volume-id.js";
import { parseNodeId, type NodeIdentity } from "../csi/node-id.js";
import type { BlockInfo__Output } from "../generated/glusterblock/v1/BlockInfo.js";
import type { BlockdClient, Caller } from "./blockd-client.js";

export const isCode = (err: unknown, code: status): boolean => err instanceof StatusError && err.code === code;

/** The block, or undefined when blockd says there is no such block or hosting volume. */
export async function findBlock(blockd: BlockdClient, ref: VolumeRef, caller: Caller = {}): Promise<BlockInfo__Output | undefined> {
  try {
    return await blockd.any("GetBlock", { volume: ref.hostingVolume, block: ref.block }, caller);
  } catch (err) {
    if (isCode(err, status.NOT_FOUND)) return undefined;
    throw err;
  }
}

/** A volume ID for calls on an existing volume: empty is INVALID_ARGUMENT; not one of ours cannot exist, so NOT_FOUND. */
export function existingRef(volumeId: string): VolumeRef {
  if (volumeId === "") throw invalidArgument("volume_id is required");
  try {
    return parseVolumeId(volumeId);
  } catch (err) {
    throw notFound(`volume ${JSON.stringify(volumeId.slice(0, 140))} does not exist: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A node ID for Publish: empty is INVALID_ARGUMENT; not of the form NodeGetInfo gives names no node, so NOT_FOUND. */
export function existingNode(nodeId: string): NodeIdentity {
  if (nodeId === "") throw invalidArgument("node_id is required");
  try {
    return parseNodeId(nodeId);
  } catch (err) {
    throw notFound(`node ${JSON.stringify(nodeId.slice(0, 200))} does not exist: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export async function requireBlock(blockd: BlockdClient, volumeId: string, ref: VolumeRef, caller: Caller = {}): Promise<BlockInfo__Output> {
  const info = await findBlock(blockd, ref, caller);
  if (!info || info.state === "deleting") throw notFound(`volume ${volumeId} does not exist`);
  return info;
}
