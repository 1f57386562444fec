// What a hosting volume and the nodes' LIO hold, for tests that prove what an
// operation changed (or did not): raw snapshots, a normalized view of one
// block, an audit from every node, and a wipe back to an empty volume.
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { EngineCluster } from "./engine-cluster.js";
import type { Logger } from "../../../src/util/log.js";
import { nullLogger } from "../../../src/util/log.js";
import { Auditor, type Finding } from "../../../src/glusterblock/engine/audit.js";
import { parseJournal } from "../../../src/glusterblock/journal/index.js";
import { readExtensions } from "../../../src/glusterblock/engine/extensions.js";
import type { LioBlockState } from "../../../src/glusterblock/lio/types.js";
import { IQN_PREFIX, wwidFor } from "../../../src/identity/names.js";
import { META_DIR, STORE_DIR, LOCK_DIR } from "../../../src/glusterblock/volume/block-store.js";

const listDir = (dir: string): Promise<string[]> =>
  readdir(dir).then(
    (n) => n.sort(),
    () => [],
  );

/** Every journal (raw), backing file (name and size), lock and node's LIO: equal strings mean nothing changed. */
export async function volumeSnapshot(c: EngineCluster, root: string): Promise<string> {
  const journals = await Promise.all(
    (await listDir(join(root, META_DIR))).filter((n) => !n.startsWith(".")).map(async (n) => `${n}:${await readFile(join(root, META_DIR, n), "utf8")}`),
  );
  const files = await Promise.all((await listDir(join(root, STORE_DIR))).map(async (f) => `${f}:${(await stat(join(root, STORE_DIR, f))).size}`));
  const locks = await listDir(join(root, LOCK_DIR));
  const lio: Record<string, string[]> = {};
  for (const [h, n] of c.nodes) lio[h] = n.configfs.userObjects();
  return JSON.stringify({ journals, files, locks, lio }, null, 1);
}

/** LIO's view without what differs between two equal runs (HBA indexes). */
export function normalizeLio(list: LioBlockState[]): unknown {
  return JSON.parse(JSON.stringify(list).replace(/"user_\d+"/g, '"user_N"')) as unknown;
}

/**
 * One block's end state, independent of how it got there: the journal's
 * resulting state (not its history: a retry appends lines), the backing
 * file's size, each node's LIO, and whether each node's CHAP password is the
 * journal's. `undefined` parts are absent.
 */
export async function blockState(c: EngineCluster, root: string, block: string): Promise<Record<string, unknown>> {
  const text = await readFile(join(root, META_DIR, block), "utf8").catch(() => undefined);
  let journal: unknown;
  let password = "";
  let gbid: string | undefined;
  if (text !== undefined) {
    const m = parseJournal(block, text);
    const ext = readExtensions(m);
    password = m.password;
    gbid = m.gbid;
    journal = {
      volume: m.volume,
      gbid: m.gbid,
      ha: m.ha,
      entryCreate: m.entryCreate,
      entryDelete: m.entryDelete,
      prioPath: m.prioPath,
      size: String(m.sizeBytes),
      auth: m.password !== "",
      hosts: Object.fromEntries(m.hosts.map((h) => [h.host, `${h.status}${h.resizeBytes !== undefined ? `-${h.resizeBytes}` : ""}`])),
      ext,
      torn: m.tornTail !== undefined,
    };
  }
  const files = await listDir(join(root, STORE_DIR));
  const fileSizes = Object.fromEntries(await Promise.all(files.map(async (f) => [f, (await stat(join(root, STORE_DIR, f))).size] as const)));
  const lio: Record<string, unknown> = {};
  const chap: Record<string, string> = {};
  for (const [h, n] of c.nodes) {
    lio[h] = normalizeLio(await n.lio.list());
    // list() never shows a password: read what the node's configfs holds
    const pw = n.configfs.paths().filter((p) => p.endsWith("/auth/password") && gbid !== undefined && p.includes(`${IQN_PREFIX}${gbid}/`));
    const values = new Set((await Promise.all(pw.map((p) => n.configfs.read(p)))).map((v) => v.trim()).filter((v) => v !== ""));
    chap[h] = values.size === 0 ? "none" : values.size === 1 && values.has(password) ? "journal's" : "OTHER";
  }
  return withoutIdentity({ journal, files: fileSizes, lio, chap, locks: await listDir(join(root, LOCK_DIR)) }, gbid);
}

/**
 * The block's GBID (random per create) and what derives from it (IQN, WWID,
 * file name) written as placeholders: two runs of the same operations make
 * equal states but not equal GBIDs. A second, different GBID stays visible.
 */
function withoutIdentity(state: Record<string, unknown>, gbid: string | undefined): Record<string, unknown> {
  if (gbid === undefined || gbid === "") return state;
  const text = JSON.stringify(state).split(gbid).join("<gbid>").split(wwidFor(gbid)).join("<wwid>");
  return JSON.parse(text) as Record<string, unknown>;
}

/** The audit as each node's gluster-blockd would run it (each sees its own LIO). */
export async function auditEveryNode(c: EngineCluster, fix: boolean, log: Logger = nullLogger): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const [i, h] of c.hosts.entries()) {
    const n = c.nodes.get(h);
    if (!n) throw new Error(`no node ${h}`);
    out.push(...(await new Auditor(c.engine(i + 1, { log }), n.local, n.lio, c.peers, log).audit(c.volume, fix)));
  }
  return out;
}

/** Back to an empty volume and empty LIO on every node, whatever state a test left. */
export async function wipeVolume(c: EngineCluster, root: string): Promise<void> {
  for (const n of c.nodes.values()) {
    n.configfs.crashAt = undefined;
    for (const b of await n.lio.list()) {
      const iqn = b.target?.iqn ?? (b.gbid ? `${IQN_PREFIX}${b.gbid}` : "");
      // through LocalNode when possible, so its target counts (placement) stay right
      if (b.name && b.gbid) await n.local.remove({ volume: c.volume, block: b.name, gbid: b.gbid });
      // (never an empty name or IQN: those would resolve to a parent directory)
      else await n.lio.remove({ name: b.name ?? "no-such-backstore", iqn: iqn || `${IQN_PREFIX}none` });
    }
  }
  for (const d of [META_DIR, STORE_DIR]) {
    for (const name of await listDir(join(root, d))) await rm(join(root, d, name), { recursive: true, force: true });
  }
}
