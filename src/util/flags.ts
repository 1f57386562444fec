// Typed command-line flags for the three programs, over node:util parseArgs:
// unknown flags, missing values and bad values are UsageErrors, which the
// programs print with their usage and exit 2.
import { parseArgs } from "node:util";
import { LOG_LEVELS, type LogLevel } from "./log.js";

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface FlagSpec {
  type: "string" | "boolean";
  /** shown in usage */
  help: string;
  default?: string | boolean;
  short?: string;
  multiple?: boolean;
}

export type FlagSpecs = Record<string, FlagSpec>;

export interface ParsedFlags {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export function parseFlags(argv: readonly string[], specs: FlagSpecs): ParsedFlags {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean; default?: string | boolean }> = {};
  for (const [name, s] of Object.entries(specs)) {
    options[name] = {
      type: s.type,
      ...(s.short ? { short: s.short } : {}),
      ...(s.multiple ? { multiple: true } : {}),
      ...(s.default !== undefined ? { default: s.default } : {}),
    };
  }
  try {
    const r = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
    return { values: r.values as ParsedFlags["values"], positionals: r.positionals };
  } catch (err) {
    // parseArgs messages name the flag; drop its hint about "--" which confuses more than it helps
    const msg = err instanceof Error ? err.message.replace(/\. To specify a positional argument.*$/s, "") : String(err);
    throw new UsageError(msg);
  }
}

export function usageText(program: string, synopsis: string, specs: FlagSpecs, extra = ""): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const flag = `${s.short ? `-${s.short}, ` : "    "}--${name}${s.type === "string" ? " <value>" : ""}`;
    const def = s.default !== undefined && s.default !== false ? ` (default: ${String(s.default)})` : "";
    return `  ${flag.padEnd(34)} ${s.help}${def}`;
  });
  return `usage: ${program} ${synopsis}\n\n${extra ? `${extra}\n\n` : ""}flags:\n${rows.join("\n")}\n`;
}

/** Typed accessors that turn bad values into UsageErrors naming the flag. */
export function str(f: ParsedFlags, name: string): string | undefined {
  const v = f.values[name];
  return typeof v === "string" ? v : undefined;
}
export function bool(f: ParsedFlags, name: string): boolean {
  return f.values[name] === true;
}
export function strList(f: ParsedFlags, name: string): string[] {
  const v = f.values[name];
  const items = Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : typeof v === "string" ? [v] : [];
  return items
    .flatMap((x) => x.split(","))
    .map((x) => x.trim())
    .filter((x) => x !== "");
}
export function int(f: ParsedFlags, name: string, min: number, max: number): number | undefined {
  const v = str(f, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}
export function logLevel(f: ParsedFlags, name = "log-level"): LogLevel {
  const v = str(f, name) ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(v)}`);
  return v as LogLevel;
}
