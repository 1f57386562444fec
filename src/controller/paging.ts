// ListVolumes paging. The token names the last volume ID returned, not an
// offset, so volumes created or deleted between pages neither repeat nor
// vanish from the listing. CSI: an unusable starting_token is ABORTED.
import { aborted, invalidArgument } from "../rpc/errors.js";

interface TokenBody {
  v: 1;
  after: string;
}

export function encodeToken(afterId: string): string {
  const body: TokenBody = { v: 1, after: afterId };
  return Buffer.from(JSON.stringify(body), "utf8").toString("base64url");
}

export function decodeToken(token: string): string {
  try {
    const body = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as unknown;
    if (
      body !== null &&
      typeof body === "object" &&
      (body as TokenBody).v === 1 &&
      typeof (body as TokenBody).after === "string" &&
      (body as TokenBody).after !== ""
    ) {
      return (body as TokenBody).after;
    }
  } catch {
    // fall through
  }
  throw aborted(`starting_token ${JSON.stringify(token.slice(0, 64))} is not a token this plugin issued`);
}

export interface Page {
  ids: string[];
  nextToken: string;
}

/** One page of `ids` (sorted ascending) after the token's ID, at most `maxEntries` (0 = all). */
export function pageOf(ids: readonly string[], startingToken: string, maxEntries: number): Page {
  if (!Number.isInteger(maxEntries) || maxEntries < 0) throw invalidArgument(`max_entries must not be negative, got ${maxEntries}`);
  const after = startingToken === "" ? undefined : decodeToken(startingToken);
  const rest = after === undefined ? [...ids] : ids.filter((id) => id > after);
  if (maxEntries === 0 || rest.length <= maxEntries) return { ids: rest, nextToken: "" };
  const page = rest.slice(0, maxEntries);
  return { ids: page, nextToken: encodeToken(page[page.length - 1] ?? "") };
}
