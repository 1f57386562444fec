// npm run image [-- --rebuild]: build (or reuse) the product image from the
// repository's Dockerfile with buildah, and print where it is.
//   --rebuild       build the product image even when its recipe is unchanged
// Env: IMAGE_BASES=local|registry|auto (default auto: local bases when no
//      registry answers), IMAGE_CACHE, IMAGE_MIRROR (config.ts).
import { ensureImage } from "./ensure-image.js";
import { summary } from "./summary.js";

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== "--rebuild");
if (unknown.length > 0) {
  process.stderr.write(`usage: npm run image [-- --rebuild]\nunknown: ${unknown.join(" ")}\n`);
  process.exit(2);
}
try {
  const built = await ensureImage({ rebuild: args.includes("--rebuild") });
  process.stdout.write(`${summary(built)}\n`);
} catch (e) {
  process.stderr.write(`image build failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
