// Secrets must never reach a log line or an error message (CVE-2020-10762 was
// gluster-block printing CHAP passwords). Two tools: scrubbing known secret
// *values* from any text, and key-based redaction for structured data. Which
// values are known, and for how long, is secrets.ts's business.

export const REDACTED = "***";

/**
 * Shorter values are never scrubbed from text: a registered `true` or `1234`
 * would shred ordinary words and numbers in every line, and a secret that
 * short is no secret. Structured data still hides them by key, and exec
 * replaces an argument that is exactly a secret whatever its length.
 */
export const MIN_SECRET_LENGTH = 8;

/** Keys whose values are secrets wherever they appear in structured data. */
const SECRET_KEY = /(secret|password|passwd|chap|token|key$|^key|credential|auth_?data)/i;

/**
 * Keys that name who or which, not what proves it: a CHAP username
 * (`username`, `node.session.auth.username`, mutual CHAP's `username_in`),
 * a Secret's name or namespace (`node-stage-secret-name`). Our CHAP username
 * is the volume's GBID, in every IQN and log line of the volume: registered
 * as a secret value, it would hide the volume from its own logs.
 */
const IDENTITY_KEY = /(^|[^a-z])(user(name)?|login)(_in|_out)?$|[-_.](name|namespace)$/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export function isIdentityKey(key: string): boolean {
  return IDENTITY_KEY.test(key);
}

/**
 * Replaces every occurrence of each secret value in `text`, and of its
 * JSON-escaped form (a secret with `"` or `\` inside JSON quoted in a
 * message). Values shorter than MIN_SECRET_LENGTH are left alone.
 */
export function scrubText(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < MIN_SECRET_LENGTH) continue;
    if (out.includes(s)) out = out.split(s).join(REDACTED);
    const escaped = JSON.stringify(s).slice(1, -1);
    if (escaped !== s && out.includes(escaped)) out = out.split(escaped).join(REDACTED);
  }
  return out;
}

export interface WalkOptions {
  /** replace the values of secret-named keys (request and response logging) */
  redactKeys?: boolean;
  /** values to scrub from every string */
  secrets?: Iterable<string>;
}

const MAX_DEPTH = 12;

/**
 * A plain, JSON-safe deep copy of `value` with secrets removed; never throws.
 * Circular references, BigInt, Errors (whose message and name JSON drops),
 * buffers, toJSON, and getters that throw all become something printable.
 */
export function safeValue(value: unknown, opts: WalkOptions = {}): unknown {
  const secrets = [...(opts.secrets ?? [])].filter((s) => s.length >= MIN_SECRET_LENGTH);
  const redactKeys = opts.redactKeys ?? false;
  const ancestors: object[] = [];
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === "string") return secrets.length > 0 ? scrubText(v, secrets) : v;
    if (typeof v === "bigint") return v.toString();
    if (typeof v === "symbol") return v.toString();
    if (typeof v === "function") return undefined;
    if (v === null || typeof v !== "object") return v;
    if (depth > MAX_DEPTH) return "[deep]";
    if (ancestors.includes(v)) return "[circular]";
    if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `[${v.length} bytes]`;
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? "Invalid Date" : v.toISOString();
    ancestors.push(v);
    try {
      if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
      if (!(v instanceof Error) && typeof (v as { toJSON?: unknown }).toJSON === "function") return walk((v as { toJSON(): unknown }).toJSON(), depth + 1);
      const out: Record<string, unknown> = v instanceof Error ? { name: v.name, message: walk(v.message, depth + 1) } : {};
      for (const k of Object.keys(v)) {
        let x: unknown;
        try {
          x = (v as Record<string, unknown>)[k];
        } catch {
          out[k] = "[unreadable]";
          continue;
        }
        out[k] = redactKeys && isSecretKey(k) && x !== "" && x !== undefined && x !== null ? REDACTED : walk(x, depth + 1);
      }
      return out;
    } catch {
      return "[unreadable]";
    } finally {
      ancestors.pop();
    }
  };
  try {
    return walk(value, 0);
  } catch {
    return "[unreadable]";
  }
}

/** Deep copy of `value` with secret-named keys replaced, and the given secret values scrubbed from strings. */
export function redactValue(value: unknown, secrets: Iterable<string> = []): unknown {
  return safeValue(value, { redactKeys: true, secrets });
}
