// Whether udev has processed a block device: its database entry
// (<udevData>/b<major>:<minor>) is written once the rules have run.
// multipathd refuses to `add path` a disk udev has not initialized (it needs
// the udev properties), so the attacher hands it only disks that have one.
// A host without a udev database at all has nothing to wait for.
import { access } from "node:fs/promises";
import { join } from "node:path";

export class UdevDb {
  constructor(private readonly dir: string) {}

  /** `devNo` is "8:16" (a disk's sysfs `dev`) */
  async initialized(devNo: string): Promise<boolean> {
    if (devNo === "") return false;
    if (await exists(join(this.dir, `b${devNo}`))) return true;
    return !(await exists(this.dir));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
