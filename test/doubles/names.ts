// A fixed GBID per test name, for doubles and unit tests that need a stable,
// valid one. Not what the engine does: it draws a random GBID per create.
import { v5 as uuidv5 } from "uuid";

const TEST_NAMESPACE = "0667c3d1-11e0-4b2d-afae-86d1486505ab";

/** A stable lower-case UUID for `${volume}/${block}` (tests only). */
export function gbidFor(volume: string, block: string): string {
  return uuidv5(`${volume}/${block}`, TEST_NAMESPACE);
}
