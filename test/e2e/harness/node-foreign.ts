// iSCSI objects that are not ours, for the node plugin's e2e: LIO targets
// made by hand (a fileio LUN, whose serial is not a GBID), a session to one
// with a multipath map over it, and a fingerprint of them to prove the
// plugin never touched them.
import type { LabNode } from "../../../lab/harness/lab.js";

/** A target with one fileio LUN on `n`'s own portal, open to any initiator, no CHAP. */
export async function makeFileioTarget(n: LabNode, iqn: string, name: string): Promise<void> {
  const tpg = `/iscsi/${iqn}/tpg1`;
  await n.must(
    `set -e
    truncate -s 64M /var/tmp/${name}.img
    targetcli /backstores/fileio create name=${name} file_or_dev=/var/tmp/${name}.img size=64M write_back=false >/dev/null
    targetcli /iscsi create ${iqn} >/dev/null
    targetcli ${tpg}/portals delete 0.0.0.0 3260 >/dev/null 2>&1 || true
    targetcli ${tpg}/portals create ${n.address} 3260 >/dev/null
    targetcli ${tpg}/luns create /backstores/fileio/${name} >/dev/null
    targetcli ${tpg} set attribute authentication=0 generate_node_acls=1 demo_mode_write_protect=0 cache_dynamic_acls=1 >/dev/null`,
    { timeoutMs: 600_000 },
  );
}

/**
 * Logs `n` in to a foreign target as any other initiator software would (its
 * own node record, automatic LUN scan) and builds a dm-multipath map over its
 * path by hand (named and tagged as its owner's, not multipathd's: the host's
 * multipathd removes maps over paths its blacklist hides). Returns the map.
 */
export async function makeForeignSession(n: LabNode, iqn: string, portal: string): Promise<string> {
  await n.must(
    `set -e
    iscsiadm -m node -T ${iqn} -p ${portal} -o new >/dev/null
    iscsiadm -m node -T ${iqn} -p ${portal} --login >/dev/null
    sd=""
    for k in $(seq 150); do
      for d in /sys/class/iscsi_session/session*; do
        [ "$(cat $d/targetname)" = "${iqn}" ] && sd=$(ls $d/device/target*/*/block/ 2>/dev/null | head -1)
      done
      [ -n "$sd" ] && break; sleep 0.2
    done
    [ -n "$sd" ]
    dmsetup create ${FOREIGN_MAP} -u other-driver-$(cut -c5- /sys/block/$sd/device/wwid) --table "0 $(blockdev --getsz /dev/$sd) multipath 0 0 1 1 round-robin 0 1 1 $(cat /sys/block/$sd/dev) 1"`,
    { timeoutMs: 120_000 },
  );
  return FOREIGN_MAP;
}

export const FOREIGN_MAP = "gbcsi-foreign";

export interface ForeignState {
  sessions: number;
  sessionIds: string;
  map: boolean;
  mapTable: string;
  nodeRecords: number;
}

export async function foreignState(n: LabNode, iqn: string, map: string): Promise<ForeignState> {
  const r = await n.run(`
    ids=""; for d in /sys/class/iscsi_session/session*; do [ -e $d/targetname ] && [ "$(cat $d/targetname)" = "${iqn}" ] && ids="$ids $(basename $d):$(cat $d/state)"; done
    echo "ids=$ids"
    echo "table=$(dmsetup table ${map} 2>/dev/null)"
    echo "records=$(ls /etc/iscsi/nodes/${iqn} 2>/dev/null | wc -l)"`);
  const get = (k: string): string => new RegExp(`^${k}=(.*)$`, "m").exec(r.stdout)?.[1]?.trim() ?? "";
  const ids = get("ids");
  return {
    sessions: ids === "" ? 0 : ids.split(" ").length,
    sessionIds: ids,
    map: get("table") !== "",
    mapTable: get("table"),
    nodeRecords: Number(get("records")),
  };
}

export async function dropForeign(n: LabNode, iqn: string, map: string): Promise<void> {
  await n.run(
    `dmsetup remove ${map} 2>/dev/null; iscsiadm -m node -T ${iqn} --logout >/dev/null 2>&1; iscsiadm -m node -T ${iqn} -o delete >/dev/null 2>&1; true`,
  );
}

/** Removes a target made by makeFileioTarget from `n`'s LIO. */
export async function dropTarget(n: LabNode, iqn: string, backstore: "fileio", name: string): Promise<void> {
  await n.run(
    `targetcli /iscsi delete ${iqn} >/dev/null 2>&1; targetcli /backstores/${backstore} delete ${name} >/dev/null 2>&1; rm -f /var/tmp/${name}.img; true`,
    { timeoutMs: 300_000 },
  );
}
