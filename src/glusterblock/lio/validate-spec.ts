// Reject specs LIO would half-accept: a bad value found after some objects
// exist would leave debris, so everything is checked before the first write.
// Names, GBID, IQN and block size follow identity's rules, the ones the
// engine and the CLI check: a spec no other layer would make is refused here.
import type { BlockTargetSpec } from "./types.js";
import { IQN_PREFIX, MAX_NAME_LENGTH, iqnFor, isGbid, isValidBlockName } from "../../identity/names.js";
import { isInitiatorName } from "../../identity/initiator-name.js";
import { BLOCK_SIZES, RING_BUFFER_MB, inRange } from "../../identity/limits.js";
import { LioInvalidSpecError } from "./errors.js";

export function validateSpec(spec: BlockTargetSpec): void {
  const bad = (why: string): never => {
    throw new LioInvalidSpecError(`block ${spec.name}: ${why}`);
  };
  if (!isValidBlockName(spec.name)) bad(`name must be 1-${MAX_NAME_LENGTH} of [A-Za-z0-9_-]`);
  if (!isGbid(spec.gbid)) bad("gbid is not a lower-case uuid");
  if (spec.iqn !== iqnFor(spec.gbid)) bad(`iqn must be ${IQN_PREFIX}<gbid>`);
  // the kernel's control parser splits on ',' and rtslib refuses ':'
  if (spec.cfgstring === "" || /[:,\s]/.test(spec.cfgstring) || !spec.cfgstring.includes(spec.gbid))
    bad("cfgstring must name the block's file and hold no ':', ',' or blanks");
  if (!Number.isSafeInteger(spec.sizeBytes) || spec.sizeBytes <= 0) bad("size must be a positive integer of bytes");
  if (spec.hosts.length === 0) bad("no HA hosts");
  if (new Set(spec.hosts).size !== spec.hosts.length) bad("HA hosts repeat");
  for (const h of spec.hosts) if (!/^[0-9A-Fa-f.:[\]]+$/.test(h)) bad(`host ${h} is not an IP address`);
  if (!spec.hosts.includes(spec.localHost)) bad(`local host ${spec.localHost} is not one of the HA hosts`);
  if (spec.aoHost !== undefined && !spec.hosts.includes(spec.aoHost)) bad(`PRIOPATH ${spec.aoHost} is not one of the HA hosts`);
  if (spec.auth) {
    if (spec.auth.userid === "" || spec.auth.password === "") bad("CHAP userid and password must be set");
    if (/[\s]/.test(spec.auth.userid) || /[\s]/.test(spec.auth.password) || spec.auth.password === "NULL" || spec.auth.userid === "NULL")
      bad("CHAP values must not be blank or NULL");
    if (spec.auth.userid.length > 255 || spec.auth.password.length > 255) bad("CHAP values are limited to 255 characters");
  }
  for (const a of spec.acls) if (!isInitiatorName(a)) bad(`initiator ${a} is not an iqn/eui/naa name`);
  for (const a of spec.readOnlyAcls ?? []) if (!spec.acls.includes(a)) bad(`read-only initiator ${a} is not one of the ACLs`);
  if (spec.generateNodeAcls && (spec.readOnlyAcls ?? []).length > 0) bad("read-only initiators need per-initiator ACLs, not generated ones");
  if (spec.ringBufferMb !== undefined && !inRange(spec.ringBufferMb, RING_BUFFER_MB)) bad(`ring buffer must be ${RING_BUFFER_MB.min}-${RING_BUFFER_MB.max} MB`);
  if (spec.hwBlockSize !== undefined && !BLOCK_SIZES.includes(spec.hwBlockSize)) bad(`block size must be one of ${BLOCK_SIZES.join(", ")}`);
  if (spec.cmdTimeOutSec !== undefined && (!Number.isInteger(spec.cmdTimeOutSec) || spec.cmdTimeOutSec < 0)) bad("cmd_time_out must be >= 0");
  if (spec.port !== undefined && (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535)) bad("bad port");
}
