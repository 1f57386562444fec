// winston JSON logging: one root logger per program with {service, node}, a
// child logger per request, level from a flag. Every line is scrubbed of the
// secrets in force (secrets.ts) at the call, before winston sees it, so the
// call's scope is the one that applies; and a log call never throws, whatever
// the metadata holds: a log line must not be what fails an operation.
import winston from "winston";
import { hostname } from "node:os";
import { safeValue, scrubText } from "./redact.js";
import { secretsInForce } from "./secrets.js";

export type LogLevel = "error" | "warn" | "info" | "debug";
export const LOG_LEVELS: readonly LogLevel[] = ["error", "warn", "info", "debug"];

export interface Logger {
  error(msg: string, meta?: Record<string, unknown>): void;
  warn(msg: string, meta?: Record<string, unknown>): void;
  info(msg: string, meta?: Record<string, unknown>): void;
  debug(msg: string, meta?: Record<string, unknown>): void;
  child(meta: Record<string, unknown>): Logger;
}

/** Metadata as a plain object, secrets scrubbed; anything but an object is kept under `meta`. */
function scrubbedMeta(meta: unknown, secrets: readonly string[]): Record<string, unknown> {
  const v = safeValue(meta, { secrets });
  if (v === undefined) return {};
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : { meta: v };
}

class ScrubbingLogger implements Logger {
  constructor(private readonly w: winston.Logger) {}
  error(msg: string, meta?: Record<string, unknown>): void {
    this.write("error", msg, meta);
  }
  warn(msg: string, meta?: Record<string, unknown>): void {
    this.write("warn", msg, meta);
  }
  info(msg: string, meta?: Record<string, unknown>): void {
    this.write("info", msg, meta);
  }
  debug(msg: string, meta?: Record<string, unknown>): void {
    this.write("debug", msg, meta);
  }
  child(meta: Record<string, unknown>): Logger {
    return new ScrubbingLogger(this.w.child(scrubbedMeta(meta, secretsInForce())));
  }
  private write(level: LogLevel, msg: string, meta: Record<string, unknown> | undefined): void {
    try {
      if (!this.w.isLevelEnabled(level)) return;
      const secrets = secretsInForce();
      this.w.log(level, scrubText(String(msg), secrets), scrubbedMeta(meta, secrets));
    } catch (err) {
      // a transport that throws: one plain line about it, and never the exception
      try {
        this.w.log(level, "a log line could not be written", { logError: err instanceof Error ? err.name : typeof err });
      } catch {
        // nothing left to tell
      }
    }
  }
}

export interface LoggerOptions {
  service: string;
  level?: LogLevel;
  node?: string;
  /** extra transport, used by tests to capture every line */
  stream?: NodeJS.WritableStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const transports: winston.transport[] = [
    opts.stream ? new winston.transports.Stream({ stream: opts.stream }) : new winston.transports.Stream({ stream: process.stderr }),
  ];
  const w = winston.createLogger({
    level: opts.level ?? "info",
    defaultMeta: { service: opts.service, node: opts.node ?? hostname() },
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports,
  });
  return new ScrubbingLogger(w);
}

/** A logger that drops everything: for unit tests and library callers that pass none. */
export const nullLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  child: () => nullLogger,
};
