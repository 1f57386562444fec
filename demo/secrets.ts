// The demo prints CLI output, command output and error messages; a CHAP
// password must reach none of them (CVE-2020-10762 was gluster-block printing
// its passwords). Two layers: the CLI's `PASSWORD:` lines are masked by
// shape, and every password the demo or the in-process controller has seen
// is scrubbed from whatever text is printed.
import { knownSecrets, scrubText } from "../src/util/redact.js";

export const HIDDEN = "******** (hidden)";

/** Masks the value of every `PASSWORD:` line (the create and info output, indented or not); an empty one stays empty. */
export function maskPasswordLines(text: string): string {
  return text.replace(/^([ \t|]*PASSWORD:)[ \t]*\S.*$/gm, `$1 ${HIDDEN}`);
}

export class Scrubber {
  private readonly secrets = new Set<string>();

  /** `includeProcessSecrets`: also the values src/util/redact's registry holds (the controller adds its CHAP passwords there). */
  constructor(private readonly includeProcessSecrets = true) {}

  hide(secret: string): void {
    if (secret !== "") this.secrets.add(secret);
  }

  clean(text: string): string {
    const all = this.includeProcessSecrets ? [...this.secrets, ...knownSecrets.all()] : [...this.secrets];
    return scrubText(maskPasswordLines(text), all);
  }
}
