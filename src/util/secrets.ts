// Which secret values are scrubbed from text (log lines, error messages,
// Events), and for how long. Two scopes, both bounded:
//
// - the process's own: secrets it holds for its whole life (blockd's shared
//   key, a TLS private key, the one answer a CLI run prints). Registered
//   explicitly, once, at start; a cap guards against misuse.
// - one call's: values that arrive with an RPC (a CSI `secrets` map) or that
//   its handler reads or makes (a block's CHAP password). The RPC wrapper
//   opens a scope per call (AsyncLocalStorage, so code deep in the handler
//   registers without being handed anything) and releases it when the call
//   ends: a long-running plugin sees thousands of passwords, and keeping each
//   one for the life of the process grows without end and scrubs every
//   later line with values that no longer matter there.
//
// Outside a call (start-up, periodic work) a value offered for a call is not
// kept: the redaction at each call site is the defence there; this registry
// is the last line behind it.
import { AsyncLocalStorage } from "node:async_hooks";
import { MIN_SECRET_LENGTH, scrubText } from "./redact.js";

/** A bounded set of secret values; past its capacity the oldest go first. */
export class SecretSet {
  private readonly values = new Set<string>();
  private released = false;
  constructor(readonly capacity: number) {}

  add(...secrets: (string | undefined)[]): void {
    if (this.released) return;
    for (const s of secrets) {
      if (s === undefined || s.length < MIN_SECRET_LENGTH || this.values.has(s)) continue;
      this.values.add(s);
      if (this.values.size > this.capacity) this.values.delete(this.values.values().next().value as string);
    }
  }
  delete(secret: string): void {
    this.values.delete(secret);
  }
  /** Forgets every value and accepts no more: for a call that has ended (work it left behind may still hold the scope). */
  release(): void {
    this.released = true;
    this.values.clear();
  }
  get size(): number {
    return this.values.size;
  }
  [Symbol.iterator](): IterableIterator<string> {
    return this.values.values();
  }
}

/** Secrets this process owns for its lifetime; a handful of keys, so a cap far above any real use. */
export const processSecrets = new SecretSet(512);

/** A CSI ListVolumes may read the password of every block of a volume: room for many, but not without end. */
const CALL_CAPACITY = 4096;

const callScope = new AsyncLocalStorage<SecretSet>();

/** Runs `fn` (and everything it starts) in `scope`: what it registers as call secrets lands there. */
export function runWithCallSecrets<T>(scope: SecretSet, fn: () => T): T {
  return callScope.run(scope, fn);
}

export function newCallSecrets(): SecretSet {
  return new SecretSet(CALL_CAPACITY);
}

/** Registers secret values of the call this code runs for; outside a call it keeps nothing (see the file's comment). */
export function addCallSecrets(...secrets: (string | undefined)[]): void {
  callScope.getStore()?.add(...secrets);
}

/** The values to scrub here: the process's, and those of `scope` (by default the call this code runs for). */
export function secretsInForce(scope: SecretSet | undefined = callScope.getStore()): string[] {
  return scope ? [...processSecrets, ...scope] : [...processSecrets];
}

/** `text` without any secret in force here (or in `scope`). */
export function scrubSecrets(text: string, scope?: SecretSet): string {
  return scrubText(text, secretsInForce(scope));
}
