// Secrets must never reach a log line or an error message (CVE-2020-10762 was
// gluster-block printing CHAP passwords). Two tools: a registry of secret
// *values* to scrub from any text, and key-based redaction for structured data.

const REDACTED = "***";

/** Keys whose values are secrets wherever they appear in structured data. */
const SECRET_KEY = /(secret|password|passwd|chap|token|key$|^key|credential|auth_?data)/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Replace every occurrence of each secret value in `text`. Short values (<4 chars) are ignored: they would shred ordinary text. */
export function scrubText(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue;
    out = out.split(s).join(REDACTED);
  }
  return out;
}

/** Deep copy of `value` with secret-named keys replaced, and known secret values scrubbed from strings. */
export function redactValue(value: unknown, secrets: Iterable<string> = []): unknown {
  const list = [...secrets];
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > 12) return "[deep]";
    if (typeof v === "string") return list.length > 0 ? scrubText(v, list) : v;
    if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `[${v.length} bytes]`;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        out[k] = isSecretKey(k) && x !== "" && x !== undefined && x !== null ? REDACTED : walk(x, depth + 1);
      }
      return out;
    }
    return v;
  };
  return walk(value, 0);
}

/**
 * Process-wide registry of secret values seen at run time (CHAP passwords read
 * from Secrets or generated, TLS keys). The logger scrubs them from every line,
 * as a last line of defence behind the explicit redaction at each call site.
 */
class SecretRegistry {
  private readonly values = new Set<string>();
  add(...secrets: (string | undefined)[]): void {
    for (const s of secrets) if (s !== undefined && s.length >= 4) this.values.add(s);
  }
  delete(secret: string): void {
    this.values.delete(secret);
  }
  all(): Iterable<string> {
    return this.values;
  }
  scrub(text: string): string {
    return this.values.size === 0 ? text : scrubText(text, this.values);
  }
}

export const knownSecrets = new SecretRegistry();
