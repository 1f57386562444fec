// The images the cluster runs besides the product's: each sidecar and the
// pause sandbox as a one-file image made from the given binary (buildah, FROM
// scratch: the binaries are static), named as the chart's values will name
// them, tagged by the binary's hash, and written to an OCI archive each that
// the workers import into containerd. Cached by that hash.
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { buildah } from "../../image/buildah.js";
import { LAB_REPO } from "../config.js";
import { PAUSE_IMAGE, SIDECAR_REPO } from "./config.js";

const CACHE = "/var/tmp/gluster-block-csi-cache/k8s-images";
/** where the VMs see the archives and the kubelet: beside the checkout's dist/ (shared at /lab/repo) */
export const K8S_DIST = join(LAB_REPO, "dist", "k8s");
export const GUEST_K8S_DIST = "/lab/repo/dist/k8s";

/** chart values key → binary */
export const SIDECARS = {
  provisioner: "csi-provisioner",
  attacher: "csi-attacher",
  resizer: "csi-resizer",
  nodeDriverRegistrar: "csi-node-driver-registrar",
  livenessProbe: "livenessprobe",
} as const;
export type SidecarKey = keyof typeof SIDECARS;

export interface LocalImage {
  ref: string;
  repository: string;
  tag: string;
  /** the archive as the VMs see it */
  guestArchive: string;
}

function hashOf(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex").slice(0, 12);
}

/** A file into dist/k8s (a hard link where the file system allows, else a copy); the guest's path. */
export function share(file: string, name = basename(file)): string {
  mkdirSync(K8S_DIST, { recursive: true });
  const target = join(K8S_DIST, name);
  if (!(existsSync(target) && statSync(target).ino === statSync(file).ino)) {
    const tmp = `${target}.tmp`;
    rmSync(tmp, { force: true });
    try {
      linkSync(file, tmp);
    } catch {
      copyFileSync(file, tmp);
    }
    renameSync(tmp, target);
  }
  return `${GUEST_K8S_DIST}/${name}`;
}

async function oneFileImage(binary: string, repository: string, fixedTag?: string): Promise<LocalImage> {
  const hash = hashOf(binary);
  const tag = fixedTag ?? `lab-${hash}`;
  const ref = `${repository}:${tag}`;
  const name = basename(binary);
  const archive = join(CACHE, `${name}-${hash}.tar`);
  if (!existsSync(archive)) {
    mkdirSync(CACHE, { recursive: true });
    const c = (await buildah(["from", "--quiet", "scratch"])).stdout.trim();
    try {
      await buildah(["copy", "--chmod", "0755", c, binary, `/${name}`]);
      await buildah(["config", "--entrypoint", JSON.stringify([`/${name}`]), "--cmd", "", "--label", `io.github.gluster-block-csi.binary-sha256=${hash}`, c]);
      await buildah(["commit", "--quiet", c, ref], { timeoutMs: 300_000 });
    } finally {
      await buildah(["rm", c]).catch(() => undefined);
    }
    const tmp = `${archive}.tmp`;
    rmSync(tmp, { force: true });
    await buildah(["push", "--quiet", ref, `oci-archive:${tmp}:${ref}`], { timeoutMs: 300_000 });
    renameSync(tmp, archive);
  }
  return { ref, repository, tag, guestArchive: share(archive) };
}

export interface ClusterImages {
  pause: LocalImage;
  sidecars: Record<SidecarKey, LocalImage>;
}

export async function ensureClusterImages(bin: string): Promise<ClusterImages> {
  const [repo, tag] = PAUSE_IMAGE.split(":") as [string, string];
  const pause = await oneFileImage(join(bin, "pause"), repo, tag);
  const sidecars = {} as Record<SidecarKey, LocalImage>;
  for (const [key, file] of Object.entries(SIDECARS) as [SidecarKey, string][]) sidecars[key] = await oneFileImage(join(bin, file), `${SIDECAR_REPO}/${file}`);
  return { pause, sidecars };
}
