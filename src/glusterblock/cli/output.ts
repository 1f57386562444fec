// What the gluster-block CLI prints, byte for byte as the original 0.5.1
// (its rpc/block_*.c formatters and the recorded samples). Functions return
// {stdout, stderr, exitCode} and do no I/O. As the original's CLI does, a
// result goes to stdout when the exit code is 0 and to stderr otherwise.
//
// The odd spacing is the original's and tools parse it: its host lists were
// built as " a b c", so "PORTAL(S):  a" and "SUCCESSFUL ON:  a" carry two
// spaces, delete's "SUCCESSFUL ON:   a" three, and create's rollback lists a
// trailing one.
import { formatSize } from "../../identity/size.js";
import type {
  AdoptResult,
  AuditResult,
  CliOutput,
  CreateResult,
  DeleteResult,
  ErrorResult,
  InfoResult,
  ListResult,
  ModifyAuthResult,
  ModifySizeResult,
  ReplaceResult,
} from "./types.js";
import type { CliUsageError } from "./args.js";
import { type JsonStyle, type JsonValue, jsonObject, renderJson } from "./json.js";

export interface VersionInfo {
  readonly version: string;
  /** The lines after the first, as the original printed them. */
  readonly body: string;
}

/** The original 0.5.1's version text; the body (repository, copyright, licence) is the original's. */
export const ORIGINAL_VERSION_INFO: VersionInfo = {
  version: "0.5.1",
  body:
    "Repository rev: https://github.com/gluster/gluster-block.git\n" +
    "Copyright (c) 2016 Red Hat, Inc. <https://redhat.com/>\n" +
    "gluster-block comes with ABSOLUTELY NO WARRANTY.\n" +
    "It is licensed to you under your choice of the GNU Lesser\n" +
    "General Public License, version 3 or any later version (LGPLv3\n" +
    "or later), or the GNU General Public License, version 2 (GPLv2),\n" +
    "in all cases as published by the Free Software Foundation.",
};

/** The exit code of a failure code: 1..255 as is, anything else 255 (the original's default). */
export function exitCodeOf(errCode: number | undefined): number {
  if (errCode === undefined || errCode === 0) return 0;
  return Number.isInteger(errCode) && errCode > 0 && errCode <= 255 ? errCode : 255;
}

function emit(text: string, exitCode: number): CliOutput {
  return exitCode === 0 ? { stdout: text, stderr: "", exitCode } : { stdout: "", stderr: text, exitCode };
}

function json(value: JsonValue, style: JsonStyle, exitCode: number): CliOutput {
  return emit(`${renderJson(value, style)}\n`, exitCode);
}

/** " a b c", the original's host-list form. */
function spaced(list: readonly string[]): string {
  return list.map((h) => ` ${h}`).join("");
}

const nonEmpty = (list: readonly string[] | undefined): readonly string[] | undefined => (list !== undefined && list.length > 0 ? list : undefined);

export function renderVersion(info: VersionInfo = ORIGINAL_VERSION_INFO): CliOutput {
  return emit(`gluster-block (${info.version})\n${info.body}\n`, 0);
}

/** The original's usage text, with our `audit` added after `replace`. */
export function renderHelp(version: string = ORIGINAL_VERSION_INFO.version): CliOutput {
  return emit(
    `gluster-block (${version})\n` +
      "usage:\n" +
      "  gluster-block [timeout <seconds>] <command> <volname[/blockname]> [<args>] [--json*]\n" +
      "\n" +
      "commands:\n" +
      "  create  <volname/blockname> [ha <count>]\n" +
      "                              [auth <enable|disable>]\n" +
      "                              [prealloc <full|no>]\n" +
      "                              [storage <filename>]\n" +
      "                              [ring-buffer <size-in-MB-units>]\n" +
      "                              [block-size <size-in-Byte-units>]\n" +
      "                              [io-timeout <N-in-Second>]\n" +
      "                              <host1[,host2,...]> [size]\n" +
      "        create block device [defaults: ha 1, auth disable, prealloc full, size in bytes,\n" +
      "                             ring-buffer and block-size default size dependends on kernel,\n" +
      "                             io-timeout 43s]\n" +
      "\n" +
      "  list    <volname>\n" +
      "        list available block devices.\n" +
      "\n" +
      "  info    <volname/blockname>\n" +
      "        details about block device.\n" +
      "\n" +
      "  delete  <volname/blockname> [unlink-storage <yes|no>] [force]\n" +
      "        delete block device.\n" +
      "\n" +
      "  modify  <volname/blockname> [auth <enable|disable>] [size <size> [force]]\n" +
      "        modify block device.\n" +
      "\n" +
      "  replace <volname/blockname> <old-node> <new-node> [force]\n" +
      "        replace operations.\n" +
      "\n" +
      OUR_COMMANDS_HELP +
      "  reload <volname/blockname> [force]\n" +
      "        reload a block device.\n" +
      "\n" +
      "  genconfig <volname[,volume2,volume3,...]> enable-tpg <host>\n" +
      "        generate the block volumes target configuration.\n" +
      "\n" +
      "  help\n" +
      "        show this message and exit.\n" +
      "\n" +
      "  version\n" +
      "        show version info and exit.\n" +
      "\n" +
      "common cli options: (fixed formats)\n" +
      "  timeout <seconds>\n" +
      "        it is the time in seconds that cli can wait for daemon to respond.\n" +
      "        [default: timeout 300]\n" +
      "  --json*\n" +
      "        used to request the output result in json format [default: plain text]\n" +
      "        supported JSON formats: --json|--json-plain|--json-spaced|--json-pretty\n",
    0,
  );
}

/** Our addition to the help text (tests remove it to compare with the original's). */
export const AUDIT_HELP =
  "  audit   <volname> [--fix]\n" + "        check every block device of the volume against its metadata; --fix repairs what is safe.\n" + "\n";

/** Ours too: the road off the original (README, "Migrating from gluster-block 0.5.x / heketi"). */
export const ADOPT_HELP =
  "  adopt   <volname/blockname> [initiator <iqn1[,iqn2,...]>] [--dry-run]\n" +
  "        turn a block made by gluster-block 0.5.x to per-initiator ACLs, keeping its identity;\n" +
  "        every initiator logged in now (and those named) stays let in; --dry-run lists the changes.\n" +
  "\n";

/** Every line of help the original did not have (tests remove it to compare with the original's). */
export const OUR_COMMANDS_HELP = AUDIT_HELP + ADOPT_HELP;

export type Operation = "create" | "list" | "info" | "delete" | "modify" | "modify-size" | "replace" | "reload" | "genconfig" | "audit" | "adopt";

/**
 * A failed operation: JSON `{"RESULT":"FAIL","errCode":N,"errMsg":"..."}`;
 * plain `<message>\nRESULT:FAIL\n` (no space after the colon, as the
 * original), except info, which prints the message alone. Always stderr.
 */
export function renderError(op: Operation, err: ErrorResult, style?: JsonStyle): CliOutput {
  const code = exitCodeOf(err.errCode) || 255;
  if (style !== undefined) {
    return json(
      jsonObject([
        ["RESULT", "FAIL"],
        ["errCode", code],
        ["errMsg", err.errMsg],
      ]),
      style,
      code,
    );
  }
  return emit(op === "info" ? `${err.errMsg}\n` : `${err.errMsg}\nRESULT:FAIL\n`, code);
}

/** An argument error: JSON as any error, or the message then the command's usage line. Exits with the error's code: 255 for a command's bad arguments, 1 for no command or an unknown one (as 0.5.1). */
export function renderUsageError(e: CliUsageError): CliOutput {
  if (e.json !== undefined) return renderError("create", { errCode: e.exitCode, errMsg: e.message }, e.json);
  return emit(`${e.message}\n${e.usage === undefined ? "" : `${e.usage}\n`}`, e.exitCode);
}

export function renderCreate(r: CreateResult, style?: JsonStyle): CliOutput {
  const code = exitCodeOf(r.errCode);
  const result = code === 0 ? "SUCCESS" : "FAIL";
  const rbFailed = nonEmpty(r.rollbackFailedOn);
  const rbSuccess = nonEmpty(r.rollbackSuccessOn);
  if (style !== undefined) {
    return json(
      jsonObject([
        ["IQN", r.iqn],
        ["USERNAME", r.username],
        ["PASSWORD", r.username === undefined ? undefined : (r.password ?? "")],
        ["PORTAL(S)", [...r.portals]],
        ["ROLLBACK FAILED ON", rbFailed && [...rbFailed]],
        ["ROLLBACK SUCCESS ON", rbSuccess && [...rbSuccess]],
        ["RESULT", result],
      ]),
      style,
      code,
    );
  }
  // the original de-duplicated the rollback lists into "a b " form
  const rb = (label: string, list: readonly string[] | undefined): string => (list === undefined ? "" : `${label}: ${list.map((h) => `${h} `).join("")}\n`);
  return emit(
    `IQN: ${r.iqn === "" ? "-" : r.iqn}\n` +
      (r.username === undefined ? "" : `USERNAME: ${r.username}\nPASSWORD: ${r.password ?? ""}\n`) +
      `PORTAL(S): ${r.portals.length === 0 ? "-" : spaced(r.portals)}\n` +
      rb("ROLLBACK FAILED ON", rbFailed) +
      rb("ROLLBACK SUCCESS ON", rbSuccess) +
      `RESULT: ${result}\n`,
    code,
  );
}

export function renderInfo(r: InfoResult, style?: JsonStyle): CliOutput {
  const size = formatSize(r.sizeBytes);
  const timeout = `${r.ioTimeout} Seconds`;
  if (style !== undefined) {
    return json(
      jsonObject([
        ["NAME", r.name],
        ["VOLUME", r.volume],
        ["GBID", r.gbid],
        ["SIZE", size],
        ["HA", r.ha],
        ["IOTIMEOUT", timeout],
        ["PASSWORD", r.password],
        ["EXPORTED ON", [...r.exportedOn]],
        ["RESIZE FAILED ON", r.resizeFailedOn.length === 0 ? undefined : jsonObject(r.resizeFailedOn.map((f) => [f.host, formatSize(f.currentSizeBytes)]))],
        ["ENCOUNTERED FAILURES ON", nonEmpty(r.failedOn) && [...r.failedOn]],
      ]),
      style,
      0,
    );
  }
  return emit(
    `NAME: ${r.name}\nVOLUME: ${r.volume}\nGBID: ${r.gbid}\nSIZE: ${size}\nHA: ${r.ha}\n` +
      `IOTIMEOUT: ${timeout}\nPASSWORD: ${r.password}\nEXPORTED ON:${spaced(r.exportedOn)}` +
      (r.resizeFailedOn.length === 0 ? "" : `\nRESIZE FAILED ON:${r.resizeFailedOn.map((f) => ` ${f.host}:[${formatSize(f.currentSizeBytes)}]`).join("")}`) +
      (r.failedOn.length === 0 ? "" : `\nENCOUNTERED FAILURES ON:${spaced(r.failedOn)}`) +
      "\n",
    0,
  );
}

/** Block names one per line (the original printed "*Nil*" for none); JSON `{"blocks":[...],"RESULT":"SUCCESS"}`. */
export function renderList(r: ListResult, style?: JsonStyle): CliOutput {
  if (style !== undefined)
    return json(
      jsonObject([
        ["blocks", [...r.blocks]],
        ["RESULT", "SUCCESS"],
      ]),
      style,
      0,
    );
  return emit(r.blocks.length === 0 ? "*Nil*\n" : r.blocks.map((b) => `${b}\n`).join(""), 0);
}

export function renderModifyAuth(r: ModifyAuthResult, style?: JsonStyle): CliOutput {
  const code = exitCodeOf(r.errCode);
  const result = code === 0 ? "SUCCESS" : "FAIL";
  const creds = code === 0 && r.auth && r.username !== undefined;
  const failed = nonEmpty(r.failedOn);
  const ok = nonEmpty(r.successfulOn);
  const rbFailed = nonEmpty(r.rollback?.failedOn);
  const rbOk = nonEmpty(r.rollback?.successOn);
  if (style !== undefined) {
    return json(
      jsonObject([
        ["IQN", r.iqn],
        ["USERNAME", creds ? r.username : undefined],
        ["PASSWORD", creds ? (r.password ?? "") : undefined],
        ["FAILED ON", failed && [...failed]],
        ["SUCCESSFUL ON", ok && [...ok]],
        ["ROLLBACK FAILED ON", rbFailed && [...rbFailed]],
        ["ROLLBACK SUCCESS ON", rbOk && [...rbOk]],
        ["RESULT", result],
      ]),
      style,
      code,
    );
  }
  const line = (label: string, list: readonly string[] | undefined): string => (list === undefined ? "" : `${label}: ${spaced(list)}\n`);
  return emit(
    `IQN: ${r.iqn}\n` +
      (creds ? `USERNAME: ${r.username}\nPASSWORD: ${r.password ?? ""}\n` : "") +
      line("FAILED ON", failed) +
      line("SUCCESSFUL ON", ok) +
      line("ROLLBACK FAILED ON", rbFailed) +
      line("ROLLBACK SUCCESS ON", rbOk) +
      `RESULT: ${result}\n`,
    code,
  );
}

/** The message of a failed resize: "block volume resize failed: <host>:[<size it has>] ...". */
export function resizeFailureMessage(failed: readonly { host: string; currentSizeBytes: bigint }[]): string {
  return `block volume resize failed:${failed.map((f) => ` ${f.host}:[${formatSize(f.currentSizeBytes)}]`).join("")}`;
}

export function renderModifySize(r: ModifySizeResult, style?: JsonStyle): CliOutput {
  const code = exitCodeOf(r.errCode);
  const failed = nonEmpty(r.failedOn);
  const ok = nonEmpty(r.successfulOn);
  const skipped = nonEmpty(r.skippedOn);
  const errMsg = resizeFailureMessage(r.resizeFailedOn ?? []);
  if (style !== undefined) {
    return json(
      jsonObject([
        ["IQN", r.iqn],
        ["SIZE", code === 0 ? formatSize(r.sizeBytes) : undefined],
        ["FAILED ON", failed && [...failed]],
        ["SUCCESSFUL ON", ok && [...ok]],
        ["SKIPPED ON", skipped && [...skipped]],
        ["RESULT", code === 0 ? "SUCCESS" : "FAIL"],
        ["errCode", code === 0 ? undefined : code],
        ["errMsg", code === 0 ? undefined : errMsg],
      ]),
      style,
      code,
    );
  }
  // on failure the original printed only the message
  if (code !== 0) return emit(`${errMsg}\n`, code);
  return emit(
    `IQN: ${r.iqn}\nSIZE: ${formatSize(r.sizeBytes)}\n` +
      (failed === undefined ? "" : `FAILED ON: ${spaced(failed)}\n`) +
      (ok === undefined ? "" : `SUCCESSFUL ON: ${spaced(ok)}\n`) +
      (skipped === undefined ? "" : `SKIPPED ON:${spaced(skipped)}\n`) +
      "RESULT: SUCCESS\n",
    code,
  );
}

export function renderDelete(r: DeleteResult, style?: JsonStyle): CliOutput {
  const code = exitCodeOf(r.errCode);
  const failed = nonEmpty(r.failedOn);
  const ok = nonEmpty(r.successfulOn);
  if (style !== undefined) {
    return json(
      jsonObject([
        ["FAILED ON", failed && [...failed]],
        ["SUCCESSFUL ON", ok && [...ok]],
        ["RESULT", code === 0 ? "SUCCESS" : "FAIL"],
      ]),
      style,
      code,
    );
  }
  return emit(
    (failed === undefined ? "" : `FAILED ON:  ${spaced(failed)}\n`) +
      `SUCCESSFUL ON: ${ok === undefined ? "None" : ` ${spaced(ok)}`}\n` +
      `RESULT: ${code === 0 ? "SUCCESS" : "FAIL"}\n`,
    code,
  );
}

/** 0.5.1's answer to a replace onto a node that already serves the block (exit 224, the error form, no other keys). */
export const ALREADY_CONFIGURED_EXIT_CODE = 224;

export function renderReplace(r: ReplaceResult, style?: JsonStyle): CliOutput {
  if (r.outcome === "skipped") {
    return style !== undefined
      ? json(
          jsonObject([
            ["NAME", r.name],
            ["RESULT", "SKIPPED"],
          ]),
          style,
          0,
        )
      : emit(`NAME: ${r.name}\nRESULT: SKIPPED\n\n`, 0);
  }
  if (r.outcome === "new-node-in-use") {
    const errMsg = `block '${r.name}' was already configured on node '${r.newNode}' for volume '${r.volume}'`;
    return renderError("replace", { errCode: ALREADY_CONFIGURED_EXIT_CODE, errMsg }, style);
  }
  const createLabel = `CREATE ${r.create.state}`;
  const deleteLabel = r.delete.state === "FAILED" && r.force ? "DELETE FAILED (ignored)" : `DELETE ${r.delete.state}`;
  const portalSkipped = "skippedOn" in r.portal ? r.portal.skippedOn : undefined;
  const portalFailed = "failedOn" in r.portal ? nonEmpty(r.portal.failedOn) : undefined;
  const portalOk = "successOn" in r.portal ? nonEmpty(r.portal.successOn) : undefined;
  const failed = r.create.state === "FAILED" || (r.delete.state === "FAILED" && !r.force) || portalFailed !== undefined;
  const code = r.errCode !== undefined && r.errCode !== 0 ? exitCodeOf(r.errCode) : failed ? 255 : 0;
  const result = code === 0 ? "SUCCESS" : "FAIL";
  if (style !== undefined) {
    return json(
      jsonObject([
        ["NAME", r.name],
        [createLabel, r.create.host],
        [deleteLabel, r.delete.host],
        ["REPLACE PORTAL SKIPPED ON", portalSkipped && [...portalSkipped]],
        ["REPLACE PORTAL FAILED ON", portalFailed && [...portalFailed]],
        ["REPLACE PORTAL SUCCESS ON", portalOk && [...portalOk]],
        ["RESULT", result],
      ]),
      style,
      code,
    );
  }
  return emit(
    `NAME: ${r.name}\n${createLabel}: ${r.create.host}\n${deleteLabel}: ${r.delete.host}\n` +
      (portalSkipped === undefined ? "" : `REPLACE PORTAL SKIPPED ON: ${spaced(portalSkipped)}\n`) +
      (portalFailed === undefined ? "" : `REPLACE PORTAL FAILED ON: ${spaced(portalFailed)}\n`) +
      (portalOk === undefined ? "" : `REPLACE PORTAL SUCCESS ON: ${spaced(portalOk)}\n`) +
      `RESULT: ${result}\n\n`,
    code,
  );
}

/**
 * Ours (the original had no adopt), in the original's `KEY: value` style:
 * the block's identity, who was logged in where, the initiators let in, one
 * CHANGE line per change made (or, dry run, to be made), and the outcome.
 */
export function renderAdopt(r: AdoptResult, style?: JsonStyle): CliOutput {
  const code = exitCodeOf(r.errCode);
  const result = code === 0 ? "SUCCESS" : "FAIL";
  const outcome = r.outcome === "adopted" ? "ADOPTED" : r.outcome === "already-adopted" ? "ALREADY ADOPTED" : "DRY RUN: NOTHING CHANGED";
  if (style !== undefined) {
    return json(
      jsonObject([
        ["NAME", r.name],
        ["GBID", r.gbid],
        ["IQN", r.iqn],
        ["WWID", r.wwid],
        ["PORTAL(S)", [...r.portals]],
        [
          "LOGGED IN",
          r.sessions.map((s) =>
            jsonObject([
              ["HOST", s.host],
              ["INITIATORS", [...s.initiators]],
            ]),
          ),
        ],
        ["INITIATORS", [...r.initiators]],
        ["CHANGES", [...r.changes]],
        ["OUTCOME", outcome],
        ["RESULT", result],
      ]),
      style,
      code,
    );
  }
  return emit(
    `NAME: ${r.name}\nGBID: ${r.gbid}\nIQN: ${r.iqn}\nWWID: ${r.wwid}\n` +
      `PORTAL(S): ${r.portals.length === 0 ? "-" : spaced(r.portals)}\n` +
      r.sessions.map((s) => `LOGGED IN ON ${s.host}:${s.initiators.length === 0 ? " -" : spaced(s.initiators)}\n`).join("") +
      `INITIATORS:${r.initiators.length === 0 ? " -" : spaced(r.initiators)}\n` +
      r.changes.map((c) => `CHANGE: ${c}\n`).join("") +
      `OUTCOME: ${outcome}\n` +
      `RESULT: ${result}\n`,
    code,
  );
}

/** Ours (the original had no audit): one line per block, in the original's `KEY: value` style. */
export function renderAudit(r: AuditResult, style?: JsonStyle): CliOutput {
  const code = exitCodeOf(r.errCode);
  const result = code === 0 ? "SUCCESS" : "FAIL";
  if (style !== undefined) {
    return json(
      jsonObject([
        ["VOLUME", r.volume],
        [
          "BLOCKS",
          r.findings.map((f) =>
            jsonObject([
              ["NAME", f.name],
              ["STATE", f.state],
              ["DETAIL", f.detail],
              ["ACTION", f.action],
            ]),
          ),
        ],
        ["RESULT", result],
      ]),
      style,
      code,
    );
  }
  return emit(
    `VOLUME: ${r.volume}\n` +
      r.findings
        .map(
          (f) =>
            `NAME: ${f.name} STATE: ${f.state}` +
            (f.detail === undefined ? "" : ` DETAIL: ${f.detail}`) +
            (f.action === undefined ? "" : ` ACTION: ${f.action}`) +
            "\n",
        )
        .join("") +
      `RESULT: ${result}\n`,
    code,
  );
}
