// Shared start-up for the three programs: --help prints usage and exits 0, a
// UsageError prints the message and usage and exits 2, anything else that
// escapes start-up is logged and exits 1.
import { UsageError } from "../util/flags.js";

export function runMain(usage: () => string, main: (argv: string[]) => Promise<number | void>): void {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(usage());
    process.exit(0);
  }
  main(argv).then(
    (code) => {
      if (typeof code === "number") process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof UsageError) {
        process.stderr.write(`error: ${err.message}\n\n${usage()}`);
        process.exit(2);
      }
      process.stderr.write(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
