// The contract between the block engine and whatever writes LIO. The engine
// states what one block's target must look like on this node; the writer
// converges LIO to it and can read back what LIO holds.

export interface ChapCredentials {
  userid: string;
  /** never logged, never returned by list/get */
  password: string;
}

export interface BlockTargetSpec {
  /** backstore name (the block's name), node-global in LIO */
  name: string;
  gbid: string;
  /** tcmu-runner glfs config without the handler prefix: `<vol>@<server>/block-store/<gbid>[;tcmur_cmd_time_out=N]` */
  cfgstring: string;
  sizeBytes: number;
  /** `iqn.2016-12.org.gluster-block:<gbid>` */
  iqn: string;
  /** HA hosts in journal order: TPG i+1 serves hosts[i] */
  hosts: readonly string[];
  /** this node; the only TPG enabled is its own */
  localHost: string;
  /** PRIOPATH: its TPG's LUN joins the active/optimized ALUA group; unset = no ALUA groups (as the original) */
  aoHost?: string;
  /** CHAP; unset = no authentication */
  auth?: ChapCredentials;
  /** true: any initiator (the original's CLI blocks); false: only `acls` */
  generateNodeAcls: boolean;
  /** initiator IQNs allowed in (per-initiator ACL with mapped LUN 0) */
  acls: readonly string[];
  /** those of `acls` whose mapped LUN 0 is write protected (read-only); the others are mapped read-write */
  readOnlyAcls?: readonly string[];
  ringBufferMb?: number;
  hwBlockSize?: number;
  /** backstore cmd_time_out in seconds, default 130 */
  cmdTimeOutSec?: number;
  /** iSCSI port, default 3260 */
  port?: number;
}

export interface ApplyReport {
  /** the backstore was made (or rebuilt) in this call */
  created: boolean;
  /** the size changed on a live backstore (tcmu-runner was told) */
  resized: boolean;
  /** count of configfs mutations (mkdir, rmdir, write, symlink, unlink) */
  writes: number;
  /** one line per mutation, secrets replaced */
  changes: string[];
  durationMs: number;
}

export interface AluaGroupState {
  name: string;
  id: number;
  /** 0 active/optimized, 1 active/non-optimized, ... */
  accessState: number;
  /** 0 none, 1 implicit, 2 explicit, 3 both */
  accessType: number;
}

export interface BackstoreState {
  name: string;
  /** HBA directory, e.g. `user_3` */
  hba: string;
  enabled: boolean;
  /** handler from dev_config, e.g. `glfs` */
  handler: string;
  /** dev_config without the handler prefix */
  cfgstring: string;
  sizeBytes: number;
  wwn: string;
  cmdTimeOutSec: number;
  maxDataAreaMb?: number;
  hwBlockSize?: number;
  aluaGroups: AluaGroupState[];
}

export interface AclState {
  initiator: string;
  mappedLuns: number[];
  /** mapped LUN 0 is write protected (read-only) for this initiator */
  writeProtected: boolean;
  chapUserid?: string;
  hasChapPassword: boolean;
}

export interface LunState {
  index: number;
  /** backstore name the LUN links to, undefined for a broken LUN */
  backstore?: string;
  /** HBA directory of that backstore, e.g. `user_3` */
  backstoreHba?: string;
  aluaGroup?: string;
}

export interface TpgState {
  tag: number;
  enabled: boolean;
  /** `ip:port` */
  portals: string[];
  luns: LunState[];
  authentication: boolean;
  generateNodeAcls: boolean;
  /** the kernel keeps generated (dynamic) ACLs after their sessions end: on with generated ACLs, and left on after them unless turned off */
  cacheDynamicAcls: boolean;
  demoModeWriteProtect: boolean;
  tpgEnabledSendtargets: boolean;
  chapUserid?: string;
  hasChapPassword: boolean;
  acls: AclState[];
}

export interface TargetState {
  iqn: string;
  tpgs: TpgState[];
}

/**
 * Who is logged in to one TPG of a target right now. Demo-mode (generated
 * ACL) sessions are listed by the TPG's `dynamic_sessions`; a session through
 * an explicit ACL shows in that ACL's `info`. Read for an adoption, which must
 * put every live initiator in the journal before generated ACLs go.
 */
export interface TpgSessions {
  tag: number;
  enabled: boolean;
  /** `ip:port` */
  portals: string[];
  generateNodeAcls: boolean;
  /** initiators logged in through a generated (dynamic) ACL */
  dynamic: string[];
  /** initiators with an explicit ACL and a live session through it */
  explicit: string[];
}

/** One gluster-block block as LIO holds it; either half may be missing (an orphan). */
export interface LioBlockState {
  /** backstore name, or undefined when only the target exists and links nothing */
  name?: string;
  /** from the target IQN, else from the backstore WWN */
  gbid?: string;
  backstore?: BackstoreState;
  target?: TargetState;
}

export interface LioTargets {
  apply(spec: BlockTargetSpec): Promise<ApplyReport>;
  remove(ref: { name: string; iqn: string }): Promise<void>;
  list(): Promise<LioBlockState[]>;
  get(iqn: string): Promise<LioBlockState | undefined>;
  /** get() of each IQN in one pass; every IQN asked is a key */
  getMany(iqns: readonly string[]): Promise<Map<string, LioBlockState | undefined>>;
  /** the IQNs of the specs apply() would change, judged in one read-only pass (nothing written) */
  pendingMany(specs: readonly BlockTargetSpec[]): Promise<Set<string>>;
  /** every TPG of the target with its live sessions; undefined when there is no such target (read only) */
  sessions(iqn: string): Promise<TpgSessions[] | undefined>;
  /** every gluster-block target here → whether this node's enabled TPG holds the ALUA active/optimized path (a few reads per target) */
  activePaths(): Promise<Map<string, boolean>>;
}

export const DEFAULT_CMD_TIME_OUT_SEC = 130;
/**
 * tcmu's command ring per storage object, set before enable. The kernel's
 * default of 8 MiB is vmalloc'ed for every object: 500 blocks took 4.2 GiB of
 * a storage node's memory in the lab (~8.4 MiB each). 2 MiB holds over 10,000
 * command entries, far more than the 64 a session queues per LUN. Kernels
 * before 5.12 ignore the option; objects made before keep theirs.
 */
export const CMD_RING_SIZE_MB = 2;
export const ALUA_AO_GROUP = "glfs_tg_pt_gp_ao";
export const ALUA_ANO_GROUP = "glfs_tg_pt_gp_ano";
export const ALUA_DEFAULT_GROUP = "default_tg_pt_gp";
