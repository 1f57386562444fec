// Shell scripts run on the initiator VM (bash, over ssh): the seed's
// hand-driven iSCSI steps, and one idempotent teardown that also serves to
// sweep what an earlier run left. The CHAP password never appears in a
// script: login reads it from stdin.

export interface TargetOnNode {
  iqn: string;
  wwid: string;
  portals: readonly string[];
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * sendtargets discovery on each portal without writing node records; prints
 * the distinct "portal,tpgt iqn" lines naming `iqn` (each portal lists all
 * three), and fails when a portal does not answer or does not offer it.
 */
export function discoveryScript(t: TargetOnNode): string {
  const each = t.portals.map((p) => `iscsiadm -m discovery -t sendtargets -p ${q(p)} -o nonpersistent | grep -F ${q(t.iqn)}`);
  return `set -eo pipefail\n{\n${each.join("\n")}\n} | sort -u`;
}

/** One node record per portal with CHAP (username here, password from stdin's first line), then login on each. */
export function loginScript(t: TargetOnNode, username: string): string {
  const lines = ["set -e", "IFS= read -r pw"];
  for (const p of t.portals) {
    const node = `iscsiadm -m node -T ${q(t.iqn)} -p ${q(p)}`;
    lines.push(
      `${node} -o new >/dev/null`,
      `${node} -o update -n node.startup -v manual`,
      `${node} -o update -n node.session.auth.authmethod -v CHAP`,
      `${node} -o update -n node.session.auth.username -v ${q(username)}`,
      `${node} -o update -n node.session.auth.password -v "$pw"`,
      `${node} --login >/dev/null`,
      `echo "logged in to ${p}"`,
    );
  }
  return lines.join("\n");
}

/** Waits until multipath shows `paths` active paths for the WWID, then prints `multipath -ll`. */
export function multipathWaitScript(wwid: string, paths: number, seconds = 60): string {
  return `for k in $(seq ${seconds * 5}); do
  [ "$(multipath -ll ${q(wwid)} 2>/dev/null | grep -c 'active ready running')" = ${paths} ] && { multipath -ll ${q(wwid)}; exit 0; }
  [ $k = 25 ] && multipath -v2 >/dev/null 2>&1
  sleep 0.2
done
multipath -ll; exit 1`;
}

/**
 * WRITE SAME off on every SCSI disk of the target, as the node plugin does
 * before it uses a path: tcmu-runner 1.5.4 dies of WRITE SAME(16) with UNMAP.
 * Prints how many paths it guarded.
 */
export function guardWriteSameScript(iqn: string): string {
  return `n=0
for s in /sys/class/iscsi_session/session*; do
  [ "$(cat $s/targetname 2>/dev/null)" = ${q(iqn)} ] || continue
  for d in $s/device/target*/*/scsi_disk/*; do
    [ -e "$d/max_write_same_blocks" ] || continue
    [ -e "$d/zeroing_mode" ] && echo writesame > "$d/zeroing_mode"
    echo 0 > "$d/max_write_same_blocks"; n=$((n+1))
  done
done
echo "$n"`;
}

/** Unmounts each mount point that is mounted (deepest first as given) and removes its directory; prints what it did. */
export function unmountScript(mounts: readonly string[]): string {
  return mounts
    .map((m) => `if mountpoint -q ${q(m)} 2>/dev/null; then umount ${q(m)} || umount -l ${q(m)}; echo "unmounted ${m}"; fi; rmdir ${q(m)} 2>/dev/null; true`)
    .join("\n");
}

/**
 * Takes the target off the initiator whatever state it is in: flushes its
 * multipath map, logs out of its sessions, deletes its node records and its
 * wwids entry. Only this target's. Prints one line per thing it removed.
 */
export function detachScript(t: Pick<TargetOnNode, "iqn" | "wwid">): string {
  return `if [ -e /dev/mapper/${t.wwid} ]; then
  for k in $(seq 25); do multipath -f ${q(t.wwid)} >/dev/null 2>&1 && break; sleep 0.2; done
  if [ -e /dev/mapper/${t.wwid} ]; then echo "multipath map ${t.wwid} still present"; else echo "flushed map ${t.wwid}"; fi
fi
n=$(grep -lx ${q(t.iqn)} /sys/class/iscsi_session/session*/targetname 2>/dev/null | wc -l)
if [ "$n" -gt 0 ]; then iscsiadm -m node -T ${q(t.iqn)} --logout >/dev/null 2>&1; echo "logged out of $n session(s)"; fi
if [ -d /etc/iscsi/nodes/${t.iqn} ]; then iscsiadm -m node -T ${q(t.iqn)} -o delete >/dev/null 2>&1 || rm -rf /etc/iscsi/nodes/${t.iqn}; echo "deleted the node records"; fi
if grep -q '/${t.wwid}/' /etc/multipath/wwids 2>/dev/null; then multipath -w ${q(t.wwid)} >/dev/null 2>&1; echo "removed the wwids entry"; fi
true`;
}

export interface SweepSpec {
  iqn: string;
  wwid: string;
  /** mount points to undo, deepest first */
  mounts: readonly string[];
  /** a node plugin record file to remove (a kept CSI volume's) */
  recordFile?: string;
}

/** Everything a target can leave on the initiator (an interrupted or --keep run): mounts, then the target, then the record. */
export function sweepScript(s: SweepSpec): string {
  const record = s.recordFile ? `\nif [ -e ${q(s.recordFile)} ]; then rm -f ${q(s.recordFile)}; echo "removed the node plugin's record"; fi` : "";
  return `${unmountScript(s.mounts)}\n${detachScript(s)}${record}\ntrue`;
}
