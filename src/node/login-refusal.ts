// What an iSCSI login refused with iscsiadm exit 24 (ISCSI_ERR_LOGIN_AUTH_FAILED)
// was: the target's CHAP check, or its ACL (this initiator is on none: the
// volume is not published to this node, or is published elsewhere and this
// node is fenced off). iscsiadm prints the same words for both, so the target
// is asked (login-probe.ts); when the probe cannot tell, the error names both.
// Every message carries iscsiadm's own words, which the exec wrapper scrubbed
// of every secret in force (the stage request's CHAP password among them).
import { AuthFailedError, type RefusalCause } from "./errors.js";
import { LOGIN_STATUS, statusCodeOf, statusHex, type LoginProbe } from "./login-probe.js";

export interface RefusalFacts {
  targetIqn: string;
  portal: string;
  /** iscsiadm's lines, stdout and stderr, as the exec wrapper scrubbed them */
  iscsiadmSaid: readonly string[];
  /** this node's initiator name (initiatorname.iscsi) */
  initiatorIqn: () => Promise<string>;
  probe: LoginProbe;
  probeTimeoutMs: number;
  signal?: AbortSignal;
  /** iscsiadm's failure */
  cause: unknown;
}

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Asks the target why, and returns the error that says it. */
export async function explainRefusal(f: RefusalFacts): Promise<AuthFailedError> {
  const refused = `iSCSI login to ${f.targetIqn} at ${f.portal} was refused (iscsiadm exit 24)`;
  const said = f.iscsiadmSaid.length > 0 ? `; iscsiadm said: ${f.iscsiadmSaid.join(" ")}` : "";
  let cause: RefusalCause = "unknown";
  let why: string;
  try {
    const initiator = await f.initiatorIqn();
    const status = await f.probe({
      portal: f.portal,
      targetIqn: f.targetIqn,
      initiatorIqn: initiator,
      timeoutMs: f.probeTimeoutMs,
      ...(f.signal ? { signal: f.signal } : {}),
    });
    const code = statusCodeOf(status);
    if (code === LOGIN_STATUS.FORBIDDEN) {
      cause = "acl";
      why =
        `this node's initiator ${initiator} is not in the target's ACL (a probe login was answered ${statusHex(status)}, initiator not authorized): ` +
        "the volume is not published to this node, or it is published to another node and this one is fenced off; " +
        "ControllerPublishVolume puts a node on the ACL (see the volume's VolumeAttachment)";
    } else if (code === LOGIN_STATUS.SUCCESS && status.authMethod === "None") {
      why =
        `the target now admits this node's initiator ${initiator} without CHAP (a probe login was answered ${statusHex(status)}, AuthMethod=None): ` +
        "its ACL or authentication setting changed after the login was refused; the retry should get in";
    } else if (code === LOGIN_STATUS.SUCCESS || code === LOGIN_STATUS.AUTH_FAILED) {
      cause = "chap";
      why =
        `CHAP authentication failed: the target's ACL admits this node's initiator ${initiator} (a probe login offering no credentials was answered ${statusHex(status)}), ` +
        "so it refused the CHAP credentials (the username and password of the volume's node-stage Secret, wrong or missing)";
    } else {
      why = `CHAP authentication failed, or no ACL of the target admits this initiator; a probe login could not tell which (answered ${statusHex(status)})`;
    }
  } catch (err) {
    why = `CHAP authentication failed, or no ACL of the target admits this initiator (is the volume published to this node?); a probe login could not tell which: ${errText(err)}`;
  }
  return new AuthFailedError(`${refused}: ${why}${said}`, cause, { cause: f.cause });
}
