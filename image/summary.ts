// The build's summary: what was built or reused, how long it took, how big
// the image is, where it is and how to load or push it.
import { ARCHIVE_REF, PRODUCT } from "./config.js";
import type { ImageBuild } from "./ensure-image.js";
import type { Provided } from "./provided.js";

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
const what = (p: Provided): string => (p.cached ? "cached" : `built in ${p.seconds} s`);

export function summary(b: ImageBuild): string {
  const r = b.product.record;
  const bases =
    b.source === "local" ? b.bases.map((p) => `${p.ref.replace("docker.io/library/", "")} ${what(p)} (recipe ${p.hash})`).join("; ") : "from the registry";
  return [
    `${b.product.ref} (recipe ${b.product.hash})`,
    `  bases      ${bases}`,
    `  image      ${b.product.cached ? `cached (built ${r.builtAt} in ${r.seconds} s)` : `built in ${r.seconds} s`}`,
    `  this run   ${b.seconds} s`,
    `  size       ${r.size} uncompressed (buildah images); archive ${mb(r.archiveBytes)}`,
    `  image id   ${r.imageId.slice(0, 12)} in buildah's storage (buildah images ${PRODUCT})`,
    `  archive    ${r.archive} (OCI, names ${ARCHIVE_REF})`,
    `  load       podman load -i ${r.archive}`,
    `             ctr -n k8s.io images import ${r.archive}`,
    `  push       buildah push ${b.product.ref} docker://<registry>/${PRODUCT}:${b.product.ref.split(":").at(-1) ?? ""}`,
  ].join("\n");
}
