// The CLI's own model: the commands a user types (parsed by args.ts) and the
// results it renders (output.ts) with what the original printed. The engine
// and blockd know none of these: main.ts maps a command to a blockd request
// and blockd's answer to one of these results.
import type { JsonStyle } from "./json.js";

export type { JsonStyle };

export interface CreateCommand {
  readonly kind: "create";
  readonly volume: string;
  readonly block: string;
  /** Number of hosts exporting the block (the first `ha` of `hosts`). */
  readonly ha: number;
  readonly auth: boolean;
  /** Fully allocate the backing file (the original's default). */
  readonly prealloc: boolean;
  readonly ringBufferMb?: number;
  readonly blockSize?: number;
  readonly ioTimeout?: number;
  /** Adopt an existing file on the volume instead of creating one; then there is no size. */
  readonly storage?: string;
  readonly hosts: readonly string[];
  readonly sizeBytes?: bigint;
}
export interface ListCommand {
  readonly kind: "list";
  readonly volume: string;
}
export interface InfoCommand {
  readonly kind: "info";
  readonly volume: string;
  readonly block: string;
}
export interface DeleteCommand {
  readonly kind: "delete";
  readonly volume: string;
  readonly block: string;
  readonly unlinkStorage: boolean;
  readonly force: boolean;
}
export interface ModifyAuthCommand {
  readonly kind: "modify-auth";
  readonly volume: string;
  readonly block: string;
  readonly auth: boolean;
}
export interface ModifySizeCommand {
  readonly kind: "modify-size";
  readonly volume: string;
  readonly block: string;
  readonly sizeBytes: bigint;
  readonly force: boolean;
}
export interface ReplaceCommand {
  readonly kind: "replace";
  readonly volume: string;
  readonly block: string;
  readonly oldNode: string;
  readonly newNode: string;
  readonly force: boolean;
}
/** The original's reload: ours reconciles the block's LIO objects from its journal. */
export interface ReloadCommand {
  readonly kind: "reload";
  readonly volume: string;
  readonly block: string;
  readonly force: boolean;
}
/** The original's genconfig: ours reconciles every block of the volumes, enabling `enableTpg`'s TPG. */
export interface GenconfigCommand {
  readonly kind: "genconfig";
  readonly volumes: readonly string[];
  readonly enableTpg: string;
}
/** Ours: check every journal of a volume against its backing files and LIO; with fix, repair what is safe. */
export interface AuditCommand {
  readonly kind: "audit";
  readonly volume: string;
  readonly fix: boolean;
}
/** Ours: a block made by the original (generated ACLs) turned to per-initiator ACLs, its identity kept; dryRun lists what would change. */
export interface AdoptCommand {
  readonly kind: "adopt";
  readonly volume: string;
  readonly block: string;
  /** initiators to let in beside those logged in now */
  readonly initiators: readonly string[];
  readonly dryRun: boolean;
}
export interface HelpCommand {
  readonly kind: "help";
}
export interface VersionCommand {
  readonly kind: "version";
}

export type CliCommand =
  | CreateCommand
  | ListCommand
  | InfoCommand
  | DeleteCommand
  | ModifyAuthCommand
  | ModifySizeCommand
  | ReplaceCommand
  | ReloadCommand
  | GenconfigCommand
  | AuditCommand
  | AdoptCommand
  | HelpCommand
  | VersionCommand;

export interface ParsedArgs {
  readonly command: CliCommand;
  /** Set when a --json* flag was given (--json is "spaced"). */
  readonly json?: JsonStyle;
  /** `timeout <seconds>` before the command: how long the CLI waits for the daemon. */
  readonly timeoutSec?: number;
}

/**
 * A failed operation's code (errno-like; the CLI exits with it): 2 no such
 * volume or block, 17 exists, 28 no space, 255 anything else.
 */
export interface ErrorResult {
  readonly errCode: number;
  readonly errMsg: string;
}

export interface CreateResult {
  readonly iqn: string;
  /** Present with auth: the CHAP user (the GBID) and password. */
  readonly username?: string;
  readonly password?: string;
  /** `<ip>:3260` of every exporting host. */
  readonly portals: readonly string[];
  /** When the create failed and was rolled back. */
  readonly rollbackFailedOn?: readonly string[];
  readonly rollbackSuccessOn?: readonly string[];
  /** 0 or absent = success. */
  readonly errCode?: number;
}

export interface InfoResult {
  readonly name: string;
  readonly volume: string;
  readonly gbid: string;
  readonly sizeBytes: bigint;
  readonly ha: number;
  /** Seconds; 0 = not set. */
  readonly ioTimeout: number;
  /** "" = auth off. */
  readonly password: string;
  readonly exportedOn: readonly string[];
  readonly failedOn: readonly string[];
  readonly resizeFailedOn: readonly { readonly host: string; readonly currentSizeBytes: bigint }[];
}

export interface ListResult {
  /** Block names in directory order (the original does not sort). */
  readonly blocks: readonly string[];
}

export interface ModifyAuthResult {
  readonly iqn: string;
  /** The mode asked for. */
  readonly auth: boolean;
  /** With auth enabled and success: the CHAP user (the GBID) and password. */
  readonly username?: string;
  readonly password?: string;
  readonly failedOn: readonly string[];
  readonly successfulOn: readonly string[];
  /** Present when a partial failure was rolled back. */
  readonly rollback?: { readonly failedOn: readonly string[]; readonly successOn: readonly string[] };
  readonly errCode?: number;
}

export interface ModifySizeResult {
  readonly iqn: string;
  readonly sizeBytes: bigint;
  readonly failedOn: readonly string[];
  readonly successfulOn: readonly string[];
  /** Hosts already at this size from an earlier, partly failed resize. */
  readonly skippedOn: readonly string[];
  /** On failure: hosts whose resize failed, with the size they still have. */
  readonly resizeFailedOn?: readonly { readonly host: string; readonly currentSizeBytes: bigint }[];
  readonly errCode?: number;
}

export interface DeleteResult {
  readonly failedOn: readonly string[];
  readonly successfulOn: readonly string[];
  readonly errCode?: number;
}

export type ReplaceStep =
  | { readonly state: "SUCCESS"; readonly host: string }
  | { readonly state: "FAILED"; readonly host: string }
  | { readonly state: "SKIPPED"; readonly host: string };

export type ReplaceResult =
  | { readonly name: string; readonly outcome: "skipped" }
  | { readonly name: string; readonly outcome: "new-node-in-use"; readonly volume: string; readonly newNode: string }
  | {
      readonly name: string;
      readonly outcome: "done";
      /** Target made on the new node. */
      readonly create: ReplaceStep;
      /** Target removed from the old node; a FAILED delete with force is reported as ignored. */
      readonly delete: ReplaceStep;
      readonly force: boolean;
      /** Other HA nodes' portal swap. */
      readonly portal: { readonly skippedOn: readonly string[] } | { readonly failedOn: readonly string[]; readonly successOn: readonly string[] };
      readonly errCode?: number;
    };

export type AuditState =
  | "ok"
  /** ENTRYCREATE INPROGRESS, or fewer than HA hosts configured. */
  | "create-incomplete"
  /** A delete started and did not finish. */
  | "delete-incomplete"
  /** The journal cannot be trusted (JournalError). */
  | "journal-corrupt"
  /** A backing file in /block-store that no journal names. */
  | "orphan-storage"
  /** A journal whose backing file is missing. */
  | "storage-missing"
  /** Hosts whose target differs from the journal (auth, size, missing LIO objects). */
  | "target-drift"
  /** LIO objects of a gluster-block target that no journal accounts for. */
  | "orphan-target";

export interface AuditFinding {
  /** Block name, or the GBID for orphan storage. */
  readonly name: string;
  readonly state: AuditState;
  readonly detail?: string;
  /** With --fix: what was done ("none" if nothing safe could be done). */
  readonly action?: string;
}

export interface AuditResult {
  readonly volume: string;
  readonly fix: boolean;
  readonly findings: readonly AuditFinding[];
  readonly errCode?: number;
}

export interface AdoptResult {
  readonly name: string;
  /** "adopted", "already-adopted" or "dry-run" */
  readonly outcome: string;
  readonly gbid: string;
  readonly iqn: string;
  readonly wwid: string;
  readonly portals: readonly string[];
  readonly sessions: readonly { readonly host: string; readonly initiators: readonly string[] }[];
  readonly initiators: readonly string[];
  readonly changes: readonly string[];
  readonly errCode?: number;
}

/** What the CLI prints and exits with; output functions compute it, main.ts writes it. */
export interface CliOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}
