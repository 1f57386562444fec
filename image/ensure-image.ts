// Builds the product image, or finds it built: the host tools, the two bases
// (only where no registry provides them), then the Dockerfile. What
// `npm run image` and the image tests (test/image/) call.
import { chooseBaseSource, type BaseSource } from "./base-source.js";
import { removeImage } from "./buildah.js";
import { ensureDebianBase } from "./debian-base.js";
import { ensureHostTools } from "./host-tools.js";
import { ensureNodeBase } from "./node-base.js";
import { ensureProductImage, type ProductImage } from "./product-image.js";
import type { Provided } from "./provided.js";
import { say, secondsSince } from "./progress.js";

export interface ImageBuild {
  source: BaseSource;
  bases: Provided[];
  product: ProductImage;
  /** this run, end to end */
  seconds: number;
}

export async function ensureImage(opts: { rebuild?: boolean } = {}): Promise<ImageBuild> {
  const t0 = performance.now();
  if (process.getuid?.() !== 0) throw new Error("the image build runs as root (buildah's storage in /var/lib/containers, debootstrap)");
  await ensureHostTools();
  const source = await chooseBaseSource();
  const bases: Provided[] = [];
  if (source === "local") {
    const debian = await ensureDebianBase();
    bases.push(debian, await ensureNodeBase(debian.hash));
  }
  const product = await ensureProductImage(source, bases, opts.rebuild);
  // images the names moved away from, children before their parents (buildah
  // keeps an image another one is built on)
  for (const old of [product, ...bases.toReversed()].flatMap((p) => (p.superseded ? [p.superseded] : [])))
    say(
      (await removeImage(old))
        ? `removed the superseded image ${old.slice(0, 12)}`
        : `kept the superseded image ${old.slice(0, 12)}: a container uses it (buildah containers)`,
    );
  return { source, bases, product, seconds: secondsSince(t0) };
}
