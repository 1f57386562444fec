#!/usr/bin/env node
// built entry point: npm run build compiles src/ into dist/
import "../dist/cmd/gluster-blockd.js";
