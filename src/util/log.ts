// winston JSON logging: one root logger per program with {service, node}, a
// child logger per request, level from a flag. Every line passes through the
// secret scrubber before it is written.
import winston from "winston";
import { hostname } from "node:os";
import { knownSecrets } from "./redact.js";

export type LogLevel = "error" | "warn" | "info" | "debug";
export const LOG_LEVELS: readonly LogLevel[] = ["error", "warn", "info", "debug"];

export interface Logger {
  error(msg: string, meta?: Record<string, unknown>): void;
  warn(msg: string, meta?: Record<string, unknown>): void;
  info(msg: string, meta?: Record<string, unknown>): void;
  debug(msg: string, meta?: Record<string, unknown>): void;
  child(meta: Record<string, unknown>): Logger;
}

const scrub = winston.format((info) => {
  // scrub the serialised line's parts: message and all metadata values
  for (const key of Object.keys(info)) {
    const v = info[key];
    if (typeof v === "string") info[key] = knownSecrets.scrub(v);
    else if (v !== null && typeof v === "object") info[key] = JSON.parse(knownSecrets.scrub(JSON.stringify(v))) as unknown;
  }
  return info;
});

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
  return winston.createLogger({
    level: opts.level ?? "info",
    defaultMeta: { service: opts.service, node: opts.node ?? hostname() },
    format: winston.format.combine(scrub(), winston.format.timestamp(), winston.format.json()),
    transports,
  });
}

/** A logger that drops everything: for unit tests and library callers that pass none. */
export const nullLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  child: () => nullLogger,
};
