// npm run build, second half: each program in dist/cmd/ (tsc's output) becomes
// one file in dist/bundle/, its dependencies included. A program then starts
// by reading one file instead of 160-1,400 modules from node_modules: on a
// slow disk, a network share or an emulated VM that is most of its start-up
// (gluster-block's CLI: 14 s -> a few s in the lab's VMs). bin/ starts these.
import { build } from "esbuild";

const PROGRAMS = ["gluster-block", "gluster-blockd", "gluster-block-csi"];

await build({
  entryPoints: PROGRAMS.map((p) => `dist/cmd/${p}.js`),
  outdir: "dist/bundle",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  logLevel: "warning",
  // CommonJS dependencies (grpc-js, winston) call require(); an ES module has none
  banner: { js: "import { createRequire as __gbcsiCreateRequire } from 'node:module'; const require = __gbcsiCreateRequire(import.meta.url);" },
});
