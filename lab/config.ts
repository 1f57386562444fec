// Where the lab lives and how it is addressed.  vm.sh/lib.sh use the same
// defaults and read the same environment variables.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const LAB_SCRIPTS = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(LAB_SCRIPTS, "..");
/** the checkout the VMs share at /lab/repo (vm.sh reads the same variable) */
export const LAB_REPO = resolve(process.env.LAB_REPO ?? REPO_ROOT);
export const LAB_CACHE = process.env.LAB_CACHE ?? "/var/tmp/gluster-block-csi-lab";
export const LAB_STATE = process.env.LAB_STATE ?? join(LAB_CACHE, "run");
export const LAB_NET = process.env.LAB_NET ?? "10.213.0";
export const LAB_BRIDGE = process.env.LAB_BRIDGE ?? "gbbr0";
export const SSH_BASE_PORT = Number(process.env.LAB_SSH_BASE ?? "10120");

/** The replica-3 block-hosting volume `up` creates. */
export const HOSTING_VOLUME = "block-test";
/** Highest VM number vm.sh accepts. */
export const MAX_NODES = 9;

export const vmDir = (i: number): string => join(LAB_STATE, `n${i}`);
export const nodeName = (i: number): string => `n${i}`;
export const nodeAddress = (i: number): string => `${LAB_NET}.${10 + i}`;
export const sshPort = (i: number): number => SSH_BASE_PORT + i;
export const sshKey = (): string => join(LAB_STATE, "id_ed25519");
export const vmScript = (): string => join(LAB_SCRIPTS, "vm.sh");
export const buildScript = (): string => join(LAB_SCRIPTS, "build-image.sh");
