// The three JSON layouts of the original CLI, which used json-c:
//   spaced (--json, --json-spaced):  { "K": "v", "L": [ "a", "b" ] }
//   plain  (--json-plain):           {"K":"v","L":["a","b"]}
//   pretty (--json-pretty):          2-space indent, no space after ':'
// json-c escapes '/' as '\/' in every layout (only the pretty sample shows a
// '/', but the escaping does not depend on the layout). Key order is the
// order given: values are built as ordered entries, never from a JS object.

export type JsonStyle = "plain" | "spaced" | "pretty";

export type JsonValue = string | number | null | readonly JsonValue[] | JsonObject;

export interface JsonObject {
  readonly kind: "object";
  readonly entries: readonly (readonly [string, JsonValue])[];
}

/** An ordered JSON object; entries whose value is undefined are left out. */
export function jsonObject(entries: readonly (readonly [string, JsonValue | undefined])[]): JsonObject {
  return { kind: "object", entries: entries.filter((e): e is readonly [string, JsonValue] => e[1] !== undefined) };
}

function isObject(v: JsonValue): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  "\\": "\\\\",
  "/": "\\/",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

/** json-c's string escaping: the named escapes, '\/', other control characters as \u00xx, the rest as is. */
export function jsonString(s: string): string {
  // eslint-disable-next-line no-control-regex
  const body = s.replace(/["\\/\u0000-\u001f]/g, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return `"${body}"`;
}

function indent(level: number, style: JsonStyle): string {
  return style === "pretty" ? "  ".repeat(level) : "";
}

function render(v: JsonValue, style: JsonStyle, level: number): string {
  if (v === null) return "null";
  if (typeof v === "string") return jsonString(v);
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new RangeError(`only integers are rendered, got ${v}`);
    return String(v);
  }
  const pretty = style === "pretty";
  const spaced = style === "spaced";
  const items: string[] = isObject(v)
    ? v.entries.map(([k, x]) => `${jsonString(k)}${spaced ? ": " : ":"}${render(x, style, level + 1)}`)
    : v.map((x) => render(x, style, level + 1));
  const [open, close] = isObject(v) ? ["{", "}"] : ["[", "]"];
  // json-c: pretty puts each child on its own line; spaced puts a space before each child and before the close
  let out = open + (pretty ? "\n" : "");
  items.forEach((item, i) => {
    if (i > 0) out += pretty ? ",\n" : ",";
    out += (spaced ? " " : "") + indent(level + 1, style) + item;
  });
  if (pretty) out += (items.length > 0 ? "\n" : "") + indent(level, style);
  return out + (spaced ? ` ${close}` : close);
}

/** Render `v` in `style`, without a trailing newline. */
export function renderJson(v: JsonValue, style: JsonStyle): string {
  return render(v, style, 0);
}
