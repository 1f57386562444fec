// open-iscsi through iscsiadm: node records for one target and portal only
// (never a discovery that would add other targets), CHAP passed as secrets so
// no log line or error shows it, login/logout with the exit codes that mean
// "already done". Writes to iscsiadm's database are serialized host-wide:
// in this process by a mutex, across processes by flock(1) on a lock file.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Exec, ExecOptions, ExecResult } from "../util/exec.js";
import { ExecError } from "../util/exec.js";
import type { Logger } from "../util/log.js";
import { portalOf } from "../identity/portal.js";
import { Mutex } from "./locks.js";
import { explainRefusal } from "./login-refusal.js";
import { probeLogin, type LoginProbe } from "./login-probe.js";
import { readInitiatorName } from "./node-info.js";

/** how long the probe of a refused login may wait for the target's answer */
const PROBE_TIMEOUT_MS = 5_000;

/** iscsiadm exit codes (open-iscsi include/iscsi_err.h) */
export const ISCSI_ERR = { SESS_EXISTS: 15, NO_OBJS_FOUND: 21, LOGIN_AUTH_FAILED: 24, DB: 6 } as const;

export interface Chap {
  username: string;
  password: string;
}

/** Settings written into each of our node records, before any login. */
export const RECORD_SETTINGS: readonly (readonly [string, string])[] = [
  // no login at boot, no hanging boot on a gone target (in-tree plugin)
  ["node.startup", "manual"],
  // only the LUN we scan appears, not every LUN of the target (k8s#90982)
  ["node.session.scan", "manual"],
  // multipath takes over quickly when a portal dies
  ["node.session.timeo.replacement_timeout", "15"],
  ["node.conn[0].timeo.login_timeout", "10"],
  ["node.session.initial_login_retry_max", "2"],
];

export interface IscsiadmOptions {
  exec: Exec;
  iscsiDir: string;
  /** open-iscsi's initiatorname.iscsi: this node's name, for the probe of a refused login */
  initiatorNameFile: string;
  /** asks a target why it refused a login (login-probe.ts); the real one by default */
  loginProbe?: LoginProbe;
  /** flock(1) lock file shared by every process that writes the iscsiadm database */
  dbLockFile: string;
  log: Logger;
}

/** "10.0.0.1:3260" -> the record directory's prefix "10.0.0.1,3260," */
function recordPrefix(portal: string): string {
  const m = /^\[?([^\]]+)\]?:(\d+)$/.exec(portal);
  return m ? `${m[1]},${m[2]},` : `${portal},`;
}

export class Iscsiadm {
  private readonly db = new Mutex();
  constructor(private readonly deps: IscsiadmOptions) {}

  private run(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.deps.exec("iscsiadm", args, { timeoutMs: 15_000, logger: this.deps.log, ...opts });
  }

  /** A database write: one at a time on this host. A "database failure" (concurrent writer outside our lock) is retried once. */
  private dbWrite(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const once = (): Promise<ExecResult> =>
      this.deps.exec("flock", ["-w", "30", this.deps.dbLockFile, "iscsiadm", ...args], { timeoutMs: 40_000, logger: this.deps.log, ...opts });
    return this.db.run(async () => {
      try {
        return await once();
      } catch (err) {
        if (err instanceof ExecError && err.exitCode === ISCSI_ERR.DB) return once();
        throw err;
      }
    });
  }

  /** Portals ("ip:port") that have a node record of `iqn` in the database. */
  async recordPortals(iqn: string): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(join(this.deps.iscsiDir, "nodes", iqn));
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const n of names) {
      const m = /^(.+),(\d+),(-?\d+)$/.exec(n);
      if (m?.[1] && m[2]) out.push(portalOf(m[1], m[2]));
    }
    return out;
  }

  /** Targets with node records (directory names under nodes/). */
  async recordTargets(): Promise<string[]> {
    try {
      return await readdir(join(this.deps.iscsiDir, "nodes"));
    } catch {
      return [];
    }
  }

  async hasRecord(iqn: string, portal: string): Promise<boolean> {
    try {
      const prefix = recordPrefix(portal);
      return (await readdir(join(this.deps.iscsiDir, "nodes", iqn))).some((n) => n.startsWith(prefix));
    } catch {
      return false;
    }
  }

  /** Creates (or refreshes) the node record of one target portal, with our settings and the CHAP credentials. */
  async ensureRecord(iqn: string, portal: string, chap: Chap | undefined, signal?: AbortSignal): Promise<void> {
    const base = ["-m", "node", "-T", iqn, "-p", portal];
    const cancel = signal ? { signal } : {};
    if (!(await this.hasRecord(iqn, portal))) await this.dbWrite([...base, "-o", "new"], cancel);
    // one update with every name/value pair: one process and one database write instead of eight
    const settings: (readonly [string, string])[] = [...RECORD_SETTINGS];
    if (chap)
      settings.push(["node.session.auth.authmethod", "CHAP"], ["node.session.auth.username", chap.username], ["node.session.auth.password", chap.password]);
    else settings.push(["node.session.auth.authmethod", "None"]);
    await this.dbWrite([...base, "-o", "update", ...settings.flatMap(([k, v]) => ["-n", k, "-v", v])], {
      ...cancel,
      ...(chap ? { secrets: [chap.password] } : {}),
    });
  }

  async login(iqn: string, portal: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    try {
      await this.run(["-m", "node", "-T", iqn, "-p", portal, "--login"], { okExitCodes: [ISCSI_ERR.SESS_EXISTS], timeoutMs, ...(signal ? { signal } : {}) });
    } catch (err) {
      if (err instanceof ExecError && err.exitCode === ISCSI_ERR.LOGIN_AUTH_FAILED) {
        // exit 24 is both a CHAP failure and a target whose ACL does not list
        // this initiator, in the same words: the target is asked which.
        // iscsiadm's words are on stderr (stdout has only "Logging in to ...")
        const lines = (t: string): string[] =>
          t
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l !== "");
        const said = lines(err.stderrTail).length > 0 ? lines(err.stderrTail) : lines(err.stdout);
        const refusal = await explainRefusal({
          targetIqn: iqn,
          portal,
          iscsiadmSaid: said,
          initiatorIqn: () => readInitiatorName(this.deps.initiatorNameFile),
          probe: this.deps.loginProbe ?? probeLogin,
          probeTimeoutMs: PROBE_TIMEOUT_MS,
          ...(signal ? { signal } : {}),
          cause: err,
        });
        this.deps.log.warn("iSCSI login refused", { iqn, portal, exitCode: err.exitCode, refusal: refusal.refusal, iscsiadm: said.join("\n") });
        throw refusal;
      }
      throw err;
    }
  }

  async logout(iqn: string, portal: string, timeoutMs = 15_000, signal?: AbortSignal): Promise<void> {
    await this.run(["-m", "node", "-T", iqn, "-p", portal, "--logout"], { okExitCodes: [ISCSI_ERR.NO_OBJS_FOUND], timeoutMs, ...(signal ? { signal } : {}) });
  }

  /** Deletes the target's node records (all portals, or one); `signal` ends the write (and its wait for the lock) when the caller cancels. */
  async deleteRecords(iqn: string, portal?: string, signal?: AbortSignal): Promise<void> {
    const args = ["-m", "node", "-T", iqn, ...(portal ? ["-p", portal] : []), "-o", "delete"];
    await this.dbWrite(args, { okExitCodes: [ISCSI_ERR.NO_OBJS_FOUND], ...(signal ? { signal } : {}) });
  }
}
