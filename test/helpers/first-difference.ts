// The first place two JSON-like values differ, as "<path>: <a> instead of <b>"
// ("" when they are equal): the fault matrices' convergence verdicts.
export function firstDifference(a: unknown, b: unknown, path = ""): string {
  if (JSON.stringify(a) === JSON.stringify(b)) return "";
  if (a && b && typeof a === "object" && typeof b === "object") {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
  }
  const show = (v: unknown): string => (JSON.stringify(v) ?? "undefined").slice(0, 240);
  return `${path || "."}: ${show(a)} instead of ${show(b)}`;
}
