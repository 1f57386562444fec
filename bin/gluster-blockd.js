#!/usr/bin/env node
// built entry point: npm run build compiles src/ into dist/ and bundles each
// program into one file (scripts/bundle.mjs)
import "../dist/bundle/gluster-blockd.js";
