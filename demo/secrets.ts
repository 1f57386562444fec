// The demo prints CLI output, command output and error messages; a CHAP
// password must reach none of them (CVE-2020-10762 was gluster-block printing
// its passwords). Two layers: the CLI's `PASSWORD:` lines are masked by
// shape, and every password the demo has seen (and every secret the process
// owns, such as the shared key) is scrubbed from whatever text is printed.
// The in-process controller keeps a CHAP password only for the call that saw
// it (src/util/secrets.ts), and scrubs it from that call's answer itself.
import { scrubText } from "../src/util/redact.js";
import { processSecrets } from "../src/util/secrets.js";

export const HIDDEN = "******** (hidden)";

/** Masks the value of every `PASSWORD:` line (the create and info output, indented or not); an empty one stays empty. */
export function maskPasswordLines(text: string): string {
  return text.replace(/^([ \t|]*PASSWORD:)[ \t]*\S.*$/gm, `$1 ${HIDDEN}`);
}

export class Scrubber {
  private readonly secrets = new Set<string>();

  /** `includeProcessSecrets`: also the values src/util/secrets holds for the process (keys the process owns). */
  constructor(private readonly includeProcessSecrets = true) {}

  hide(secret: string): void {
    if (secret !== "") this.secrets.add(secret);
  }

  clean(text: string): string {
    const all = this.includeProcessSecrets ? [...this.secrets, ...processSecrets] : [...this.secrets];
    return scrubText(maskPasswordLines(text), all);
  }
}
