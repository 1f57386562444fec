// A directory entry of /block-meta that can be a block: the names validateBlockName accepts.
import { validateBlockName } from "../names.js";

export function isValidBlockName(name: string): boolean {
  try {
    validateBlockName(name);
    return true;
  } catch {
    return false;
  }
}
