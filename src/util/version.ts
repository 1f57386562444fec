import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_DIR } from "./package-dir.js";

/** The package version, read once from package.json. */
export const VERSION: string = (JSON.parse(readFileSync(join(PACKAGE_DIR, "package.json"), "utf8")) as { version: string }).version;
