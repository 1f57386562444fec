// Peer and controller calls over TCP carry a shared key (a file every storage
// node and the controller mount); calls without it, or with another, are
// refused and logged. Unix socket callers (the local CLI) are root by the
// socket's file mode.
import { timingSafeEqual, createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Metadata } from "@grpc/grpc-js";
import { processSecrets } from "../util/secrets.js";

export const KEY_HEADER = "x-blockd-key";

export async function readPeerKey(path: string): Promise<string> {
  const key = (await readFile(path, "utf8")).trim();
  if (key.length < 16) throw new Error(`${path}: the shared key must be at least 16 characters`);
  // the process holds it for its life: a process secret
  processSecrets.add(key);
  return key;
}

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

export function keyMatches(expected: string, given: unknown): boolean {
  return typeof given === "string" && timingSafeEqual(digest(expected), digest(given));
}

export function withKey(key: string | undefined, md: Metadata = new Metadata()): Metadata {
  if (key) md.set(KEY_HEADER, key);
  return md;
}
