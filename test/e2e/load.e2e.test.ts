// Load (issue 9): many CHAP HA-3 volumes created and deleted through the CSI
// controller in parallel waves against gluster-blockd on the three lab VMs.
// This test plays the external-provisioner: each call that fails with a
// retryable code is called again with the same request after a backoff, a
// bounded number of times; any other code fails the test. After the creates,
// every volume must exist everywhere it should (ListVolumes, gluster-block
// list, each node's LIO, the hosting volume's files, one CHAP Secret each) and
// the audit must find nothing on any node; after the deletes nothing may be
// left, and the audit must again find nothing. The figures (per wave wall
// time, per-call median and max, retries, failures) are printed as "LOAD" lines.
//
// Size: E2E_LOAD_VOLUMES=n, else 50; waves of 10. With E2E_QUICK=1 (CI, which
// must finish in under an hour on 2 cores) it is skipped unless
// E2E_LOAD_VOLUMES is set.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { ensureLab, type Lab, type LabNode } from "../../lab/harness/lab.js";
import {
  buildProduct,
  startBlockdEverywhere,
  stopBlockdEverywhere,
  cli,
  blockdLog,
  blockdSh,
  BLOCKD_KEY,
  labControllerTls,
} from "../../lab/harness/product.js";
import { KubeApiStandin } from "../../lab/harness/kube-api-standin.js";
import { startController, mountCap, MiB, type LocalController } from "../../lab/harness/local-controller.js";
import { IQN_PREFIX, iqnFor } from "../../src/identity/names.js";
import type { CreateVolumeResponse__Output } from "../../src/generated/csi/v1/CreateVolumeResponse.js";
import type { ListVolumesResponse__Output } from "../../src/generated/csi/v1/ListVolumesResponse.js";

function volumeCount(): number {
  const raw = process.env.E2E_LOAD_VOLUMES;
  if (raw !== undefined && raw !== "") {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`E2E_LOAD_VOLUMES must be a positive integer, got ${JSON.stringify(raw)}`);
    return n;
  }
  return 50;
}

const SKIP = process.env.E2E_QUICK === "1" && !process.env.E2E_LOAD_VOLUMES ? "E2E_QUICK=1: the load runs in the full e2e (or set E2E_LOAD_VOLUMES)" : false;

const COUNT = volumeCount();
const WAVE = 10;
const WAVES = Math.ceil(COUNT / WAVE);
const NS = "gluster-block-csi";
const HV = "block-test";
const SIZE = 320 * MiB; // xfs: at least 300 MiB (mkfs.xfs's floor; the controller rounds up to it)
const HA = 3;
/** one call's deadline; the controller's own blockd deadline is 300 s */
const CALL_TIMEOUT_MS = 240_000;
/** as the external-provisioner: exponential backoff, bounded */
const MAX_ATTEMPTS = 6;
const BACKOFF_START_MS = 1_000;
const BACKOFF_MAX_MS = 16_000;
const RETRYABLE = new Set<number>([status.UNAVAILABLE, status.ABORTED, status.DEADLINE_EXCEEDED, status.RESOURCE_EXHAUSTED, status.INTERNAL]);
/** a phase may take this long per wave before the test gives up (a hang, not slowness) */
const PHASE_TIMEOUT_MS = Math.max(20, WAVES * 8) * 60_000;
const CHECK_TIMEOUT_MS = 20 * 60_000;

const NAMES = Array.from({ length: COUNT }, (_, i) => `pvc-e2e-load-${String(i).padStart(3, "0")}`);
const volumeIdOf = (name: string): string => `v1/${HV}/${name}`;
/** a volume's GBID, random per create: as its CreateVolume answered */
const gbids = new Map<string, string>();
const gbidOf = (name: string): string => gbids.get(name) ?? "";
const secretKey = (name: string): string => `${NS}/gluster-block-chap-${name}`;
const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

let lab: Lab | undefined;
let kube: KubeApiStandin | undefined;
let ctl: LocalController | undefined;
/** volumes a CreateVolume was sent for and no DeleteVolume has succeeded for: what after() cleans up */
const live = new Set<string>();
/** every CHAP password seen in a Secret, for the log greps */
const passwords = new Set<string>();
/** CreateVolume calls that succeeded */
let createdOk = 0;
/** the figures, printed again together at the end */
const report: string[] = [];
const t0 = performance.now();
/** when this test started its blockds: their journal holds earlier tests' runs too */
let blockdSince = "";

function say(line: string, figure = false): void {
  const l = `LOAD ${line}`;
  if (figure) report.push(l);
  console.log(l);
}

async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const s = performance.now();
  try {
    return await fn();
  } finally {
    say(`step ${name.padEnd(58)} ${secs(performance.now() - s)}`, true);
  }
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const codeName = (code: number): string => {
  const name: string | undefined = status[code];
  return name ?? `code ${code}`;
};

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}

interface CallResult {
  name: string;
  ok: boolean;
  /** first attempt's start to the last answer, backoffs included */
  ms: number;
  attempts: number;
  /** the codes that were retried */
  retriedCodes: string[];
  error?: string;
}

interface PhaseStats {
  op: string;
  waves: { wallMs: number; calls: CallResult[] }[];
}

/**
 * One CSI call as the sidecar makes it: again with the same request after a
 * backoff on a retryable code, up to MAX_ATTEMPTS. Never throws: the result
 * says how it ended.
 */
async function withRetries(op: string, name: string, fn: () => Promise<unknown>): Promise<CallResult> {
  const start = performance.now();
  const retriedCodes: string[] = [];
  let backoff = BACKOFF_START_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      await fn();
      return { name, ok: true, ms: performance.now() - start, attempts: attempt, retriedCodes };
    } catch (err) {
      const e = err as { code?: unknown; details?: unknown; message?: unknown };
      const code = typeof e.code === "number" ? e.code : -1;
      const text = `${codeName(code)}: ${typeof e.details === "string" && e.details !== "" ? e.details : String(e.message ?? err)}`;
      if (!RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) {
        const why = RETRYABLE.has(code) ? `still failing after ${attempt} attempts` : `not retryable, attempt ${attempt}`;
        say(`FAIL ${op} ${name} (${why}): ${text}`);
        return { name, ok: false, ms: performance.now() - start, attempts: attempt, retriedCodes, error: `${op} ${name} (${why}): ${text}` };
      }
      retriedCodes.push(codeName(code));
      say(`retry ${op} ${name}: attempt ${attempt} got ${text}; again in ${backoff / 1000} s`);
      await sleep(backoff);
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    }
  }
}

/** Runs `call` for every name, WAVE at a time (each wave waits for all its calls), and prints the figures. */
async function inWaves(op: string, call: (name: string) => Promise<unknown>): Promise<PhaseStats> {
  const stats: PhaseStats = { op, waves: [] };
  for (let w = 0; w < WAVES; w++) {
    const names = NAMES.slice(w * WAVE, (w + 1) * WAVE);
    const s = performance.now();
    const calls = await Promise.all(names.map((n) => withRetries(op, n, () => call(n))));
    const wave = { wallMs: performance.now() - s, calls };
    stats.waves.push(wave);
    say(`${op.padEnd(12)} wave ${w + 1}/${WAVES}: ${figures(wave.calls, wave.wallMs)}`, true);
  }
  return stats;
}

function figures(calls: readonly CallResult[], wallMs: number): string {
  const ms = calls.map((c) => c.ms);
  const retries = calls.reduce((a, c) => a + c.attempts - 1, 0);
  const codes = new Map<string, number>();
  for (const c of calls) for (const k of c.retriedCodes) codes.set(k, (codes.get(k) ?? 0) + 1);
  const codeText = codes.size === 0 ? "" : ` (${[...codes].map(([k, v]) => `${k} x${v}`).join(", ")})`;
  return (
    `${String(calls.length).padStart(3)} calls, wall ${secs(wallMs).padStart(7)}, per call median ${secs(median(ms)).padStart(7)} max ${secs(Math.max(...ms)).padStart(7)}, ` +
    `retries ${retries}${codeText}, failures ${calls.filter((c) => !c.ok).length}`
  );
}

function summarize(stats: PhaseStats): void {
  const all = stats.waves.flatMap((w) => w.calls);
  const wall = stats.waves.reduce((a, w) => a + w.wallMs, 0);
  say(`${stats.op.padEnd(12)} total     : ${figures(all, wall)}`, true);
}

function assertAllOk(stats: PhaseStats): void {
  const failed = stats.waves.flatMap((w) => w.calls).filter((c) => !c.ok);
  assert.equal(failed.length, 0, `${failed.length} ${stats.op} call(s) failed:\n${failed.map((c) => c.error ?? c.name).join("\n")}`);
}

const createReq = (name: string) => ({
  name,
  capacity_range: { required_bytes: String(SIZE) },
  volume_capabilities: [mountCap("xfs")],
  parameters: {
    hostingVolume: HV,
    haCount: String(HA),
    "csi.storage.k8s.io/pv/name": name,
    "csi.storage.k8s.io/pvc/name": `data-${name.slice(-3)}`,
    "csi.storage.k8s.io/pvc/namespace": "e2e-load",
  },
});

function notePasswords(): void {
  for (const s of kube?.secrets.values() ?? []) {
    const p = (s.data as Record<string, string> | undefined)?.password;
    if (p) passwords.add(Buffer.from(p, "base64").toString());
  }
}

/** What one node's LIO holds: our targets, their LUNs and enabled TPGs, and every user backstore. */
async function lioOf(n: LabNode): Promise<{ targets: string[]; luns: number; enabledTpgs: number; backstores: string[] }> {
  const r = await n.must(
    `cd /sys/kernel/config/target
     echo '#targets'; ls iscsi 2>/dev/null | grep -F '${IQN_PREFIX}' || true
     echo '#luns'; ls -d iscsi/${IQN_PREFIX}*/tpgt_*/lun/lun_* 2>/dev/null | wc -l
     echo '#enabled'; cat iscsi/${IQN_PREFIX}*/tpgt_*/enable 2>/dev/null | grep -cx 1 || true
     echo '#backstores'; for d in core/user_*/*/; do [ -d "$d" ] && basename "$d"; done; true`,
    { timeoutMs: 300_000 },
  );
  const sections = sectionsOf(r.stdout);
  const num = (k: string): number => Number(sections.get(k)?.[0] ?? NaN);
  return {
    targets: sorted(sections.get("targets") ?? []),
    luns: num("luns"),
    enabledTpgs: num("enabled"),
    backstores: sorted(sections.get("backstores") ?? []),
  };
}

/** A shell listing in "#name" sections, one item per line after each. */
function sectionsOf(stdout: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let cur = "";
  for (const line of stdout.split("\n").map((l) => l.trim())) {
    if (line.startsWith("#")) sections.set((cur = line.slice(1)), []);
    else if (line !== "") sections.get(cur)?.push(line);
  }
  return sections;
}

/** The hosting volume's block files and journals, through n1's blockd FUSE mount (in its container). */
async function volumeFiles(): Promise<{ store: string[]; meta: string[]; orphaned: string[] }> {
  const m = `/run/gluster-blockd/mnt/${HV}`;
  const r = await lab!.node(1).must(
    blockdSh(`m=${m}; mountpoint -q $m || { echo "$m is not mounted"; exit 1; }
     echo '#store'; ls -A $m/block-store
     echo '#meta'; ls $m/block-meta
     echo '#orphaned'; ls -A $m/block-orphaned 2>/dev/null; true`),
    { timeoutMs: 300_000 },
  );
  const sections = sectionsOf(r.stdout);
  // meta.lock and prio.info are the original's bookkeeping, not blocks
  const meta = (sections.get("meta") ?? []).filter((x) => x !== "meta.lock" && x !== "prio.info");
  return { store: sorted(sections.get("store") ?? []), meta: sorted(meta), orphaned: sorted(sections.get("orphaned") ?? []) };
}

/** Every ListVolumes page (a small max_entries, so the paging is part of the check). */
async function listVolumes(): Promise<ListVolumesResponse__Output["entries"]> {
  const entries: ListVolumesResponse__Output["entries"] = [];
  let token = "";
  for (let page = 0; page < COUNT + 2; page++) {
    const r = await ctl!.call<ListVolumesResponse__Output>("ListVolumes", { max_entries: 7, starting_token: token }, 300_000);
    entries.push(...r.entries);
    token = r.next_token;
    if (token === "") return entries;
  }
  throw new Error("ListVolumes paging does not end");
}

/** `gluster-block audit` (dry run) on every node at once: each must report nothing. */
async function auditEverywhere(): Promise<void> {
  const rs = await Promise.all(lab!.nodes.map(async (n) => ({ n, r: await cli(n, ["audit", HV]) })));
  for (const { n, r } of rs) {
    assert.equal(r.code, 0, `${n.name}: audit exit ${r.code}\n${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, `VOLUME: ${HV}\nRESULT: SUCCESS\n`, `${n.name}: the audit reports findings:\n${r.stdout}${r.stderr}`);
  }
}

/** A log's warn and error lines, counted by level, message, method and code. */
function warnings(lines: readonly string[]): string {
  const kinds = new Map<string, number>();
  for (const l of lines) {
    if (!/"level":"(warn|error)"/.test(l)) continue;
    let k = l.slice(0, 120);
    try {
      const o = JSON.parse(l) as Record<string, unknown>;
      k = [o.level, JSON.stringify(o.message), o.method, o.code].filter((x) => typeof x === "string" && x !== "").join(" ");
    } catch {
      // not JSON: its start
    }
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  if (kinds.size === 0) return "no warn/error";
  return `warn/error: ${[...kinds].map(([k, v]) => `${k} x${v}`).join("; ")}`;
}

let creates: PhaseStats | undefined;
let deletes: PhaseStats | undefined;

before(async () => {
  if (SKIP) return;
  say(
    `${COUNT} volumes (CHAP, ha 3, ${SIZE / MiB} MiB thin) in ${WAVES} wave(s) of ${WAVE}; retry on ${[...RETRYABLE].map(codeName).join("/")}, at most ${MAX_ATTEMPTS} attempts`,
  );
  buildProduct();
  lab = await ensureLab({ nodes: 3 });
  await lab.resetState();
  blockdSince = new Date().toISOString();
  await step("start gluster-blockd on 3 nodes", () => startBlockdEverywhere(lab!));
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
  if (SKIP) return;
  const problems: string[] = [];
  if (lab && ctl) {
    notePasswords();
    // best effort: whatever a failed run left, one wave of all at a time
    if (live.size > 0) {
      say(`cleanup: deleting ${live.size} volume(s) left by the run`);
      await Promise.allSettled(
        [...live].map((n) =>
          withRetries("DeleteVolume", n, async () => {
            await ctl!.call("DeleteVolume", { volume_id: volumeIdOf(n) }, CALL_TIMEOUT_MS);
            live.delete(n);
          }),
        ),
      );
      say(`cleanup: ${live.size} volume(s) could not be deleted (the next test's lab reset removes them)`);
    }
  }
  await ctl?.stop();
  await kube?.stop();
  if (lab) {
    const logs = await Promise.all(lab.nodes.map(async (n) => ({ n, log: await blockdLog(n) })));
    if (createdOk > 0 && passwords.size === 0) problems.push("no CHAP password was seen: the log greps checked nothing");
    for (const { n, log } of logs) {
      const leaked = [...passwords].filter((p) => log.includes(p)).length;
      if (leaked > 0) problems.push(`${leaked} CHAP password(s) appear in ${n.name}'s blockd log`);
      // this run's lines (JSON, ISO timestamps sort as text)
      const mine = log.split("\n").filter((l) => (/"timestamp":"([^"]+)"/.exec(l)?.[1] ?? "") >= blockdSince);
      say(`${n.name} blockd log since ${blockdSince}: ${mine.length} lines, ${warnings(mine)}`, true);
    }
    const ctlLog = ctl?.log.text() ?? "";
    const leaked = [...passwords].filter((p) => ctlLog.includes(p)).length;
    if (leaked > 0) problems.push(`${leaked} CHAP password(s) appear in the controller's log`);
    say(`password greps: ${passwords.size} password(s) looked for in 3 blockd logs and the controller's log`);
    await stopBlockdEverywhere(lab);
  }
  say(`test wall time ${secs(performance.now() - t0)}`, true);
  console.log(
    `figures (${COUNT} volumes, CHAP, ha 3, ${SIZE / MiB} MiB thin, waves of ${WAVE}; per call = first attempt to last answer, backoffs included):\n${report.join("\n")}`,
  );
  assert.deepEqual(problems, []);
});

test(`CreateVolume x${COUNT}, ${WAVE} at a time: all succeed`, { timeout: PHASE_TIMEOUT_MS, skip: SKIP }, async () => {
  const responses = new Map<string, CreateVolumeResponse__Output>();
  creates = await inWaves("CreateVolume", async (name) => {
    live.add(name);
    const r = await ctl!.call<CreateVolumeResponse__Output>("CreateVolume", createReq(name), CALL_TIMEOUT_MS);
    responses.set(name, r);
    gbids.set(name, r.volume?.volume_context?.gbid ?? "");
    createdOk++;
    notePasswords();
  });
  summarize(creates);
  assertAllOk(creates);
  const portals = sorted(lab!.addresses.map((a) => `${a}:3260`));
  for (const name of NAMES) {
    const v = responses.get(name)?.volume;
    assert.ok(v, `${name}: no response`);
    assert.equal(v.volume_id, volumeIdOf(name));
    assert.equal(v.capacity_bytes, String(SIZE), name);
    const ctx = v.volume_context;
    assert.equal(ctx.iqn, iqnFor(gbidOf(name)), name);
    assert.equal(ctx.haCount, String(HA), name);
    assert.equal(ctx.auth, "true", name);
    assert.deepEqual(sorted((ctx.portals ?? "").split(",")), portals, name);
  }
});

test(
  `all ${COUNT} volumes exist: ListVolumes, gluster-block list, LIO on every node, block files, Secrets; the audit finds nothing`,
  { timeout: CHECK_TIMEOUT_MS, skip: SKIP },
  async () => {
    const ids = NAMES.map(volumeIdOf);
    const entries = await step("ListVolumes (pages of 7)", () => listVolumes());
    assert.deepEqual(
      entries.map((e) => e.volume?.volume_id),
      sorted(ids),
      "ListVolumes lists exactly our volumes",
    );
    for (const e of entries) {
      assert.equal(e.volume?.capacity_bytes, String(SIZE), e.volume?.volume_id);
      assert.equal(e.status?.volume_condition?.abnormal, false, `${e.volume?.volume_id}: ${e.status?.volume_condition?.message}`);
    }

    const list = await step("gluster-block list on n1", () => cli(lab!.node(1), ["list", HV]));
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(sorted(list.stdout.split("\n").filter((l) => l !== "")), sorted(NAMES), "gluster-block list");

    const iqns = sorted(NAMES.map((n) => iqnFor(gbidOf(n))));
    const lio = await step("LIO on every node", () => Promise.all(lab!.nodes.map(async (n) => ({ n, l: await lioOf(n) }))));
    for (const { n, l } of lio) {
      assert.deepEqual(l.targets, iqns, `${n.name}: our iSCSI targets`);
      // every target carries one TPG per HA node (the others' for ALUA), each with the LUN
      assert.equal(l.luns, COUNT * HA, `${n.name}: one LUN in each of the ${HA} TPGs of every target`);
      assert.equal(l.enabledTpgs, COUNT, `${n.name}: one enabled (own) TPG per target`);
      assert.deepEqual(l.backstores, sorted(NAMES), `${n.name}: user:glfs backstores`);
    }

    const files = await step("block files and journals on the hosting volume", () => volumeFiles());
    assert.deepEqual(files.store, sorted(NAMES.map(gbidOf)), "block-store holds one file per volume");
    assert.deepEqual(files.meta, sorted(NAMES), "block-meta holds one journal per volume");
    assert.deepEqual(files.orphaned, [], "nothing set aside as orphaned");

    assert.deepEqual(sorted(kube!.secrets.keys()), sorted(NAMES.map(secretKey)), "one CHAP Secret per volume");
    for (const name of NAMES) {
      const data = kube!.secrets.get(secretKey(name))?.data as Record<string, string>;
      assert.equal(Buffer.from(data.username ?? "", "base64").toString(), gbidOf(name), `${name}: CHAP username`);
      assert.ok(Buffer.from(data.password ?? "", "base64").length >= 8, `${name}: a CHAP password`);
    }
    notePasswords();
    const current = new Set(NAMES.map((n) => (kube!.secrets.get(secretKey(n))?.data as Record<string, string>).password));
    assert.equal(current.size, COUNT, "every volume has its own CHAP password");

    await step(`gluster-block audit on 3 nodes (${COUNT} volumes)`, () => auditEverywhere());
  },
);

test(`DeleteVolume x${COUNT}, ${WAVE} at a time: all succeed`, { timeout: PHASE_TIMEOUT_MS, skip: SKIP }, async () => {
  deletes = await inWaves("DeleteVolume", async (name) => {
    await ctl!.call("DeleteVolume", { volume_id: volumeIdOf(name) }, CALL_TIMEOUT_MS);
    live.delete(name);
  });
  summarize(deletes);
  assertAllOk(deletes);
});

test(
  "nothing is left: ListVolumes, gluster-block list, LIO, block files, Secrets; the audit finds nothing",
  { timeout: CHECK_TIMEOUT_MS, skip: SKIP },
  async () => {
    const entries = await step("ListVolumes", () => listVolumes());
    assert.deepEqual(
      entries.map((e) => e.volume?.volume_id),
      [],
      "ListVolumes after the deletes",
    );
    const list = await step("gluster-block list on n1", () => cli(lab!.node(1), ["list", HV]));
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout.trim(), "*Nil*");
    const lio = await step("LIO on every node", () => Promise.all(lab!.nodes.map(async (n) => ({ n, l: await lioOf(n) }))));
    for (const { n, l } of lio) {
      assert.deepEqual(l.targets, [], `${n.name}: targets left`);
      assert.equal(l.luns, 0, `${n.name}: LUNs left`);
      assert.deepEqual(l.backstores, [], `${n.name}: backstores left`);
    }
    const files = await step("block files and journals on the hosting volume", () => volumeFiles());
    assert.deepEqual(files, { store: [], meta: [], orphaned: [] }, "the hosting volume holds no block file or journal");
    assert.deepEqual(sorted(kube!.secrets.keys()), [], "Secrets left");
    await step("gluster-block audit on 3 nodes (empty)", () => auditEverywhere());
  },
);
