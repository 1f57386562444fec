// Host fixture for integration tests: N real glusterd peers, each in its own
// network + mount namespace on bridge glnbr0 (10.214.0.0/24), with a started
// replica-3 volume.  Driven through gluster-netns.sh.
//
//   const g = await startGlusterNetns({ nodes: 3, volume: "gv0" });
//   await g.cli(1, ["volume", "info"]);  await g.mount("/mnt/x");  await g.down();
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { failureMessage, run } from "../../../lab/proc.js";
import type { RunResult } from "../../../lab/proc.js";

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "gluster-netns.sh");

export interface GlusterNetnsOptions {
  nodes?: 1 | 2 | 3;
  volume?: string;
  /** gluster option group for the volume; default gluster-block, "" for none */
  group?: string;
  /** state directory; default /var/tmp/gluster-block-csi-gln */
  dir?: string;
  /** first three octets of the subnet; default 10.214.0 */
  net?: string;
}

export interface GlusterNetns {
  readonly nodes: number;
  readonly volume: string;
  /** the fixture's state directory (peer i's bricks: <dir>/n<i>/bricks/<volume>-b<k>) */
  readonly dir: string;
  /** peer i's address on the bridge (1-based) */
  address(i: number): string;
  /** path of peer i's glusterd socket, for `gluster --glusterd-sock` */
  socket(i: number): string;
  /** gluster CLI (--mode=script) against peer i; exit status in `code` */
  cli(i: number, args: readonly string[]): Promise<RunResult>;
  /** like cli, throws on a non-zero exit */
  cliMust(i: number, args: readonly string[]): Promise<RunResult>;
  /** FUSE-mount the volume on the host at dir */
  mount(dir: string): Promise<void>;
  umount(dir: string): Promise<void>;
  /** stop every peer, unmount, remove namespaces, bridge and state */
  down(): Promise<void>;
}

export async function startGlusterNetns(o: GlusterNetnsOptions = {}): Promise<GlusterNetns> {
  const nodes = o.nodes ?? 3;
  const volume = o.volume ?? "gv0";
  const dir = o.dir ?? "/var/tmp/gluster-block-csi-gln";
  const net = o.net ?? "10.214.0";
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODES: String(nodes),
    VOL: volume,
    GLN_DIR: dir,
    GLN_NET: net,
    VOL_GROUP: o.group ?? "gluster-block",
  };
  const script = async (args: string[], timeoutMs = 120_000): Promise<RunResult> => {
    const r = await run("bash", [SCRIPT, ...args], { env, timeoutMs });
    if (r.code !== 0) throw new Error(failureMessage(`gluster-netns.sh ${args.join(" ")}`, r));
    return r;
  };
  try {
    await script(["up"], 180_000);
  } catch (err) {
    await script(["down"]).catch(() => undefined);
    throw err;
  }
  const cli = (i: number, args: readonly string[]): Promise<RunResult> =>
    run("gluster", ["--mode=script", `--glusterd-sock=${join(dir, `n${i}`, "run/glusterd.socket")}`, ...args], {
      timeoutMs: 120_000,
    });
  return {
    nodes,
    volume,
    dir,
    address: (i) => `${net}.${i}`,
    socket: (i) => join(dir, `n${i}`, "run/glusterd.socket"),
    cli,
    async cliMust(i, args) {
      const r = await cli(i, args);
      if (r.code !== 0) throw new Error(failureMessage(`gluster ${args.join(" ")} (peer ${i})`, r));
      return r;
    },
    mount: async (d) => void (await script(["mount", d])),
    umount: async (d) => void (await script(["umount", d])),
    down: async () => void (await script(["down"])),
  };
}
