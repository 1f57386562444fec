// Reading the gluster-block CLI's plain output ("KEY: value" lines, the
// original's format) for the few values the demo needs.

/** The value of the first `KEY: value` line, trimmed; undefined when there is none. */
export function cliField(out: string, key: string): string | undefined {
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const m = new RegExp(`^${escaped}:[ \\t]*(.*)$`, "m").exec(out);
  return m ? (m[1] ?? "").trim() : undefined;
}

/** The lines of multi-line output, empty ones dropped, joined with "; " (or `none`). */
export function oneLine(out: string, none = "nothing to do"): string {
  const lines = out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  return lines.length === 0 ? none : lines.join("; ");
}
