// A real winston logger whose JSON lines are kept in memory, so tests can
// assert what was (and was not) logged.
import { Writable } from "node:stream";
import { createLogger, type Logger, type LogLevel } from "../../src/util/log.js";

export interface CapturedLog {
  log: Logger;
  lines: string[];
  text(): string;
}

export function captureLog(level: LogLevel = "debug"): CapturedLog {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(
        ...chunk
          .toString("utf8")
          .split("\n")
          .filter((l) => l !== ""),
      );
      cb();
    },
  });
  const log = createLogger({ service: "test", level, stream });
  return { log, lines, text: () => lines.join("\n") };
}
