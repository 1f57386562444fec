// buildah, the OCI image builder Debian ships: every call the image build and
// its tests make, through the project's exec wrapper. Root's storage
// (/var/lib/containers/storage); chroot isolation wherever a command runs
// inside an image (no OCI runtime, no user namespaces needed).
import { exec, ExecError, type ExecOptions, type ExecResult } from "../src/util/exec.js";

export const ISOLATION = "chroot";

export function buildah(args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return exec("buildah", args, { timeoutMs: 120_000, ...opts });
}

interface ImageConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  User?: string;
  Env?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number } | null;
}

export interface ImageFacts {
  id: string;
  /** the config in the Docker format (the OCI format has no healthcheck) */
  docker: ImageConfig;
  oci: ImageConfig;
}

/** The image's id and configuration, or undefined when the storage has no image of that name. */
export async function inspectImage(ref: string): Promise<ImageFacts | undefined> {
  let out: string;
  try {
    out = (await buildah(["inspect", "--type", "image", ref])).stdout;
  } catch (e) {
    if (e instanceof ExecError && /image not known/.test(e.stderrTail)) return undefined;
    throw e;
  }
  const i = JSON.parse(out) as { FromImageID: string; Docker: { config?: ImageConfig }; OCIv1: { config?: ImageConfig } };
  return { id: i.FromImageID, docker: i.Docker.config ?? {}, oci: i.OCIv1.config ?? {} };
}

/** The image's size as `buildah images` reports it (uncompressed, e.g. "412 MB"). */
export async function imageSize(ref: string): Promise<string> {
  const list = JSON.parse((await buildah(["images", "--json", ref])).stdout) as { size: string }[];
  return list[0]?.size ?? "?";
}

/** A working container from an image that must already be in the storage (nothing is pulled). */
export async function fromImage(ref: string): Promise<string> {
  return (await buildah(["from", "--pull=never", "--quiet", ref])).stdout.trim();
}

export async function fromScratch(): Promise<string> {
  return (await buildah(["from", "--quiet", "scratch"])).stdout.trim();
}

/** The container's root file system on the host (an overlay mount until `removeContainer`). */
export async function mountContainer(container: string): Promise<string> {
  return (await buildah(["mount", container])).stdout.trim();
}

export async function removeContainer(container: string): Promise<void> {
  await buildah(["rm", container]);
}

/** Runs `argv` inside the container, as its configured user unless `user` is given. */
export function runIn(
  container: string,
  argv: readonly string[],
  opts: { user?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ExecResult> {
  const flags = [
    "--isolation",
    ISOLATION,
    ...(opts.user ? ["--user", opts.user] : []),
    ...Object.entries(opts.env ?? {}).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
  ];
  return buildah(["run", ...flags, container, "--", ...argv], { timeoutMs: opts.timeoutMs ?? 120_000 });
}

/** Removes an image by id; one still used (by a container or another name) is kept. */
export async function removeImage(id: string): Promise<boolean> {
  try {
    await buildah(["rmi", id]);
    return true;
  } catch (e) {
    if (e instanceof ExecError) return false;
    throw e;
  }
}
