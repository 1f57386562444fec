// The hosting volumes ListVolumes and GetCapacity look at: the flag's list,
// the hostingVolume of every StorageClass of this driver (Kubernetes API),
// the volumes the blockd nodes report, and those CreateVolume saw since start.
import type { KubeApi } from "./kube-api.js";
import type { BlockdClient, Caller } from "./blockd-client.js";
import type { Logger } from "../util/log.js";
import { PARAM } from "./params.js";

export class HostingVolumes {
  private readonly seen = new Set<string>();

  constructor(
    private readonly opts: { configured: readonly string[]; kube?: KubeApi; driverName: string; blockd: BlockdClient; log: Logger },
  ) {}

  note(volume: string): void {
    this.seen.add(volume);
  }

  async list(caller: Caller = {}): Promise<string[]> {
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
    for (const n of await this.opts.blockd.nodes(caller)) for (const v of n.volumes) all.add(v);
    return [...all].sort();
  }
}
