// The project's parts and who may import whom: the architecture as a lint
// rule, so a wrong import fails `npm run lint` (rule "parts/imports").
//
// A part is a folder (or the files listed in its `holds`); every relative
// import is resolved against the importing file and checked against the
// importer's list below. Imports inside one part are always allowed; packages
// (grpc-js, node:*) are not checked here. Every file under src/ must be in a
// part: a new folder there is an error until it is listed, so it cannot ship
// unchecked.
import { dirname, relative, resolve, sep } from "node:path";

/** Each part, the parts it may import, and why the line is drawn there. */
export const PARTS = {
  "src/util": { may: [], why: "util is the leaf every part uses; it knows nothing of the project" },
  // the generated types of each protocol are a part of their own, so that only
  // the parts that speak a protocol see its types
  "src/generated/csi": {
    holds: ["src/generated/csi", "src/generated/csi.*", "src/generated/google"],
    may: [],
    why: "CSI's generated types (with the google/protobuf types csi.proto uses) import nothing of the project",
  },
  "src/generated/blockd": {
    holds: ["src/generated/glusterblock", "src/generated/blockd.*"],
    may: [],
    why: "blockd's generated types import nothing of the project",
  },
  "src/identity": {
    may: ["src/util"],
    why: "identity (names, GBID/IQN/WWID, sizes) is the one rule book engine, controller and node share; it knows no service",
  },
  "src/rpc": {
    may: ["src/util", "src/generated/csi"],
    why: "the gRPC kit every program shares knows no service (blockd's protocol: see proto.ts's exception)",
  },
  "src/csi": {
    may: ["src/rpc", "src/identity", "src/util", "src/generated/csi"],
    why: "csi holds what is CSI's alone (volume id, volume context, node id, Identity service); it knows no engine, controller or node, nor blockd's protocol",
  },
  "src/glusterblock": {
    may: ["src/rpc", "src/identity", "src/util", "src/generated/blockd"],
    why: "the engine, blockd and the CLI know no CSI part",
  },
  "src/controller": {
    may: ["src/rpc", "src/csi", "src/identity", "src/util", "src/generated/csi", "src/generated/blockd"],
    why: "the controller reaches the engine only through blockd's API (its gRPC client and blockd's protocol) and identity",
  },
  "src/node": {
    may: ["src/rpc", "src/csi", "src/identity", "src/util", "src/generated/csi"],
    why: "the node plugin needs only the volume context, the stage secrets and the host's tools: no engine, no controller, no blockd",
  },
  "src/cmd": {
    may: ["src/glusterblock", "src/controller", "src/node", "src/rpc", "src/csi", "src/identity", "src/util", "src/generated/csi", "src/generated/blockd"],
    why: "the programs' entry points wire the parts; nothing outside src ships",
  },
  lab: { may: ["src", "image"], why: "the VM lab is product tooling: it runs the product as it ships (its image), never test code" },
  image: {
    may: ["src/util"],
    why: "the image build is product tooling: it runs buildah through the one exec wrapper and knows no service, no lab and no test code",
  },
  demo: { may: ["src", "lab"], why: "the demo shows the real product in the lab, never test doubles" },
  bench: { may: ["src", "lab"], why: "the bench measures the real product in the lab, never test doubles" },
  test: { may: ["src", "lab", "demo", "bench", "image"], why: "tests may reach everything" },
  scripts: { may: ["src"], why: "build scripts" },
  lint: { may: [], why: "the lint rules know nothing of the code they check" },
};

/** Single files that may import more than their part, each with its reason. */
export const EXCEPTIONS = {
  "src/rpc/proto.ts": {
    may: ["src/generated/blockd"],
    why:
      "proto.ts builds the gRPC objects of both protocols from their descriptors with one set of loader options " +
      "(the options the types were generated with), so the two protocols cannot drift apart; it uses no blockd message",
  },
};

/** [hold, part]: a hold is a folder, or a file stem ending in ".*" (csi.* holds csi.ts and csi.descriptor.json). */
const HOLDS = Object.entries(PARTS)
  .flatMap(([name, part]) => (part.holds ?? [name]).map((hold) => [hold, name]))
  .sort(([a], [b]) => b.length - a.length);

function holds(hold, p) {
  if (hold.endsWith(".*")) return p.startsWith(hold.slice(0, -1));
  return p === hold || p.startsWith(`${hold}/`);
}

/** The part a repository-relative path belongs to (the longest matching hold), or undefined. */
export function partOf(path) {
  const p = path.split(sep).join("/");
  return HOLDS.find(([hold]) => holds(hold, p))?.[1];
}

function allowed(from, to, file) {
  if (from === to) return true;
  const may = [...PARTS[from].may, ...(EXCEPTIONS[file]?.may ?? [])];
  return may.some((m) => to === m || to.startsWith(`${m}/`));
}

/** The import specifier a node names, if it is written literally (a template without `${}` counts). */
function literal(node) {
  if (node?.type === "Literal") return node.value;
  if (node?.type === "TemplateLiteral" && node.expressions.length === 0) return node.quasis[0].value.cooked;
  return undefined;
}

/** The ESLint rule; `root` is the repository (eslint.config.js's folder). */
export function importsRule(root) {
  return {
    meta: {
      type: "problem",
      docs: { description: "imports respect the project's parts (lint/parts.mjs)" },
      schema: [],
      messages: {
        forbidden: "{{from}} must not import {{to}} ({{target}}): {{why}}",
        unlisted: "{{where}} is in no part: add it to lint/parts.mjs",
        computed: "a relative import built at run time cannot be checked against the parts: write its path literally",
      },
    },
    create(context) {
      const file = context.filename ?? context.getFilename();
      const rel = relative(root, file).split(sep).join("/");
      const from = partOf(rel);
      if (from === undefined) {
        // outside src (eslint.config.js) nothing ships; inside it, everything must be in a part
        if (!rel.startsWith("src/")) return {};
        const where = rel.split("/").slice(0, 2).join("/");
        return { Program: (node) => context.report({ node, messageId: "unlisted", data: { where } }) };
      }
      const check = (node, spec) => {
        if (typeof spec !== "string" || !spec.startsWith(".")) return;
        const target = relative(root, resolve(dirname(file), spec));
        const to = partOf(target) ?? target.split(sep)[0];
        if (!allowed(from, to, rel)) {
          const why = EXCEPTIONS[rel]?.why ?? PARTS[from].why;
          context.report({ node, messageId: "forbidden", data: { from, to, target, why } });
        }
      };
      const fromSource = (node) => node.source && check(node.source, literal(node.source));
      return {
        ImportDeclaration: fromSource,
        ExportNamedDeclaration: fromSource,
        ExportAllDeclaration: fromSource,
        // import("…"), import(`…`); one with `${}` whose path starts relative cannot be resolved here
        ImportExpression: (node) => {
          const spec = literal(node.source);
          if (spec !== undefined) check(node.source, spec);
          else if (node.source.type === "TemplateLiteral" && node.source.quasis[0].value.cooked.startsWith(".")) {
            context.report({ node: node.source, messageId: "computed" });
          }
        },
        // types: typeof import("…"), import("…").T (typescript-eslint 8: `source`; before: argument.literal)
        TSImportType: (node) => {
          const source = node.source ?? node.argument?.literal;
          if (source) check(source, literal(source));
        },
        // import x = require("…")
        TSExternalModuleReference: (node) => check(node.expression, literal(node.expression)),
      };
    },
  };
}

export function partsPlugin(root) {
  return { rules: { imports: importsRule(root) } };
}
