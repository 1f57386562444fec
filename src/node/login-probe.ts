// Why a target refused this node's login, asked of the target itself.
// iscsiadm cannot say: a CHAP failure (login status 0x0201) and an initiator
// no ACL admits (0x0202, "initiator not authorized") both become
// ISCSI_ERR_LOGIN_AUTH_FAILED in iscsid, and iscsiadm exits 24 printing the
// same lines for both (open-iscsi 2.1.8: usr/initiator.c
// __check_iscsi_status_class, usr/iscsi_err.c); only iscsid's log on the host
// has the detail. So the plugin sends the portal one iSCSI Login Request
// (RFC 7143 11.12) with this node's initiator name, the target's name and
// AuthMethod=CHAP,None, no secret; reads the Login Response's status (11.13);
// and closes the connection. LIO looks the initiator up in the portal group's
// ACLs on that first PDU (iscsi_target_locate_portal) and answers 0x0202 when
// none admits it; an initiator it admits gets status 0 and the target's choice
// of AuthMethod. The login goes no further: no session is made, and the ISID
// is of the random type, which open-iscsi never uses, so no session of this
// node is reinstated by it.
import { connect } from "node:net";
import { randomBytes } from "node:crypto";
import { splitPortal } from "../identity/portal.js";

export interface LoginStatus {
  statusClass: number;
  statusDetail: number;
  /** the target's AuthMethod answer ("CHAP", "None"), when it gave one */
  authMethod?: string;
}

export interface LoginProbeRequest {
  portal: string;
  targetIqn: string;
  initiatorIqn: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Sends one Login Request and returns the status of the target's answer; throws when there is none. */
export type LoginProbe = (r: LoginProbeRequest) => Promise<LoginStatus>;

/** Login Response status (class << 8 | detail), RFC 7143 11.13.5 */
export const LOGIN_STATUS = { SUCCESS: 0x0000, AUTH_FAILED: 0x0201, FORBIDDEN: 0x0202, TARGET_NOT_FOUND: 0x0203 } as const;

export const statusCodeOf = (s: LoginStatus): number => (s.statusClass << 8) | s.statusDetail;
export const statusHex = (s: LoginStatus): string => `0x${statusCodeOf(s).toString(16).padStart(4, "0")}`;

/** basic header segment */
const BHS_BYTES = 48;
const OP_LOGIN_REQUEST = 0x03;
const OP_LOGIN_RESPONSE = 0x23;
const OP_REJECT = 0x3f;
/** Login Request byte 1: T (transit) set, CSG 0 (security negotiation), NSG 1 (operational negotiation), as open-iscsi's first PDU with CHAP */
const LOGIN_FLAGS = 0x81;

/** An ISID of the random type (RFC 7143 10.12.5: T = 10b), never one of open-iscsi's (OUI type, 00b). */
export function randomIsid(): Buffer {
  const isid = randomBytes(6);
  isid[0] = 0x80;
  return isid;
}

/** The first Login Request of a new session (TSIH 0), its text keys NUL-terminated and padded to 4 bytes. */
export function encodeLoginRequest(initiatorIqn: string, targetIqn: string, isid: Buffer): Buffer {
  if (isid.length !== 6) throw new Error("an ISID is 6 bytes");
  const keys = [`InitiatorName=${initiatorIqn}`, `TargetName=${targetIqn}`, "SessionType=Normal", "AuthMethod=CHAP,None"];
  const text = Buffer.from(keys.map((k) => `${k}\0`).join(""), "utf8");
  const pdu = Buffer.alloc(BHS_BYTES + Math.ceil(text.length / 4) * 4);
  pdu[0] = 0x40 | OP_LOGIN_REQUEST; // immediate delivery, as every login PDU
  pdu[1] = LOGIN_FLAGS;
  // version-max and version-min 0, no AHS
  pdu.writeUIntBE(text.length, 5, 3);
  isid.copy(pdu, 8);
  // TSIH 0 (a new session), ITT 0, CID 0
  pdu.writeUInt32BE(1, 24); // CmdSN
  text.copy(pdu, BHS_BYTES);
  return pdu;
}

/** Bytes of a whole PDU whose header is `bhs` (data segment padded to 4 bytes; no AHS or digests at login). */
export function pduLength(bhs: Buffer): number {
  return BHS_BYTES + Math.ceil(bhs.readUIntBE(5, 3) / 4) * 4;
}

/** The status of a Login Response (and its AuthMethod key); throws for any other PDU. */
export function decodeLoginResponse(pdu: Buffer): LoginStatus {
  if (pdu.length < BHS_BYTES) throw new Error(`a login response header is ${BHS_BYTES} bytes, got ${pdu.length}`);
  const opcode = (pdu[0] ?? 0) & 0x3f;
  if (opcode === OP_REJECT) throw new Error("the target rejected the login request PDU (Reject)");
  if (opcode !== OP_LOGIN_RESPONSE) throw new Error(`the target answered with opcode 0x${opcode.toString(16)}, not a Login Response`);
  const text = pdu.subarray(BHS_BYTES, BHS_BYTES + pdu.readUIntBE(5, 3)).toString("utf8");
  const authMethod = text
    .split("\0")
    .find((kv) => kv.startsWith("AuthMethod="))
    ?.slice("AuthMethod=".length);
  return { statusClass: pdu[36] ?? 0, statusDetail: pdu[37] ?? 0, ...(authMethod !== undefined ? { authMethod } : {}) };
}

/** The probe over TCP to the portal (IPv4 or IPv6). */
export const probeLogin: LoginProbe = (r) =>
  new Promise<LoginStatus>((resolve, reject) => {
    const at = splitPortal(r.portal);
    if (!at) {
      reject(new Error(`portal ${JSON.stringify(r.portal)} is not ip:port`));
      return;
    }
    if (r.signal?.aborted) {
      reject(new Error("cancelled before the probe"));
      return;
    }
    const socket = connect({ host: at.host, port: at.port });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (err: Error | undefined, status?: LoginStatus): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      r.signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      if (err || !status) reject(err ?? new Error("no status"));
      else resolve(status);
    };
    const timer = setTimeout(() => finish(new Error(`no login response from ${r.portal} within ${r.timeoutMs} ms`)), r.timeoutMs);
    const onAbort = (): void => finish(new Error("cancelled"));
    r.signal?.addEventListener("abort", onAbort, { once: true });
    socket.on("connect", () => socket.write(encodeLoginRequest(r.initiatorIqn, r.targetIqn, randomIsid())));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < BHS_BYTES || received.length < pduLength(received)) return;
      try {
        finish(undefined, decodeLoginResponse(received));
      } catch (err) {
        finish(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.on("error", (err) => finish(err));
    socket.on("close", () => finish(new Error(`${r.portal} closed the connection before answering the login`)));
  });
