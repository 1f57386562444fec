// The GBID earlier builds derived from a block's name (uuid v5). The engine now
// draws a random GBID per create, so this no longer names a block blockd made:
// only a GBID for a target made by hand (the bench's floor) or a stand-in.
import { v5 as uuidv5 } from "uuid";

const NAMESPACE = "0667c3d1-11e0-4b2d-afae-86d1486505ab";

export function gbidFor(volume: string, block: string): string {
  return uuidv5(`${volume}/${block}`, NAMESPACE);
}
