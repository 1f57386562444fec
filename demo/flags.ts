// npm run demo's command line.
export interface DemoFlags {
  /** power the lab off at the end */
  down: boolean;
  /** leave the volumes, sessions, mounts and daemons in place for exploring */
  keep: boolean;
  /** only remove what an earlier run (--keep, or one cut short) left in the lab */
  cleanup: boolean;
  help: boolean;
}

export const USAGE = `usage: npm run demo [-- --down | --keep | --cleanup | --help]

Boots (or reuses) the 3-VM lab, starts gluster-blockd on the storage VMs, runs
the seed's example with the gluster-block CLI and a hand-driven initiator
(create ha 3 with CHAP, login on 3 portals, multipath, mkfs.xfs, mount, write),
then the same through the CSI controller and node plugin (CreateVolume,
ControllerPublish, NodeStage, NodePublish, write; through a real Kubernetes
cluster, helm and a PVC when K8S_BIN_DIR names Kubernetes binaries), and
removes all it made.

  --down     power the lab off at the end (default: leave it running for the next run)
  --keep     skip the teardown, to look around in the VMs (npm run lab -- ssh 1 ...);
             remove it all later with: npm run demo -- --cleanup
  --cleanup  only remove what an earlier --keep run (or one cut short) left behind
  --help     this text

The lab stays up unless --down is given; stop it with: npm run lab -- down`;

export function parseDemoFlags(argv: readonly string[]): DemoFlags {
  const known = new Set(["--down", "--keep", "--cleanup", "--help", "-h"]);
  const unknown = argv.filter((a) => !known.has(a));
  if (unknown.length > 0) throw new Error(`unknown argument ${JSON.stringify(unknown[0])}\n${USAGE}`);
  const flags: DemoFlags = {
    down: argv.includes("--down"),
    keep: argv.includes("--keep"),
    cleanup: argv.includes("--cleanup"),
    help: argv.includes("--help") || argv.includes("-h"),
  };
  if (flags.keep && (flags.down || flags.cleanup)) throw new Error(`--keep keeps what the demo made; it cannot go with ${flags.down ? "--down" : "--cleanup"}`);
  return flags;
}
