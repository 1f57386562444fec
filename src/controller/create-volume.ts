// CreateVolume: validate everything first (nothing is created for a bad
// request), then find or make the block. A retry with the same name finds
// the block it (or a crashed predecessor) made and converges it with the same
// size and hosts, so the answer is the same volume; a different size or HA
// set for the same name is ALREADY_EXISTS.
import { status } from "@grpc/grpc-js";
import type { CreateVolumeRequest__Output } from "../generated/csi/v1/CreateVolumeRequest.js";
import type { CreateVolumeResponse } from "../generated/csi/v1/CreateVolumeResponse.js";
import type { BlockInfo__Output } from "../generated/glusterblock/v1/BlockInfo.js";
import type { CreateBlockResponse__Output } from "../generated/glusterblock/v1/CreateBlockResponse.js";
import type { RpcContext } from "../rpc/rpc.js";
import { toStatusError } from "../rpc/rpc.js";
import { alreadyExists, failedPrecondition, internal, invalidArgument } from "../rpc/errors.js";
import { formatVolumeId, MAX_VOLUME_ID_BYTES } from "../csi/volume-id.js";
import { toVolumeContext } from "../csi/volume-context.js";
import { checkCapabilities } from "./capabilities.js";
import { createSize, sizeFits } from "./capacity.js";
import { blockNameFor } from "../identity/block-name.js";
import { PARAM, parseParameters, type VolumeParameters } from "./params.js";
import { placeVolume } from "./create-placement.js";
import { zoneRequirement, type ZoneRequirement } from "./zone-requirement.js";
import { formatOwner } from "./owner.js";
import { findBlock } from "./blockd-lookup.js";
import { eventTarget } from "./pvc-events.js";
import { controllerErrorMap } from "./errors.js";
import type { ControllerDeps } from "./deps.js";
import type { NodeLoad } from "./blockd-client.js";

interface Validated {
  name: string;
  params: VolumeParameters;
  fsType: string;
  mount: boolean;
  sizeBytes: bigint;
  block: string;
  volumeId: string;
  /** the accessibility requirement in zones: only with topology on, and only when it constrains */
  zones?: ZoneRequirement;
}

/** Every check that needs no I/O. Throws INVALID_ARGUMENT, OUT_OF_RANGE or FAILED_PRECONDITION. */
export function validateCreate(
  deps: Pick<ControllerDeps, "defaults" | "defaultSizeBytes" | "secrets" | "topology">,
  req: CreateVolumeRequest__Output,
): Validated {
  const name = req.name;
  if (!name) throw invalidArgument("name is required");
  const params = parseParameters(req.parameters ?? {}, deps.defaults);
  const caps = checkCapabilities(req.volume_capabilities);
  if (req.volume_content_source) throw invalidArgument("volume_content_source: snapshots and clones are not supported");
  if (caps.fsType && params.fsType && caps.fsType !== params.fsType) {
    throw invalidArgument(`parameter ${PARAM.fsType}: ${params.fsType} conflicts with the volume capability's fs_type ${caps.fsType}`);
  }
  const fsType = caps.fsType || params.fsType || deps.defaults.fsType;
  const sizeBytes = createSize(req.capacity_range, deps.defaultSizeBytes, caps.mount ? fsType : undefined);
  const block = blockNameFor(name);
  const volumeId = formatVolumeId({ hostingVolume: params.hostingVolume, block });
  if (Buffer.byteLength(volumeId) > MAX_VOLUME_ID_BYTES) {
    throw invalidArgument(
      `parameter ${PARAM.hostingVolume}: ${params.hostingVolume} is too long for a volume ID (${volumeId.length} > ${MAX_VOLUME_ID_BYTES} bytes)`,
    );
  }
  if (params.auth && !deps.secrets.enabled) {
    throw failedPrecondition(
      `parameter ${PARAM.auth} is true, but CHAP credentials are kept in Kubernetes Secrets and no Kubernetes API is configured; set ${PARAM.auth}: "false" or give the controller API access`,
    );
  }
  // topology off: the capability is not advertised, so a CO sends no requirement; one that comes anyway is not ours to honour
  const zones = deps.topology ? zoneRequirement(req.accessibility_requirements, deps.topology.key) : undefined;
  return { name, params, fsType, mount: caps.mount, sizeBytes, block, volumeId, ...(zones ? { zones } : {}) };
}

/**
 * A create cut short before its entry was complete ("creating") has its HA,
 * hosts and ACL mode in the journal, but not yet its SIZE or PASSWORD: the
 * retry brings them, and the engine checks the rest against the intent.
 */
const sizeRecorded = (info: BlockInfo__Output): boolean => info.state !== "creating";

/** Why an existing block is not the volume this request asks for ("" when it is). */
function mismatch(info: BlockInfo__Output, v: Validated, req: CreateVolumeRequest__Output): string {
  const diffs: string[] = [];
  if (sizeRecorded(info) && !sizeFits(BigInt(info.size_bytes), req.capacity_range)) diffs.push(`size ${info.size_bytes} bytes is outside the requested range`);
  if (info.ha !== v.params.haCount) diffs.push(`haCount ${info.ha}`);
  if (sizeRecorded(info) && info.auth !== v.params.auth) diffs.push(`auth ${String(info.auth)}`);
  if (info.acl_mode !== "ACL_MODE_EXPLICIT") diffs.push("it was not made through CSI (it admits any initiator)");
  const wantHosts = v.params.hosts?.slice(0, v.params.haCount);
  if (wantHosts && info.hosts.length > 0 && info.hosts.join(",") !== wantHosts.join(",")) diffs.push(`hosts ${info.hosts.join(",")}`);
  return diffs.join("; ");
}

/** CreateBlock on the first host's blockd (it coordinates: spread as the active paths are), or the next that connects. */
async function createBlock(
  deps: ControllerDeps,
  v: Validated,
  ctx: RpcContext,
  hosts: string[],
  nodes: readonly NodeLoad[],
  sizeBytes: bigint,
): Promise<{ r: CreateBlockResponse__Output; coordinator: string }> {
  const { params } = v;
  const endpointOfHost = new Map(nodes.map((n) => [n.host, n.endpoint]));
  const prefer = hosts.map((h) => endpointOfHost.get(h)).filter((e): e is string => e !== undefined);
  const coordinator = await deps.blockd.pick(prefer, ctx);
  const r = await deps.blockd.call(
    coordinator,
    "CreateBlock",
    {
      volume: params.hostingVolume,
      block: v.block,
      ha: params.haCount,
      hosts,
      auth: params.auth,
      prealloc: params.prealloc ? "PREALLOC_FULL" : "PREALLOC_NO",
      size_bytes: sizeBytes.toString(),
      ring_buffer_mb: params.ringBufferMb ?? 0,
      block_size: params.blockSize ?? 0,
      io_timeout_s: params.ioTimeoutS ?? 0,
      acl_mode: "ACL_MODE_EXPLICIT",
      owner: formatOwner({ csiName: v.name, ...(params.pvName ? { pvName: params.pvName } : {}), ...(params.pvc ? { pvc: params.pvc } : {}) }),
    },
    ctx,
  );
  return { r, coordinator };
}

export async function createVolume(deps: ControllerDeps, req: CreateVolumeRequest__Output, ctx: RpcContext): Promise<CreateVolumeResponse> {
  const v = validateCreate(deps, req);
  deps.hostingVolumes.note(v.params.hostingVolume);
  const release = deps.locks.lock(`name:${v.name}`, v.volumeId);
  try {
    return await createLocked(deps, req, v, ctx);
  } catch (err) {
    const e = toStatusError(err, controllerErrorMap);
    if (e.code !== status.ABORTED)
      await deps.events.emit(eventTarget(v.params), "Warning", "CreateBlockFailed", `gluster-block volume ${v.volumeId}: ${e.message}`);
    throw e;
  } finally {
    release();
  }
}

async function createLocked(deps: ControllerDeps, req: CreateVolumeRequest__Output, v: Validated, ctx: RpcContext): Promise<CreateVolumeResponse> {
  const { params } = v;
  const ref = { hostingVolume: params.hostingVolume, block: v.block };
  const existing = await findBlock(deps.blockd, ref, ctx);
  let sizeBytes = v.sizeBytes;
  const nodes = await deps.blockd.nodes(ctx);
  const same = existing && existing.state !== "deleting" ? existing : undefined;
  if (same) {
    const diff = mismatch(same, v, req);
    if (diff) throw alreadyExists(`volume ${v.name} exists (${v.volumeId}) with other parameters: ${diff}`);
    // the same block: converge it with its own size and hosts (the engine refuses any other)
    if (sizeRecorded(same)) sizeBytes = BigInt(same.size_bytes);
    ctx.log.info("volume exists; converging it", { volumeId: v.volumeId, state: same.state });
  }
  const placed = await placeVolume(deps, v, same, nodes);
  const { hosts, topology } = placed;
  let made: { r: CreateBlockResponse__Output; coordinator: string };
  try {
    made = await createBlock(deps, v, ctx, hosts, nodes, sizeBytes);
  } finally {
    placed.release();
  }
  const { r, coordinator } = made;
  if (params.auth) {
    if (!r.username || !r.password) throw internal(`gluster-blockd made ${v.volumeId} with auth but returned no CHAP credentials`);
    await deps.secrets.ensure({
      csiName: v.name,
      volumeId: v.volumeId,
      gbid: r.gbid,
      username: r.username,
      password: r.password,
      ...(params.pvName ? { pvName: params.pvName } : {}),
      ...(params.pvc ? { pvc: params.pvc } : {}),
    });
  }
  if (r.portals.length < params.haCount) {
    await deps.events.emit(
      eventTarget(params),
      "Warning",
      "DegradedHA",
      `gluster-block volume ${v.volumeId} is exported on ${r.portals.length} of ${params.haCount} hosts`,
    );
  }
  ctx.log.info(r.already_existed ? "volume already existed" : "volume created", {
    volumeId: v.volumeId,
    sizeBytes: r.size_bytes,
    hosts,
    coordinator,
    ...(deps.topology ? { zones: topology.map((t) => t.segments?.[deps.topology?.key ?? ""]) } : {}),
  });
  return {
    volume: {
      volume_id: v.volumeId,
      capacity_bytes: r.size_bytes,
      accessible_topology: topology,
      volume_context: toVolumeContext({
        iqn: r.iqn,
        portals: r.portals,
        lun: 0,
        hostingVolume: params.hostingVolume,
        gbid: r.gbid,
        ha: params.haCount,
        wwid: r.wwid,
        fsType: v.mount ? v.fsType : "",
        auth: params.auth,
      }),
    },
  };
}
