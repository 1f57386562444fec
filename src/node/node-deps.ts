// The node plugin's parts, wired once from an exec function and the host
// paths: production passes the real exec and "/"-rooted paths, unit tests a
// fake exec and temp directories.
import type { Exec } from "../util/exec.js";
import type { Logger } from "../util/log.js";
import { Attacher } from "./attacher.js";
import { DEFAULT_BUDGET_MS } from "./budget.js";
import { Filesystems } from "./filesystem.js";
import { FormatJobs } from "./format-jobs.js";
import { initiatorNameFile, iscsiDbLockFile, recordsDir, type HostPaths } from "./host-paths.js";
import { Iscsiadm } from "./iscsi.js";
import type { LoginProbe } from "./login-probe.js";
import { KeyedLocks, DEFAULT_LOCK_WAIT_MS } from "./locks.js";
import { Mounter } from "./mount.js";
import { Multipath } from "./multipath.js";
import { RecordStore } from "./node-record.js";
import { UdevDb } from "./udev.js";
import { Sysfs, type SysfsWriter } from "./sysfs.js";

export interface NodeDeps {
  exec: Exec;
  log: Logger;
  paths: HostPaths;
  sysfs: Sysfs;
  iscsi: Iscsiadm;
  multipath: Multipath;
  mounter: Mounter;
  fs: Filesystems;
  /** each volume's mkfs, which outlives the call that began it */
  formats: FormatJobs;
  attacher: Attacher;
  records: RecordStore;
  locks: KeyedLocks;
  /** per-RPC time budget (ms) */
  budgetMs: number;
}

export interface DepsOptions {
  budgetMs?: number;
  lockWaitMs?: number;
  /** attach: how long to wait for every portal's path (ms) */
  allPathsWaitMs?: number;
  pollMs?: number;
  sysfsWriter?: SysfsWriter;
  /** asks a target why it refused a login (the real probe by default; tests have no target to ask) */
  loginProbe?: LoginProbe;
}

export function makeNodeDeps(exec: Exec, paths: HostPaths, log: Logger, options: DepsOptions = {}): NodeDeps {
  const sysfs = new Sysfs(paths.sysfs, options.sysfsWriter);
  const iscsi = new Iscsiadm({
    exec,
    iscsiDir: paths.iscsiDir,
    initiatorNameFile: initiatorNameFile(paths),
    dbLockFile: iscsiDbLockFile(paths),
    log,
    ...(options.loginProbe ? { loginProbe: options.loginProbe } : {}),
  });
  const multipath = new Multipath({ exec, sysfs, log });
  const mounter = new Mounter(exec, log);
  const attacher = new Attacher({
    exec,
    sysfs,
    iscsi,
    multipath,
    mounter,
    udev: new UdevDb(paths.udevData),
    devDir: paths.dev,
    log,
    ...(options.allPathsWaitMs !== undefined ? { allPathsWaitMs: options.allPathsWaitMs } : {}),
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
  });
  return {
    exec,
    log,
    paths,
    sysfs,
    iscsi,
    multipath,
    mounter,
    fs: new Filesystems(exec, log),
    formats: new FormatJobs(log),
    attacher,
    records: new RecordStore(recordsDir(paths)),
    locks: new KeyedLocks(options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS),
    budgetMs: options.budgetMs ?? DEFAULT_BUDGET_MS,
  };
}
