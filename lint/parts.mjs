// The project's parts and who may import whom: the architecture as a lint
// rule, so a wrong import fails `npm run lint` (rule "parts/imports").
//
// A part is a folder; every relative import is resolved against the importing
// file and checked against the importer's list below. Imports inside one part
// are always allowed; packages (grpc-js, node:*) are not checked here.
import { dirname, relative, resolve, sep } from "node:path";

/** Each part, the parts it may import, and why the line is drawn there. */
export const PARTS = {
  "src/util": { may: [], why: "util is the leaf every part uses; it knows nothing of the project" },
  "src/generated": { may: [], why: "generated protocol types import nothing of the project" },
  "src/identity": {
    may: ["src/util"],
    why: "identity (names, GBID/IQN/WWID, sizes) is the one rule book engine, controller and node share; it knows no service",
  },
  "src/rpc": { may: ["src/util", "src/generated"], why: "the gRPC kit every program shares knows no service" },
  "src/csi": {
    may: ["src/rpc", "src/identity", "src/util", "src/generated"],
    why: "csi holds what is CSI's alone (volume id, volume context, node id, Identity service); it knows no engine, controller or node",
  },
  "src/glusterblock": {
    may: ["src/rpc", "src/identity", "src/util", "src/generated"],
    why: "the engine, blockd and the CLI know no CSI part",
  },
  "src/controller": {
    may: ["src/rpc", "src/csi", "src/identity", "src/util", "src/generated"],
    why: "the controller reaches the engine only through blockd's API (its gRPC client) and identity",
  },
  "src/node": {
    may: ["src/rpc", "src/csi", "src/identity", "src/util", "src/generated"],
    why: "the node plugin needs only the volume context, the stage secrets and the host's tools: no engine, no controller",
  },
  "src/cmd": {
    may: ["src/glusterblock", "src/controller", "src/node", "src/rpc", "src/csi", "src/identity", "src/util", "src/generated"],
    why: "the programs' entry points wire the parts; nothing outside src ships",
  },
  lab: { may: ["src"], why: "the VM lab is product tooling: it runs the product, never test code" },
  image: {
    may: ["src/util"],
    why: "the image build is product tooling: it runs buildah through the one exec wrapper and knows no service, no lab and no test code",
  },
  demo: { may: ["src", "lab"], why: "the demo shows the real product in the lab, never test doubles" },
  bench: { may: ["src", "lab"], why: "the bench measures the real product in the lab, never test doubles" },
  test: { may: ["src", "lab", "demo", "bench", "image"], why: "tests may reach everything" },
  scripts: { may: ["src"], why: "build scripts" },
};

const NAMES = Object.keys(PARTS).sort((a, b) => b.length - a.length);

/** The part a repository-relative path belongs to (the longest matching folder), or undefined. */
export function partOf(path) {
  const p = path.split(sep).join("/");
  return NAMES.find((n) => p === n || p.startsWith(`${n}/`));
}

function allowed(from, to) {
  if (from === to) return true;
  return PARTS[from].may.some((m) => to === m || to.startsWith(`${m}/`));
}

/** The ESLint rule; `root` is the repository (eslint.config.js's folder). */
export function importsRule(root) {
  return {
    meta: {
      type: "problem",
      docs: { description: "imports respect the project's parts (lint/parts.mjs)" },
      schema: [],
      messages: { forbidden: "{{from}} must not import {{to}} ({{target}}): {{why}}" },
    },
    create(context) {
      const file = context.filename ?? context.getFilename();
      const from = partOf(relative(root, file));
      if (from === undefined) return {};
      const check = (node, spec) => {
        if (typeof spec !== "string" || !spec.startsWith(".")) return;
        const target = relative(root, resolve(dirname(file), spec));
        const to = partOf(target) ?? target.split(sep)[0];
        if (!allowed(from, to)) context.report({ node, messageId: "forbidden", data: { from, to, target, why: PARTS[from].why } });
      };
      const fromSource = (node) => node.source && check(node.source, node.source.value);
      return {
        ImportDeclaration: fromSource,
        ExportNamedDeclaration: fromSource,
        ExportAllDeclaration: fromSource,
        ImportExpression: (node) => node.source.type === "Literal" && check(node.source, node.source.value),
      };
    },
  };
}

export function partsPlugin(root) {
  return { rules: { imports: importsRule(root) } };
}
