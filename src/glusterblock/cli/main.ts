// The gluster-block CLI: parse the original's syntax, ask the local
// gluster-blockd over its unix socket, print what the original printed.
//
// A CLI run is a whole process, and its start is most of what a user waits
// for: this module and what it imports load only the parsing and the output;
// the call to blockd (blockd-call.ts: node's HTTP/2 and a small codec, not
// grpc-js) is imported when a command needs it, so help, version and usage
// errors load nothing more.
import { status } from "../../rpc/status.js";
import { isServiceError } from "../../rpc/errors.js";
import type { ProtoObject } from "../../rpc/proto-codec.js";
import type { CreateBlockResponse__Output } from "../../generated/glusterblock/v1/CreateBlockResponse.js";
import type { BlockInfo__Output } from "../../generated/glusterblock/v1/BlockInfo.js";
import type { ListBlocksResponse__Output } from "../../generated/glusterblock/v1/ListBlocksResponse.js";
import type { DeleteBlockResponse__Output } from "../../generated/glusterblock/v1/DeleteBlockResponse.js";
import type { ModifyAuthResponse__Output } from "../../generated/glusterblock/v1/ModifyAuthResponse.js";
import type { ResizeBlockResponse__Output } from "../../generated/glusterblock/v1/ResizeBlockResponse.js";
import type { ReloadBlockResponse__Output } from "../../generated/glusterblock/v1/ReloadBlockResponse.js";
import type { AuditReport__Output } from "../../generated/glusterblock/v1/AuditReport.js";
import type { AdoptBlockResponse__Output } from "../../generated/glusterblock/v1/AdoptBlockResponse.js";
import type { ReplaceNodeResponse__Output } from "../../generated/glusterblock/v1/ReplaceNodeResponse.js";
import { parseArgs, CliUsageError } from "./args.js";
import {
  renderAdopt,
  renderAudit,
  renderCreate,
  renderDelete,
  renderError,
  renderHelp,
  renderInfo,
  renderList,
  renderModifyAuth,
  renderModifySize,
  renderReplace,
  renderUsageError,
  renderVersion,
  type Operation,
} from "./output.js";
import type { AuditState, CliCommand, CliOutput, JsonStyle } from "./types.js";
import { grpcCodeToErrCode } from "../blockd/error-map.js";
import { processSecrets } from "../../util/secrets.js";

export const DEFAULT_CLI_TIMEOUT_SEC = 300;

const opOf = (c: CliCommand): Operation => (c.kind === "modify-auth" ? "modify" : c.kind === "modify-size" ? "modify-size" : (c.kind as Operation));

const AUDIT_STATE: Record<string, AuditState> = {
  "lio-without-metadata": "orphan-target",
  "metadata-without-target": "target-drift",
  "file-without-metadata": "orphan-storage",
  "metadata-without-file": "storage-missing",
  "create-incomplete": "create-incomplete",
  "delete-incomplete": "delete-incomplete",
  "journal-corrupt": "journal-corrupt",
};

export async function runCli(argv: readonly string[], socketPath: string): Promise<CliOutput> {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    if (err instanceof CliUsageError) return renderUsageError(err);
    throw err;
  }
  const { command, json } = parsed;
  if (command.kind === "help") return renderHelp();
  if (command.kind === "version") return renderVersion();
  const timeoutSec = parsed.timeoutSec ?? DEFAULT_CLI_TIMEOUT_SEC;
  const { callBlockd } = await import("./blockd-call.js");
  const call: BlockdCall = (method, req) => callBlockd(socketPath, method, req, timeoutSec * 1000);
  try {
    return await dispatch(call, command, json);
  } catch (err) {
    if (!isServiceError(err)) throw err;
    const msg = errorMessage(command, err.code, err.details, socketPath, timeoutSec);
    return renderError(opOf(command), { errCode: grpcCodeToErrCode(err.code), errMsg: msg }, json);
  }
}

type BlockdCall = <R>(method: string, req: ProtoObject) => Promise<R>;

/** What the CLI says for blockd's error answer: the original's words where the original had its own. */
export function errorMessage(command: CliCommand, code: status, details: string, socketPath: string, timeoutSec: number): string {
  if (code === status.UNAVAILABLE && /connect|No connection established|ENOENT|ECONNREFUSED/i.test(details)) {
    return `failed to connect to gluster-blockd at ${socketPath}: is it running?`;
  }
  if (code === status.DEADLINE_EXCEEDED) return `gluster-blockd did not answer within ${timeoutSec} seconds; the operation may still complete (see info)`;
  // 0.5.1's words, its trailing newline included (json-c shows it as \n)
  if (command.kind === "create" && code === status.ALREADY_EXISTS) return `BLOCK with name: '${command.block}' already EXIST\n`;
  return details;
}

async function dispatch(call: BlockdCall, c: CliCommand, json: JsonStyle | undefined): Promise<CliOutput> {
  switch (c.kind) {
    case "create": {
      const r = await call<CreateBlockResponse__Output>("CreateBlock", {
        volume: c.volume,
        block: c.block,
        ha: c.ha,
        hosts: c.hosts,
        auth: c.auth,
        prealloc: c.prealloc ? "PREALLOC_FULL" : "PREALLOC_NO",
        size_bytes: (c.sizeBytes ?? 0n).toString(),
        ring_buffer_mb: c.ringBufferMb ?? 0,
        block_size: c.blockSize ?? 0,
        io_timeout_s: c.ioTimeout ?? 0,
        storage: c.storage ?? "",
        acl_mode: "ACL_MODE_GENERATED",
        fail_if_exists: true,
      });
      // one run prints one answer: its password is the process's for its (short) life
      processSecrets.add(r.password);
      return renderCreate({ iqn: r.iqn, portals: r.portals, ...(r.password ? { username: r.username, password: r.password } : {}) }, json);
    }
    case "list": {
      const r = await call<ListBlocksResponse__Output>("ListBlocks", { volume: c.volume });
      return renderList({ blocks: r.blocks }, json);
    }
    case "info": {
      const r = await call<BlockInfo__Output>("GetBlock", { volume: c.volume, block: c.block });
      return renderInfo(
        {
          name: r.name,
          volume: r.volume,
          gbid: r.gbid,
          sizeBytes: BigInt(r.size_bytes),
          ha: r.ha,
          ioTimeout: r.io_timeout_s,
          password: r.password,
          exportedOn: r.exported_on,
          failedOn: r.failed_on,
          resizeFailedOn: r.resize_failed_on.map((x) => {
            const i = x.lastIndexOf(":");
            return { host: x.slice(0, i), currentSizeBytes: BigInt(x.slice(i + 1)) };
          }),
        },
        json,
      );
    }
    case "delete": {
      const r = await call<DeleteBlockResponse__Output>("DeleteBlock", { volume: c.volume, block: c.block, unlink_storage: c.unlinkStorage, force: c.force });
      return renderDelete({ successfulOn: r.successful_on, failedOn: r.failed_on }, json);
    }
    case "modify-auth": {
      const r = await call<ModifyAuthResponse__Output>("ModifyAuth", { volume: c.volume, block: c.block, enable: c.auth });
      processSecrets.add(r.password);
      return renderModifyAuth(
        { iqn: r.iqn, auth: c.auth, ...(c.auth ? { username: r.username, password: r.password } : {}), successfulOn: r.successful_on, failedOn: r.failed_on },
        json,
      );
    }
    case "modify-size": {
      const r = await call<ResizeBlockResponse__Output>("ResizeBlock", {
        volume: c.volume,
        block: c.block,
        size_bytes: c.sizeBytes.toString(),
        force: c.force,
      });
      return renderModifySize({ iqn: r.iqn, sizeBytes: BigInt(r.size_bytes), successfulOn: r.successful_on, failedOn: r.failed_on, skippedOn: [] }, json);
    }
    case "reload": {
      const r = await call<ReloadBlockResponse__Output>("ReloadBlock", { volume: c.volume, block: c.block });
      return renderDelete({ successfulOn: r.successful_on, failedOn: r.failed_on }, json);
    }
    case "audit": {
      const r = await call<AuditReport__Output>("Audit", { volume: c.volume, fix: c.fix });
      return renderAudit(
        {
          volume: c.volume,
          fix: c.fix,
          findings: r.findings.map((f) => ({
            name: f.block,
            state: AUDIT_STATE[f.kind] ?? "target-drift",
            detail: `${f.host ? `${f.host}: ` : ""}${f.detail}`,
            ...(c.fix ? { action: f.fixed ? "fixed" : "none" } : {}),
          })),
        },
        json,
      );
    }
    case "adopt": {
      const r = await call<AdoptBlockResponse__Output>("AdoptBlock", { volume: c.volume, block: c.block, initiators: c.initiators, dry_run: c.dryRun });
      return renderAdopt(
        {
          name: c.block,
          outcome: r.outcome,
          gbid: r.gbid,
          iqn: r.iqn,
          wwid: r.wwid,
          portals: r.portals,
          sessions: r.sessions,
          initiators: r.initiators,
          changes: r.changes,
        },
        json,
      );
    }
    case "help":
      return renderHelp();
    case "version":
      return renderVersion();
    case "replace": {
      const r = await call<ReplaceNodeResponse__Output>("ReplaceNode", {
        volume: c.volume,
        block: c.block,
        old_node: c.oldNode,
        new_node: c.newNode,
        force: c.force,
      });
      if (r.outcome === "skipped") return renderReplace({ name: r.name, outcome: r.outcome }, json);
      if (r.outcome === "new-node-in-use") return renderReplace({ name: r.name, outcome: r.outcome, volume: c.volume, newNode: c.newNode }, json);
      return renderReplace(
        {
          name: r.name,
          outcome: "done",
          create: { state: r.created ? "SUCCESS" : "FAILED", host: c.newNode },
          delete: r.created ? { state: r.deleted ? "SUCCESS" : "FAILED", host: c.oldNode } : { state: "SKIPPED", host: c.oldNode },
          force: c.force,
          portal: r.created ? { failedOn: r.portal_failed_on, successOn: r.portal_success_on } : { skippedOn: [] },
        },
        json,
      );
    }
    case "genconfig":
      return renderError(
        opOf(c),
        {
          errCode: 255,
          errMsg: "genconfig is not needed: every gluster-blockd reconciles its targets from the journals at start (reload converges one block now)",
        },
        json,
      );
  }
}
