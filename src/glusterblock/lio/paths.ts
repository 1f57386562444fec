// Where LIO keeps each object under the configfs root (rtslib-fb's layout).
import { posix } from "node:path";

export class LioPaths {
  constructor(readonly root: string) {}
  get core(): string {
    return posix.join(this.root, "core");
  }
  hba(hba: string): string {
    return posix.join(this.core, hba);
  }
  storageObject(hba: string, name: string): string {
    return posix.join(this.core, hba, name);
  }
  get iscsi(): string {
    return posix.join(this.root, "iscsi");
  }
  target(iqn: string): string {
    return posix.join(this.iscsi, iqn);
  }
  tpg(iqn: string, tag: number): string {
    return posix.join(this.target(iqn), `tpgt_${tag}`);
  }
  lun(iqn: string, tag: number, index: number): string {
    return posix.join(this.tpg(iqn, tag), "lun", `lun_${index}`);
  }
  portal(iqn: string, tag: number, portal: string): string {
    return posix.join(this.tpg(iqn, tag), "np", portal);
  }
  acl(iqn: string, tag: number, initiator: string): string {
    return posix.join(this.tpg(iqn, tag), "acls", initiator);
  }
  mappedLun(iqn: string, tag: number, initiator: string, index: number): string {
    return posix.join(this.acl(iqn, tag, initiator), `lun_${index}`);
  }
}

/** resolve a configfs link target (relative to the link's directory) to an absolute path */
export function resolveLink(linkPath: string, target: string): string {
  return posix.resolve(posix.dirname(linkPath), target);
}
