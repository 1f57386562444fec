// NodeGetInfo's facts: the node ID carries the host's initiator IQN (so the
// controller can put it on the targets' ACLs), max volumes, topology.
import { readFile } from "node:fs/promises";
import { isInitiatorName } from "../identity/initiator-name.js";

export class InitiatorNameError extends Error {
  override readonly name = "InitiatorNameError";
}

/** Reads "InitiatorName=iqn..." from open-iscsi's initiatorname.iscsi. */
export async function readInitiatorName(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new InitiatorNameError(`cannot read the initiator name from ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (const line of text.split("\n")) {
    const m = /^\s*InitiatorName\s*=\s*(\S+)\s*$/.exec(line);
    if (m?.[1]) {
      if (!isInitiatorName(m[1])) throw new InitiatorNameError(`${file}: ${JSON.stringify(m[1])} is not an iSCSI name`);
      return m[1];
    }
  }
  throw new InitiatorNameError(`${file} has no InitiatorName= line`);
}

/** "zone=a,rack=r1" -> {zone: "a", rack: "r1"} */
export function parseTopology(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new Error(`topology segment ${JSON.stringify(part)} is not key=value`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}
