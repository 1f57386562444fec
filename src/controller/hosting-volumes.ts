// The hosting volumes ListVolumes and GetCapacity look at: the flag's list,
// the hostingVolume of every StorageClass of this driver (Kubernetes API),
// and those CreateVolume saw since start. (blockd holds no list of hosting
// volumes: any gluster volume can hold blocks, so only what the driver is
// set up to provision into counts.)
import type { KubeApi } from "./kube-api.js";
import type { Logger } from "../util/log.js";
import { PARAM } from "./params.js";

export class HostingVolumes {
  private readonly seen = new Set<string>();

  constructor(private readonly opts: { configured: readonly string[]; kube?: KubeApi; driverName: string; log: Logger }) {}

  note(volume: string): void {
    this.seen.add(volume);
  }

  async list(): Promise<string[]> {
    const all = new Set<string>([...this.opts.configured, ...this.seen]);
    if (this.opts.kube) {
      try {
        for (const p of await this.opts.kube.storageClassParameters(this.opts.driverName)) {
          const v = p[PARAM.hostingVolume];
          if (v) all.add(v);
        }
      } catch (err) {
        this.opts.log.warn("could not list StorageClasses for hosting volumes", { error: err instanceof Error ? err.message : String(err) });
      }
    }
    return [...all].sort();
  }
}
