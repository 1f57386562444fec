// Where the node plugin finds the host: every path it reads or writes is
// rooted here, so unit tests run against temp directories and a container
// can mount the host's trees wherever it likes.
import { join } from "node:path";

export interface HostPaths {
  /** sysfs root ("/sys") */
  readonly sysfs: string;
  /** device nodes ("/dev") */
  readonly dev: string;
  /** open-iscsi's configuration and node database ("/etc/iscsi") */
  readonly iscsiDir: string;
  /** the plugin's own state (node records), outside every kubelet staging path */
  readonly stateDir: string;
  /** host-wide lock files ("/run/lock"): iscsiadm database writes are serialized through one */
  readonly lockDir: string;
  /** udev's device database ("/run/udev/data"): a disk is ready for multipathd once its entry is there */
  readonly udevData: string;
}

export function defaultHostPaths(stateDir: string): HostPaths {
  return { sysfs: "/sys", dev: "/dev", iscsiDir: "/etc/iscsi", stateDir, lockDir: "/run/lock", udevData: "/run/udev/data" };
}

export const recordsDir = (p: HostPaths): string => join(p.stateDir, "volumes");
export const initiatorNameFile = (p: HostPaths): string => join(p.iscsiDir, "initiatorname.iscsi");
export const iscsiDbLockFile = (p: HostPaths): string => join(p.lockDir, "gluster-block-csi-iscsiadm.lock");
