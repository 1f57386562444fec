// The flags of `gluster-block-csi import`, and where its blockd and
// Kubernetes flags come from. It is meant to run inside the controller's
// container (kubectl exec deploy/gluster-block-csi-controller -c
// gluster-block-csi -- gluster-block-csi import ...), where the controller
// was started with every flag it needs to reach blockd (TLS files, key file,
// endpoints or discovery) and the driver's name and namespace. So when the
// command line names none of blockd's connection flags, the import takes the
// command line of the controller process in the same container (found in
// /proc: PID 1 first, which in the chart's container is tini, whose command
// line ends in the controller's; then every other process, for a container
// started otherwise), and its own flags come after, so they win. Nothing else is shared with the running controller: the import makes
// its own blockd channels and Kubernetes client from the same flags.
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { FlagSpecs } from "../../util/flags.js";

export const IMPORT_FLAGS: FlagSpecs = {
  pv: { type: "string", help: "import: the in-tree gluster-block PV to move to this driver" },
  "hosting-volume": { type: "string", help: "import: the Gluster volume its block is on (heketi's; no PV names it)" },
  "dry-run": { type: "boolean", help: "import: print what would change, change nothing" },
  "wait-for-pods-gone": {
    type: "string",
    help: "import: seconds to wait for the pods using the claim to be gone (scale its workload down meanwhile); default 0 = refuse while any does",
  },
};

/**
 * The flags that say how to reach gluster-blockd: when the import's command
 * line has none of them, it takes the controller's command line.
 */
export const BLOCKD_CONNECTION_FLAGS: readonly string[] = [
  "blockd-endpoints",
  "blockd-key-file",
  "blockd-tls-cert",
  "blockd-tls-key",
  "blockd-tls-ca",
  "blockd-insecure-no-auth",
  "blockd-insecure-key-over-plaintext",
];

/** Whether argv names any of BLOCKD_CONNECTION_FLAGS (as --flag, --flag=value). */
export function namesBlockdConnection(argv: readonly string[]): boolean {
  return argv.some((a) => BLOCKD_CONNECTION_FLAGS.some((f) => a === `--${f}` || a.startsWith(`--${f}=`)));
}

const PROGRAMS = new Set(["gluster-block-csi", "gluster-block-csi.js"]);

/** The flags after `gluster-block-csi controller` in a command line; undefined when it is not the controller's. */
export function controllerFlagsIn(args: readonly string[]): string[] | undefined {
  const at = args.findIndex((a, i) => PROGRAMS.has(basename(a)) && args[i + 1] === "controller");
  return at < 0 ? undefined : args.slice(at + 2);
}

export interface ControllerProcess {
  pid: number;
  /** its flags, after `controller` */
  flags: string[];
}

async function cmdline(proc: string, pid: string): Promise<string[]> {
  const text = await readFile(join(proc, pid, "cmdline"), "utf8").catch(() => "");
  return text.split("\0").filter((a, i, all) => a !== "" || i < all.length - 1);
}

/** The controller process in this PID namespace: PID 1 first, then every other; undefined when there is none. */
export async function findControllerProcess(proc = "/proc", self = process.pid): Promise<ControllerProcess | undefined> {
  const pids = (await readdir(proc).catch(() => [] as string[])).filter((p) => /^\d+$/.test(p) && Number(p) !== self);
  pids.sort((a, b) => (a === "1" ? -1 : b === "1" ? 1 : Number(a) - Number(b)));
  for (const pid of pids) {
    const flags = controllerFlagsIn(await cmdline(proc, pid));
    if (flags) return { pid: Number(pid), flags };
  }
  return undefined;
}

/** The command line the import parses, and where its blockd and Kubernetes flags came from, in words for its output. */
export interface ImportArgv {
  argv: string[];
  flagsFrom: string;
}

/**
 * The import's own flags when they name how to reach blockd; else the
 * controller process's flags followed by its own (which win: a flag given
 * twice takes its last value). No controller process and no blockd flag:
 * its own, and the controller's start-up checks say what is missing.
 */
export async function importArgv(own: readonly string[], proc = "/proc", self = process.pid): Promise<ImportArgv> {
  if (namesBlockdConnection(own)) return { argv: [...own], flagsFrom: "this command line" };
  const ctl = await findControllerProcess(proc, self);
  if (!ctl) return { argv: [...own], flagsFrom: "this command line (no blockd flag given, and no `gluster-block-csi controller` process found in /proc)" };
  return {
    argv: [...ctl.flags, ...own],
    flagsFrom: `the controller process's (pid ${ctl.pid}, read from /proc/${ctl.pid}/cmdline: ${ctl.flags.join(" ")}), then this command line's`,
  };
}
