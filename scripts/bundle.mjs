// npm run build, second half: each program in dist/cmd/ (tsc's output) becomes
// one file in dist/bundle/, its dependencies included. A program then starts
// by reading one file instead of 160-1,400 modules from node_modules: on a
// slow disk, a network share or an emulated VM that is most of its start-up
// (gluster-block's CLI: 14 s -> a few s in the lab's VMs). bin/ starts these.
// Code a program loads with import() (gluster-block-csi's modes: the node
// plugin never needs the controller's Kubernetes client, 4 MB of the 7.5)
// and code the programs share go to dist/bundle/chunks/, read only by the
// program that reaches them.
//   node scripts/bundle.mjs                 the three programs
//   node scripts/bundle.mjs <entry> <out>   one more file the same way (the e2e CSI client)
import { build } from "esbuild";

const PROGRAMS = ["gluster-block", "gluster-blockd", "gluster-block-csi"];
const [entry, outfile] = process.argv.slice(2);
if ((entry === undefined) !== (outfile === undefined)) {
  console.error("usage: bundle.mjs [<entry> <outfile>]");
  process.exit(2);
}

await build({
  ...(entry
    ? { entryPoints: [entry], outfile }
    : { entryPoints: PROGRAMS.map((p) => `dist/cmd/${p}.js`), outdir: "dist/bundle", splitting: true, chunkNames: "chunks/[name]-[hash]" }),
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  logLevel: "warning",
  // debug (under @kubernetes/client-node) loads supports-color when it can and
  // does without; only devDependencies install it, so bundled it would put dev
  // code into the image. Left to a require() that fails, as ws's bufferutil
  // and node-fetch's encoding are.
  external: ["supports-color"],
  // CommonJS dependencies (grpc-js, winston) call require(); an ES module has none
  banner: { js: "import { createRequire as __gbcsiCreateRequire } from 'node:module'; const require = __gbcsiCreateRequire(import.meta.url);" },
});
