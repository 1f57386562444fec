// The fault matrix on the real stack (issue 9): gluster-blockd on the three lab
// VMs, the CSI controller on the host (a Kubernetes API stand-in holds the CHAP
// Secrets), this test playing the sidecars. For CreateVolume (ha 3, CHAP),
// DeleteVolume, ControllerExpandVolume, ControllerPublishVolume and
// ControllerUnpublishVolume, the coordinating gluster-blockd is killed with
// SIGKILL right after one durable engine step (the test-only crash hook,
// src/glusterblock/blockd/test-crash-hook.ts: no cleanup, its lock file stays
// on the volume, its lock goes with it); the call fails; the dead daemon is restarted; the call is
// retried as the sidecar would (same request, backoff, bounded attempts).
// Every cell must end where an uninterrupted run ends (listed, the blockd
// info fields, the journal's resulting state, the backing file, LIO with its
// ACLs and CHAP on every node, the CHAP Secret) with no lock file left, and
// `gluster-block audit` on every node must find nothing.
//
// The steps are not listed here: each operation runs once uninterrupted, and
// the steps blockd logs ("engine step", debug) are the matrix's columns.
//
// A killed daemon's block lock (volume/block-lock.ts, a flock the bricks hold
// for its open file) is free again at once; cells still run in batches (they
// were made to overlap the 120 s lease the lock used to be): each cell of a batch has its own volume and is stopped (and
// its daemon restarted) in turn, then the batch's cells are retried in turn,
// then the audit runs and the volumes are deleted.
//
// Size: E2E_FAULTS=full: every step of every operation; E2E_QUICK=1 (CI) or
// E2E_FAULTS=quick: one cell, CreateVolume stopped once its journal says
// the block is made (the re-issued create the safety review found could
// delete a block), its reference run beside it, each about 7 minutes here
// (test/integration/fault-matrix.test.ts stops every operation after every
// step on real glusterd in every CI run); otherwise (E2E_FAULTS=medium) one
// step of each operation. E2E_FAULT_ONLY=
// "<operation>[:<step>],..." picks cells by hand.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { ensureLab, type Lab, type LabNode } from "../../lab/harness/lab.js";
import { buildProduct, startBlockd, stopBlockdEverywhere, cli, BLOCKD_KEY, labControllerTls } from "../../lab/harness/product.js";
import { KubeApiStandin } from "../../lab/harness/kube-api-standin.js";
import { startController, mountCap, MiB, type LocalController } from "../../lab/harness/local-controller.js";
import { iqnFor, wwidFor } from "../../src/identity/names.js";
import { parseJournal } from "../../src/glusterblock/journal/index.js";
import { readExtensions } from "../../src/glusterblock/engine/extensions.js";
import { TEST_HOOKS_ENV, CRASH_FILE_ENV } from "../../src/glusterblock/blockd/test-crash-hook.js";
import { BLOCKD_CONTAINER, blockdDaemonSet, containerPathOf } from "../../lab/harness/lab-chart.js";
import type { ListVolumesResponse__Output } from "../../src/generated/csi/v1/ListVolumesResponse.js";
import type { ControllerGetVolumeResponse__Output } from "../../src/generated/csi/v1/ControllerGetVolumeResponse.js";
import { firstDifference } from "../helpers/first-difference.js";

type OpName = "CreateVolume" | "DeleteVolume" | "ControllerExpandVolume" | "ControllerPublishVolume" | "ControllerUnpublishVolume";
type Mode = "quick" | "medium" | "full";

function mode(): Mode {
  const f = process.env.E2E_FAULTS;
  if (f === "quick" || f === "medium" || f === "full") return f;
  if (f !== undefined && f !== "") throw new Error(`E2E_FAULTS must be quick, medium or full, got ${JSON.stringify(f)}`);
  return process.env.E2E_QUICK === "1" ? "quick" : "medium";
}

const MODE = mode();
const HV = "block-test";
const NS = "gluster-block-csi";
const SIZE = 320 * MiB; // xfs: at least 300 MiB (mkfs.xfs's floor; the controller rounds up to it)
const EXPANDED = 384 * MiB;
/** on the node; blockd's container sees it through its host /run mount */
const CRASH_FILE = "/run/gluster-blockd-test-crash";
const HOOK_ENV = { [TEST_HOOKS_ENV]: "1", [CRASH_FILE_ENV]: containerPathOf(blockdDaemonSet(), BLOCKD_CONTAINER, CRASH_FILE) };
const MOUNT = "/mnt/fault-matrix";
/** a worker that never logs in: ControllerPublish only puts it on the ACLs */
const INITIATOR = "iqn.2004-10.com.example:fault-matrix-worker";
const NODE_ID = `worker-1/${INITIATOR}`;
const CALL_MS = 300_000;
/** as the sidecars: exponential backoff, bounded; each busy answer takes blockd's 30 s wait */
const MAX_ATTEMPTS = 10;
const BACKOFF_START_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
const RETRYABLE = new Set<number>([status.UNAVAILABLE, status.ABORTED, status.DEADLINE_EXCEEDED, status.RESOURCE_EXHAUSTED, status.INTERNAL]);
const BATCH = Number(process.env.E2E_FAULT_BATCH ?? "") || 3;
/** the quick subset's step per operation, when the run has it (else its middle step) */
const QUICK_STEP: Partial<Record<OpName, string>> = { CreateVolume: "journal:create-done", DeleteVolume: "journal:cleanup-result" };

let lab: Lab | undefined;
let kube: KubeApiStandin | undefined;
let ctl: LocalController | undefined;
const t0 = performance.now();
const cells: Cell[] = [];
const live = new Set<string>();

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const say = (line: string): void => console.log(`FAULTS [${secs(performance.now() - t0).padStart(7)}] ${line}`);
const volumeId = (pv: string): string => `v1/${HV}/${pv}`;
const codeName = (code: number): string => {
  const name: string | undefined = status[code];
  return name ?? `code ${code}`;
};

// --- the operations -----------------------------------------------------------

const createReq = (pv: string) => ({
  name: pv,
  capacity_range: { required_bytes: String(SIZE) },
  volume_capabilities: [mountCap("xfs")],
  parameters: {
    hostingVolume: HV,
    haCount: "3",
    auth: "true",
    "csi.storage.k8s.io/pv/name": pv,
    "csi.storage.k8s.io/pvc/name": "data",
    "csi.storage.k8s.io/pvc/namespace": "e2e-faults",
  },
});

const csi = (method: string, req: unknown): Promise<unknown> => {
  if (!ctl) throw new Error("no controller");
  return ctl.call(method, req, CALL_MS);
};

const run: Record<OpName, (pv: string) => Promise<unknown>> = {
  CreateVolume: (pv) => csi("CreateVolume", createReq(pv)),
  DeleteVolume: (pv) => csi("DeleteVolume", { volume_id: volumeId(pv) }),
  ControllerExpandVolume: (pv) =>
    csi("ControllerExpandVolume", { volume_id: volumeId(pv), capacity_range: { required_bytes: String(EXPANDED) }, volume_capability: mountCap("xfs") }),
  ControllerPublishVolume: (pv) => csi("ControllerPublishVolume", { volume_id: volumeId(pv), node_id: NODE_ID, volume_capability: mountCap("xfs") }),
  ControllerUnpublishVolume: (pv) => csi("ControllerUnpublishVolume", { volume_id: volumeId(pv), node_id: NODE_ID }),
};

/** What must hold before the operation: the operations run before it, uninterrupted. */
const PRECONDITION: Record<OpName, OpName[]> = {
  CreateVolume: [],
  DeleteVolume: ["CreateVolume"],
  ControllerExpandVolume: ["CreateVolume"],
  ControllerPublishVolume: ["CreateVolume"],
  ControllerUnpublishVolume: ["CreateVolume", "ControllerPublishVolume"],
};
/** one uninterrupted chain makes every reference: each operation's precondition is what the ones before it left */
const REFERENCE_CHAIN: OpName[] = ["CreateVolume", "ControllerPublishVolume", "ControllerUnpublishVolume", "ControllerExpandVolume", "DeleteVolume"];

interface CallResult {
  ok: boolean;
  attempts: number;
  /** the codes that were retried */
  retried: string[];
  error?: string;
}

/** One CSI call as a sidecar makes it: the same request again after a backoff on a retryable code, at most MAX_ATTEMPTS. */
async function asSidecar(what: string, fn: () => Promise<unknown>): Promise<CallResult> {
  const retried: string[] = [];
  let backoff = BACKOFF_START_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      await fn();
      return { ok: true, attempts: attempt, retried };
    } catch (err) {
      const e = err as { code?: unknown; details?: unknown; message?: unknown };
      const code = typeof e.code === "number" ? e.code : -1;
      const text = `${codeName(code)}: ${typeof e.details === "string" && e.details !== "" ? e.details : String(e.message ?? err)}`;
      if (!RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) {
        return {
          ok: false,
          attempts: attempt,
          retried,
          error: `${RETRYABLE.has(code) ? `still failing after ${attempt} attempts` : `not retryable (attempt ${attempt})`}: ${text}`,
        };
      }
      retried.push(codeName(code));
      say(`  ${what}: attempt ${attempt} got ${text.slice(0, 200)}; again in ${backoff / 1000}s`);
      await sleep(backoff);
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    }
  }
}

async function mustSucceed(what: string, fn: () => Promise<unknown>): Promise<void> {
  const r = await asSidecar(what, fn);
  if (!r.ok) throw new Error(`${what}: ${r.error ?? "failed"}`);
}

// --- the lab ----------------------------------------------------------------------

function node(i: number): LabNode {
  if (!lab) throw new Error("no lab");
  return lab.node(i);
}

/** Output split at "#name" lines. */
function sections(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur = "";
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (line.startsWith("#")) out.set((cur = line.slice(1)), []);
    else if (line !== "") out.get(cur)?.push(line);
  }
  return out;
}

/** pv -> the GBID its journal named when last read (random per create: kept for after the journal is gone) */
const gbids = new Map<string, string>();
const gbidOf = (pv: string): string => gbids.get(pv) ?? "00000000-0000-0000-0000-000000000000";

/** The hosting volume through a mount of our own on n1 (blockd's comes and goes with its restarts). */
async function volumeFiles(pv: string): Promise<{ journal?: string; file: string; locks: string[] }> {
  const r = await node(1).must(
    `m=${MOUNT}; mountpoint -q $m || { mkdir -p $m; mount -t glusterfs ${node(1).address}:/${HV} $m; }
     g=$(sed -n 's/^GBID: //p' $m/block-meta/${pv} 2>/dev/null | head -n1); [ -n "$g" ] || g='${gbidOf(pv)}'
     echo '#gbid'; echo "$g"
     echo '#journal'; [ -f $m/block-meta/${pv} ] && base64 -w0 $m/block-meta/${pv}; echo
     echo '#file'; stat -c %s "$m/block-store/$g" 2>/dev/null || echo absent
     echo '#locks'; ls -A $m/block-meta/.locks 2>/dev/null | grep -F '${pv}' || true`,
    { timeoutMs: 300_000 },
  );
  const s = sections(r.stdout);
  const g = s.get("gbid")?.[0] ?? "";
  if (/^[0-9a-f-]{36}$/.test(g)) gbids.set(pv, g);
  const j = s.get("journal")?.[0];
  return { ...(j ? { journal: Buffer.from(j, "base64").toString("utf8") } : {}), file: s.get("file")?.[0] ?? "?", locks: s.get("locks") ?? [] };
}

/** One node's LIO objects of the block (TPGs by portal, ACLs, LUNs, backstore and its size) and every CHAP password set on them. */
async function lioOf(n: LabNode, pv: string): Promise<{ objects: string[]; passwords: string[] }> {
  const iqn = iqnFor(gbidOf(pv));
  const r = await n.must(
    `cd /sys/kernel/config/target; t=iscsi/${iqn}
     echo '#objects'
     if [ -d $t ]; then
       echo target
       for tp in $t/tpgt_*; do
         [ -d $tp ] || continue
         id="tpg[$(ls $tp/np | tr '\\n' ' ' | sed 's/ $//')]"
         echo "$id enable=$(cat $tp/enable) authentication=$(cat $tp/attrib/authentication) generate_node_acls=$(cat $tp/attrib/generate_node_acls)"
         for x in $tp/acls/* $tp/lun/*; do [ -e "$x" ] && echo "$id $(basename $(dirname $x)) $(basename $x)"; done
       done
     fi
     for d in core/user_*/${pv}; do [ -d "$d" ] && echo "backstore$(grep -o ' Size: [0-9]*' $d/info)"; done
     echo '#passwords'; for f in $(find $t -path '*/auth/password' 2>/dev/null); do cat $f; done; true`,
    { timeoutMs: 300_000 },
  );
  const s = sections(r.stdout);
  // TPGs by their portal, not their number: the number follows the HA host order, which placement chooses
  return { objects: [...(s.get("objects") ?? [])].sort(), passwords: s.get("passwords") ?? [] };
}

/** `gluster-block audit` (dry run) on every node at once: the output of each that reports anything. */
async function auditEveryNode(): Promise<string[]> {
  if (!lab) throw new Error("no lab");
  const rs = await Promise.all(lab.nodes.map(async (n) => ({ n, r: await cli(n, ["audit", HV]) })));
  return rs
    .filter(({ r }) => r.code !== 0 || r.stdout !== `VOLUME: ${HV}\nRESULT: SUCCESS\n`)
    .map(({ n, r }) => `${n.name}: exit ${r.code}: ${(r.stdout + r.stderr).trim().replace(/\n/g, " | ")}`);
}

/** Keys sorted, so two equal states print the same. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  return v;
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown }).code === status.NOT_FOUND;
}

/**
 * One volume's end state, independent of how it got there and of its name:
 * what the controller lists and reports, the journal's resulting state (not
 * its history: a retry appends lines; not placement: hosts are sorted, the
 * prio path only has to be one of them), the backing file, each node's LIO,
 * whose CHAP password each node and the Secret hold, and lock files left.
 */
async function endState(pv: string): Promise<Record<string, unknown>> {
  if (!lab || !ctl || !kube) throw new Error("not started");
  const vid = volumeId(pv);
  const listed = (await ctl.call<ListVolumesResponse__Output>("ListVolumes", {}, CALL_MS)).entries.some((e) => e.volume?.volume_id === vid);
  let volume: unknown = "absent";
  try {
    const v = await ctl.call<ControllerGetVolumeResponse__Output>("ControllerGetVolume", { volume_id: vid }, CALL_MS);
    const ctx = { ...v.volume?.volume_context };
    if (ctx.portals) ctx.portals = ctx.portals.split(",").sort().join(",");
    volume = {
      capacity: v.volume?.capacity_bytes,
      context: ctx,
      abnormal: v.status?.volume_condition?.abnormal,
      condition: v.status?.volume_condition?.message,
      published: v.status?.published_node_ids,
    };
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const files = await volumeFiles(pv);
  const gbid = gbidOf(pv);
  let journal: unknown = "absent";
  let password = "";
  if (files.journal !== undefined) {
    const m = parseJournal(pv, files.journal);
    const ext = readExtensions(m);
    password = m.password;
    const hosts = [...(ext.hosts ?? [])].sort();
    journal = {
      volume: m.volume,
      gbid: m.gbid,
      ha: m.ha,
      entryCreate: m.entryCreate,
      entryDelete: m.entryDelete,
      prioPathIsAHost: hosts.includes(m.prioPath),
      size: String(m.sizeBytes),
      auth: m.password !== "",
      hosts: Object.fromEntries(m.hosts.map((h) => [h.host, `${h.status}${h.resizeBytes !== undefined ? `-${h.resizeBytes}` : ""}`])),
      ext: { ...ext, hosts },
      torn: m.tornTail !== undefined,
    };
  }
  const whose = (values: string[]): string => {
    const set = new Set(values.filter((v) => v !== ""));
    return set.size === 0 ? "none" : set.size === 1 && password !== "" && set.has(password) ? "journal's" : "OTHER";
  };
  const lio: Record<string, unknown> = {};
  const chap: Record<string, string> = {};
  await Promise.all(
    lab.nodes.map(async (n) => {
      const l = await lioOf(n, pv);
      lio[n.name] = l.objects;
      chap[n.name] = whose(l.passwords);
    }),
  );
  const s = kube.secrets.get(`${NS}/gluster-block-chap-${pv}`);
  let secret: unknown = "absent";
  if (s) {
    const data = s.data as Record<string, string>;
    const user = Buffer.from(data.username ?? "", "base64").toString();
    secret = { username: user === gbid ? "the GBID" : "OTHER", password: whose([Buffer.from(data.password ?? "", "base64").toString()]) };
  }
  const state = canonical({ listed, volume, journal, file: files.file, lio, chap, secret, leases: files.locks });
  // the volume's own names, so that states of volumes with other names compare
  let text = JSON.stringify(state);
  for (const [from, to] of [
    [iqnFor(gbid), "<IQN>"],
    [wwidFor(gbid), "<WWID>"],
    [gbid, "<GBID>"],
    [pv, "<PV>"],
  ] as const)
    text = text.split(from).join(to);
  return JSON.parse(text) as Record<string, unknown>;
}

// --- blockd's step log and the crash hook ----------------------------------------

async function journalCursor(n: LabNode): Promise<string> {
  const r = await n.must("journalctl -u gluster-blockd -n 1 --show-cursor -o cat --no-pager | sed -n 's/^-- cursor: //p'");
  return r.stdout.trim();
}

/** The engine steps blockd logged after the cursor, in order. */
async function stepsSince(n: LabNode, cursor: string): Promise<string[]> {
  const after = cursor ? `--after-cursor='${cursor}'` : "";
  const r = await n.must(`journalctl -u gluster-blockd -o cat --no-pager ${after} | grep -F '"engine step"' || true`);
  const steps: string[] = [];
  for (const line of r.stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const j = JSON.parse(line) as { message?: string; step?: string };
    if (j.message === "engine step" && j.step) steps.push(j.step);
  }
  return steps;
}

/** Arms every node: whichever daemon coordinates the call dies after `step`. */
async function arm(step: string): Promise<void> {
  if (!lab) throw new Error("no lab");
  await Promise.all(lab.nodes.map((n) => n.must(`printf '%s\\n' '${step}' > ${CRASH_FILE}`)));
}

async function disarm(): Promise<void> {
  if (!lab) throw new Error("no lab");
  await Promise.all(lab.nodes.map((n) => n.run(`rm -f ${CRASH_FILE}`)));
}

/** The nodes whose daemon fired the hook (its file consumed) and is down. */
async function crashedNodes(): Promise<LabNode[]> {
  if (!lab) throw new Error("no lab");
  for (let k = 0; ; k++) {
    const rs = await Promise.all(
      lab.nodes.map(async (n) => ({
        n,
        r: (await n.run(`[ -e ${CRASH_FILE} ] && echo armed || echo fired; systemctl is-active gluster-blockd`)).stdout.split("\n"),
      })),
    );
    const fired = rs.filter(({ r }) => r[0] === "fired");
    if (fired.every(({ r }) => r[1] !== "active") || k >= 20) return fired.map(({ n }) => n);
    await sleep(500);
  }
}

// --- the matrix ---------------------------------------------------------------------

interface Reference {
  steps: string[];
  coordinator: string;
  state: Record<string, unknown>;
}
const references = new Map<OpName, Reference>();

interface Cell {
  op: OpName;
  index: number;
  step: string;
  pv: string;
  stoppedOn: string;
  converged: boolean;
  retry: string;
  seconds: number;
  why: string;
}

async function setUp(op: OpName, pv: string): Promise<void> {
  for (const p of PRECONDITION[op]) {
    live.add(pv);
    await mustSucceed(`${p} ${pv} (precondition)`, () => run[p](pv));
  }
}

async function cleanUp(pvs: string[]): Promise<void> {
  for (const pv of pvs) {
    await mustSucceed(`DeleteVolume ${pv} (clean-up)`, () => run.DeleteVolume(pv));
    live.delete(pv);
  }
  const left = (await Promise.all(pvs.map(async (pv) => ({ pv, s: await endState(pv) })))).filter(
    ({ s }) => firstDifference(s, references.get("DeleteVolume")?.state) !== "",
  );
  if (left.length > 0) throw new Error(`clean-up left ${left.map(({ pv, s }) => `${pv}: ${JSON.stringify(s).slice(0, 400)}`).join("; ")}`);
}

async function referenceRuns(ops: ReadonlySet<OpName>): Promise<void> {
  if (!lab) throw new Error("no lab");
  const pv = "pvc-fault-matrix-reference";
  live.add(pv);
  // create and delete always (the delete leaves the volume clean); publish and unpublish as a pair (expand after them sees an unpublished volume)
  const access = ops.has("ControllerPublishVolume") || ops.has("ControllerUnpublishVolume");
  const chain = REFERENCE_CHAIN.filter(
    (op) =>
      op === "CreateVolume" || op === "DeleteVolume" || ops.has(op) || (access && (op === "ControllerPublishVolume" || op === "ControllerUnpublishVolume")),
  );
  for (const op of chain) {
    const cursors = await Promise.all(lab.nodes.map((n) => journalCursor(n)));
    const s = performance.now();
    const r = await asSidecar(`${op} ${pv} (uninterrupted)`, () => run[op](pv));
    assert.ok(r.ok && r.attempts === 1, `the uninterrupted ${op} succeeds at once: ${r.error ?? `${r.attempts} attempts`}`);
    const ms = performance.now() - s;
    await sleep(1500); // journald
    const nodes: readonly LabNode[] = lab.nodes;
    const logged: { n: LabNode; steps: string[] }[] = await Promise.all(nodes.map(async (n, i) => ({ n, steps: await stepsSince(n, cursors[i] ?? "") })));
    const coordinators = logged.filter((l) => l.steps.length > 0);
    assert.equal(
      coordinators.length,
      1,
      `${op}: exactly one daemon reports engine steps (${logged.map((l) => `${l.n.name}: ${l.steps.join(",")}`).join("; ")})`,
    );
    const c = coordinators[0];
    if (!c) throw new Error("unreachable");
    const state = await endState(pv);
    references.set(op, { steps: c.steps, coordinator: c.n.name, state });
    say(`reference ${op} (${secs(ms)}, coordinated by ${c.n.name}): ${c.steps.length} steps: ${c.steps.join(" ")}`);
  }
  live.delete(pv);
  if (MODE !== "quick") {
    const findings = await auditEveryNode();
    assert.deepEqual(findings, [], "the uninterrupted runs leave nothing for the audit");
  }
}

function middle(steps: string[]): string {
  return steps[Math.floor((steps.length - 1) / 2)] ?? "";
}

function chooseCells(): { op: OpName; step: string; index: number }[] {
  const pick = (op: OpName, step: string) => {
    const steps = references.get(op)?.steps ?? [];
    return { op, step, index: steps.indexOf(step) + 1 };
  };
  const only = process.env.E2E_FAULT_ONLY;
  if (only) {
    return only.split(",").flatMap((spec) => {
      const [op, ...rest] = spec.split(":");
      const steps = references.get(op as OpName)?.steps;
      if (!steps) throw new Error(`E2E_FAULT_ONLY: no operation ${JSON.stringify(op)}`);
      const step = rest.join(":");
      return step ? [pick(op as OpName, step)] : steps.map((s) => pick(op as OpName, s));
    });
  }
  const stepOf = (op: OpName): string => {
    const steps = references.get(op)?.steps ?? [];
    const want = QUICK_STEP[op];
    return want && steps.includes(want) ? want : middle(steps);
  };
  if (MODE === "quick") return [pick("CreateVolume", stepOf("CreateVolume"))];
  if (MODE === "medium") return REFERENCE_CHAIN.map((op) => pick(op, stepOf(op)));
  return REFERENCE_CHAIN.flatMap((op) => (references.get(op)?.steps ?? []).map((s) => pick(op, s)));
}

function opsToRun(): Set<OpName> {
  const only = process.env.E2E_FAULT_ONLY;
  if (only) return new Set(only.split(",").map((s) => s.split(":")[0] as OpName));
  if (MODE === "quick") return new Set<OpName>(["CreateVolume"]);
  return new Set(REFERENCE_CHAIN);
}

/** Stops the cell's call after its step; leaves the dead daemon restarted. */
async function stop(cell: Cell): Promise<number> {
  const s = performance.now();
  await setUp(cell.op, cell.pv);
  await arm(cell.step);
  let first: unknown;
  try {
    await run[cell.op](cell.pv);
  } catch (err) {
    first = err;
  }
  const dead = await crashedNodes();
  await disarm();
  cell.stoppedOn = dead.map((n) => n.name).join(",") || "-";
  const firstText = first === undefined ? "success" : `${codeName((first as { code?: number }).code ?? -1)}`;
  if (dead.length !== 1) cell.why = `the call ended with ${firstText} and ${dead.length} daemons fired the hook`;
  else if (first === undefined) cell.why = "the call succeeded though its daemon died";
  say(`${cell.op} ${cell.pv}: stopped after ${cell.step} on ${cell.stoppedOn} (the call: ${firstText}); restarting it`);
  const r = performance.now();
  await Promise.all(dead.map((n) => startBlockd(n, [], HOOK_ENV)));
  say(`  restarted ${cell.stoppedOn} in ${secs(performance.now() - r)}`);
  return performance.now() - s;
}

/** Retries the cell's call as the sidecar would and compares the end state with the uninterrupted run's. */
async function retryAndCheck(cell: Cell): Promise<number> {
  const s = performance.now();
  if (cell.why) return 0;
  const r = await asSidecar(`${cell.op} ${cell.pv} (retry)`, () => run[cell.op](cell.pv));
  const waited = performance.now() - s;
  cell.retry = `${r.attempts} in ${secs(waited)}${r.retried.length ? ` (${[...new Set(r.retried)].join(",")})` : ""}`;
  if (!r.ok) {
    cell.why = `retry failed: ${r.error ?? ""}`.slice(0, 400);
    return performance.now() - s;
  }
  const diff = firstDifference(await endState(cell.pv), references.get(cell.op)?.state);
  if (diff) cell.why = `end state differs at ${diff}`;
  else cell.converged = true;
  say(`${cell.op} ${cell.pv} after ${cell.step}: retry ${cell.retry}: ${cell.converged ? "converged" : `NOT converged: ${cell.why}`}`);
  return performance.now() - s;
}

function printMatrix(title: string): void {
  const w1 = Math.max(9, ...cells.map((x) => x.op.length));
  const w2 = Math.max(10, ...cells.map((x) => `${x.index} ${x.step}`.length));
  const w4 = Math.max(14, ...cells.map((x) => x.retry.length));
  const line = (a: string, b: string, c: string, d: string, e: string, f: string, g = ""): string =>
    `${a.padEnd(w1)}  ${b.padEnd(w2)}  ${c.padEnd(7)}  ${d.padEnd(w4)}  ${e.padStart(7)}  ${f.padEnd(9)}  ${g}`.trimEnd();
  const out = [
    line("operation", "after step", "killed", "retry attempts", "time", "converged"),
    line("-".repeat(w1), "-".repeat(w2), "-------", "-".repeat(w4), "-------", "---------"),
  ];
  for (const x of cells) out.push(line(x.op, `${x.index} ${x.step}`, x.stoppedOn, x.retry, secs(x.seconds * 1000), x.converged ? "yes" : "NO", x.why));
  console.log(`\n${title}\n${out.join("\n")}\n`);
}

// --- the test -------------------------------------------------------------------------

before(async () => {
  say(
    `mode ${MODE}${process.env.E2E_FAULT_ONLY ? ` (E2E_FAULT_ONLY=${process.env.E2E_FAULT_ONLY})` : ""}; cells in batches of ${BATCH}; retry on ${[...RETRYABLE].map(codeName).join("/")}, at most ${MAX_ATTEMPTS} attempts`,
  );
  buildProduct();
  lab = await ensureLab({ nodes: 3 });
  await lab.resetState();
  const s = performance.now();
  await Promise.all(lab.nodes.map((n) => startBlockd(n, [], HOOK_ENV)));
  await disarm();
  say(`gluster-blockd with test hooks on n1 n2 n3: ${secs(performance.now() - s)}`);
  kube = await new KubeApiStandin().start();
  ctl = await startController({
    endpoints: lab.addresses.map((a) => `${a}:24010`),
    key: BLOCKD_KEY,
    tls: await labControllerTls(),
    kubeconfig: await kube.kubeconfig(),
    namespace: NS,
  });
});

after(async () => {
  if (cells.length > 0) printMatrix(`fault matrix, mode ${MODE} (operation x step -> converged), ${secs(performance.now() - t0)} in all`);
  if (lab) {
    await disarm().catch(() => undefined);
    for (const pv of live) await asSidecar(`DeleteVolume ${pv} (after)`, () => run.DeleteVolume(pv)).catch(() => undefined);
  }
  await ctl?.stop();
  await kube?.stop();
  if (lab) {
    await Promise.all(lab.nodes.map((n) => n.run(`umount -l ${MOUNT} 2>/dev/null; rmdir ${MOUNT} 2>/dev/null; true`)));
    await stopBlockdEverywhere(lab);
  }
});

test("uninterrupted runs: each operation's engine steps and end state", { timeout: 20 * 60_000 }, async () => {
  await referenceRuns(opsToRun());
});

test(`fault matrix (${MODE}): each operation stopped after each chosen step converges on retry`, { timeout: 6 * 60 * 60_000 }, async () => {
  assert.ok(references.size > 0, "the uninterrupted runs ran");
  const chosen = chooseCells();
  say(`${chosen.length} cell(s): ${chosen.map((c) => `${c.op}@${c.step}`).join(" ")}`);
  chosen.forEach((c, i) =>
    cells.push({ ...c, pv: `pvc-fault-matrix-${String(i + 1).padStart(3, "0")}`, stoppedOn: "", converged: false, retry: "", seconds: 0, why: "" }),
  );
  for (let b = 0; b < cells.length; b += BATCH) {
    const batch = cells.slice(b, b + BATCH);
    for (const cell of batch) cell.seconds += (await stop(cell)) / 1000;
    for (const cell of batch) cell.seconds += (await retryAndCheck(cell)) / 1000;
    const findings = await auditEveryNode();
    for (const cell of batch) {
      const mine = findings.filter((f) => f.includes(cell.pv));
      if (cell.converged && mine.length > 0) {
        cell.converged = false;
        cell.why = `audit: ${mine.join("; ")}`.slice(0, 400);
      }
    }
    const strays = findings.filter((f) => !batch.some((c) => f.includes(c.pv)));
    assert.deepEqual(strays, [], "the audit finds nothing that belongs to no cell");
    await cleanUp(batch.map((c) => c.pv));
    printMatrix(`fault matrix so far (${Math.min(b + BATCH, cells.length)} of ${cells.length} cells)`);
  }
  assert.deepEqual(
    cells.filter((x) => !x.converged).map((x) => `${x.op} after ${x.step}: ${x.why}`),
    [],
  );
});
