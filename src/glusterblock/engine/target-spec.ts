// What one node's LIO must hold for a block, derived from its journal alone.
import type { BlockMeta } from "../journal/index.js";
import { cfgstringFor, iqnFor } from "../../identity/names.js";
import type { BlockTargetSpec } from "../lio/types.js";
import { readExtensions, haHosts } from "./extensions.js";

export function targetSpecFor(meta: BlockMeta, localHost: string, volfileServer: string): BlockTargetSpec {
  const ext = readExtensions(meta);
  const hosts = haHosts(meta, ext);
  return {
    name: meta.name,
    gbid: meta.gbid,
    cfgstring: cfgstringFor(meta.volume, volfileServer, meta.gbid, meta.ioTimeout),
    sizeBytes: Number(meta.sizeBytes),
    iqn: iqnFor(meta.gbid),
    hosts,
    localHost,
    ...(meta.prioPath && hosts.includes(meta.prioPath) ? { aoHost: meta.prioPath } : {}),
    ...(meta.password !== "" ? { auth: { userid: meta.gbid, password: meta.password } } : {}),
    generateNodeAcls: ext.aclMode !== "EXPLICIT",
    acls: ext.aclMode === "EXPLICIT" ? [...ext.initiators, ...ext.readOnlyInitiators] : [],
    ...(ext.aclMode === "EXPLICIT" && ext.readOnlyInitiators.length > 0 ? { readOnlyAcls: ext.readOnlyInitiators } : {}),
    ...(meta.ringBufferMb > 0 ? { ringBufferMb: meta.ringBufferMb } : {}),
    ...(meta.blockSize > 0 ? { hwBlockSize: meta.blockSize } : {}),
  };
}
