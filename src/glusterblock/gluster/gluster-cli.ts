// The few questions blockd asks glusterd, through `gluster --mode=script
// --xml`, parsed as XML (never by splitting human output).
import { XMLParser } from "fast-xml-parser";
import { withSignal, type Exec } from "../../util/exec.js";
import { VolumeNotFoundError } from "../errors.js";

export interface VolumeInfo {
  name: string;
  started: boolean;
  type: string;
  replicaCount: number;
  bricks: string[];
  options: Record<string, string>;
}

export interface PoolPeer {
  /** every name glusterd knows the peer by; "localhost" for this node */
  hostnames: string[];
  connected: boolean;
  state: string;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (name) => ["volume", "brick", "option", "peer", "hostname"].includes(name),
});

type Node = Record<string, unknown>;
const obj = (v: unknown): Node => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Node) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === "" ? [] : [v]);
const text = (v: unknown): string =>
  typeof v === "string" ? v : typeof v === "number" ? String(v) : obj(v)["#text"] !== undefined ? String(obj(v)["#text"]) : "";

export class GlusterXmlError extends Error {
  override readonly name = "GlusterXmlError";
}

/** The `<cliOutput>` of a gluster --xml call, with opRet/opErrstr checked. */
export function parseCliOutput(xml: string): Node {
  let doc: Node;
  try {
    doc = obj(parser.parse(xml));
  } catch (err) {
    throw new GlusterXmlError(`gluster printed XML that does not parse: ${err instanceof Error ? err.message : String(err)}`);
  }
  const out = obj(doc.cliOutput);
  if (Object.keys(out).length === 0) throw new GlusterXmlError("gluster printed no <cliOutput>");
  return out;
}

export function parseVolumeInfo(xml: string, volume: string): VolumeInfo {
  const out = parseCliOutput(xml);
  if (text(out.opRet) !== "0") {
    const msg = text(out.opErrstr);
    if (/does not exist/i.test(msg)) throw new VolumeNotFoundError(volume);
    throw new GlusterXmlError(`gluster volume info ${volume}: ${msg || `opRet ${text(out.opRet)}`}`);
  }
  const vols = arr(obj(obj(out.volInfo).volumes).volume).map(obj);
  const v = vols.find((x) => text(x.name) === volume);
  if (!v) throw new VolumeNotFoundError(volume);
  const options: Record<string, string> = {};
  for (const o of arr(obj(v.options).option).map(obj)) options[text(o.name)] = text(o.value);
  return {
    name: text(v.name),
    started: text(v.statusStr) === "Started" || text(v.status) === "1",
    type: text(v.typeStr),
    replicaCount: Number(text(v.replicaCount)) || 1,
    bricks: arr(obj(v.bricks).brick).map((b) => text(obj(b).name) || text(b)),
    options,
  };
}

/** Every volume of `gluster volume info` (no name): name and whether it is started. */
export function parseAllVolumes(xml: string): { name: string; started: boolean }[] {
  const out = parseCliOutput(xml);
  if (text(out.opRet) !== "0") {
    if (/no volumes present/i.test(text(out.opErrstr))) return [];
    throw new GlusterXmlError(`gluster volume info: ${text(out.opErrstr) || "failed"}`);
  }
  return arr(obj(obj(out.volInfo).volumes).volume)
    .map(obj)
    .map((v) => ({ name: text(v.name), started: text(v.statusStr) === "Started" || text(v.status) === "1" }));
}

export function parsePoolList(xml: string): PoolPeer[] {
  const out = parseCliOutput(xml);
  if (text(out.opRet) !== "0") throw new GlusterXmlError(`gluster pool list: ${text(out.opErrstr) || "failed"}`);
  return arr(obj(out.peerStatus).peer)
    .map(obj)
    .map((p) => {
      const names = new Set<string>([text(p.hostname), ...arr(obj(p.hostnames).hostname).map(text)].filter((n) => n !== ""));
      return { hostnames: [...names], connected: text(p.connected) === "1", state: text(p.stateStr) };
    });
}

export interface GlusterCliOptions {
  exec: Exec;
  /** glusterd's socket when it is not the default (host tests run glusterd in namespaces) */
  glusterdSocket?: string;
  timeoutMs?: number;
}

export class GlusterCli {
  constructor(private readonly opts: GlusterCliOptions) {}

  /** The same CLI for one caller: its gluster calls end when `signal` fires. */
  withSignal(signal: AbortSignal): GlusterCli {
    return new GlusterCli({ ...this.opts, exec: withSignal(this.opts.exec, signal) });
  }

  private async run(args: string[]): Promise<string> {
    const base = ["--mode=script", "--xml", ...(this.opts.glusterdSocket ? [`--glusterd-sock=${this.opts.glusterdSocket}`] : [])];
    // with --xml, gluster exits non-zero on errors but prints the XML saying why (opRet, opErrstr)
    const r = await this.opts.exec("gluster", [...base, ...args], { timeoutMs: this.opts.timeoutMs ?? 30_000, okExitCodes: [1, 2, 255] });
    if (r.exitCode !== 0 && !r.stdout.includes("<cliOutput>")) {
      throw new GlusterXmlError(`gluster ${args.join(" ")}: exit code ${r.exitCode}: ${(r.stderr || r.stdout).trim().slice(-500)}`);
    }
    return r.stdout;
  }

  async volumeInfo(volume: string): Promise<VolumeInfo> {
    return parseVolumeInfo(await this.run(["volume", "info", volume]), volume);
  }

  async volumes(): Promise<{ name: string; started: boolean }[]> {
    return parseAllVolumes(await this.run(["volume", "info"]));
  }

  async poolList(): Promise<PoolPeer[]> {
    return parsePoolList(await this.run(["pool", "list"]));
  }
}
