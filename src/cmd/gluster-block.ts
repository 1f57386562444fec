// gluster-block: the storage admin's CLI, the original's syntax and output.
import { runCli } from "../glusterblock/cli/main.js";

const socket = process.env.GB_CLI_SOCKET ?? "/run/gluster-blockd.socket";

runCli(process.argv.slice(2), socket).then(
  (out) => {
    process.stdout.write(out.stdout);
    process.stderr.write(out.stderr);
    process.exitCode = out.exitCode;
  },
  (err: unknown) => {
    process.stderr.write(`gluster-block: ${err instanceof Error ? err.message : String(err)}\nRESULT:FAIL\n`);
    process.exitCode = 255;
  },
);
