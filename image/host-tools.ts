// The host programs the image build needs, installed from Debian when missing
// (as lab/install-host-deps.sh does: apt-get only, waiting for another
// apt-get or dpkg that holds apt's locks).
import { exec, ExecError } from "../src/util/exec.js";
import { missingPrograms } from "../src/util/which.js";
import { say } from "./progress.js";

/** program -> the Debian package that ships it */
export const HOST_TOOLS: Readonly<Record<string, string>> = {
  buildah: "buildah",
  debootstrap: "debootstrap",
  tar: "tar",
};

const APT_ENV = { DEBIAN_FRONTEND: "noninteractive" };
const LOCK_WAIT = ["-o", "DPkg::Lock::Timeout=600"];

/** apt-get update, retried while another apt holds the package lists' lock (DPkg::Lock::Timeout covers only dpkg's) */
async function aptUpdate(): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await exec("apt-get", [...LOCK_WAIT, "update", "-q"], { env: APT_ENV, timeoutMs: 15 * 60_000 });
      return;
    } catch (e) {
      if (!(e instanceof ExecError) || !/Could not get lock/.test(e.stderrTail + e.stdout) || attempt === 60) throw e;
      say("apt is busy (another apt-get or dpkg holds its lock): waiting");
      await new Promise((r) => setTimeout(r, 10_000));
    }
  }
}

export async function ensureHostTools(tools: Readonly<Record<string, string>> = HOST_TOOLS): Promise<void> {
  // debootstrap lives in /usr/sbin, not on every user's PATH
  const path = `${process.env.PATH ?? ""}:/usr/local/sbin:/usr/sbin:/sbin`;
  const missing = await missingPrograms(Object.keys(tools), path);
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((p) => tools[p] ?? p))];
  if (process.getuid?.() !== 0) throw new Error(`missing ${missing.join(", ")}: run as root (apt-get install ${packages.join(" ")})`);
  say(`installing ${packages.join(", ")} (apt-get)`);
  await aptUpdate();
  await exec("apt-get", [...LOCK_WAIT, "install", "-y", "-q", "--no-install-recommends", ...packages], { env: APT_ENV, timeoutMs: 30 * 60_000 });
}
