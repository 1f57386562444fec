// The node floor: what NodeStage / NodeUnstage of one xfs volume cost when
// done by hand with the plain tools, one bash script per stage / unstage run
// in the VM over one ssh command. Each script times itself with the VM's
// clock and prints "ms=N": from after it has read the CHAP password on stdin
// to its last command, so ssh and bash start-up are left out (as the plugin's
// figure, taken by the CSI client in the VM around the gRPC call, leaves out
// ssh and the client's start-up).
//
//   stage: a node record and one update with the CHAP settings per portal
//   (the records one after another, as iscsiadm's database lock has them
//   anyway), the logins on all portals at once (as the plugin does), a wait
//   for the dm-multipath map of the WWID over all the paths, WRITE SAME off on
//   the paths (as the plugin does: tcmu-runner dies of WRITE SAME with UNMAP),
//   mkfs.xfs -K on the first loop only, mkdir and mount.
//   unstage: umount, multipath -f (retried while udev still holds the map
//   just unmounted), logout of every session of the target, delete of its
//   records, and the WWID multipathd remembered when it made the map.
export interface FloorTarget {
  iqn: string;
  wwid: string;
  portals: readonly string[];
  /** CHAP user name; the password goes on the script's stdin */
  username: string;
  mountPoint: string;
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const START = "t0=$(date +%s%N)";
const END = 'echo "ms=$(( ($(date +%s%N) - t0) / 1000000 ))"';

export function floorStageScript(t: FloorTarget, format: boolean): string {
  const node = (p: string): string => `iscsiadm -m node -T ${q(t.iqn)} -p ${q(p)}`;
  const dev = `/dev/mapper/${t.wwid}`;
  return [
    "set -eo pipefail",
    "IFS= read -r pw",
    START,
    ...t.portals.flatMap((p) => [
      `${node(p)} -o new >/dev/null`,
      `${node(p)} -o update -n node.session.auth.authmethod -v CHAP -n node.session.auth.username -v ${q(t.username)} -n node.session.auth.password -v "$pw"`,
    ]),
    "pids=()",
    ...t.portals.map((p) => `${node(p)} --login >/dev/null & pids+=($!)`),
    'for p in "${pids[@]}"; do wait "$p"; done',
    `paths() { [ -e ${dev} ] || { echo 0; return; }; ls /sys/block/$(basename "$(readlink -f ${dev})")/slaves | wc -l; }`,
    `for k in $(seq 1200); do [ "$(paths)" -ge ${t.portals.length} ] && break; [ "$k" = 1200 ] && { echo "no ${t.portals.length}-path map ${t.wwid} after 120 s" >&2; exit 1; }; sleep 0.1; done`,
    `for s in /sys/class/iscsi_session/session*; do [ "$(cat $s/targetname)" = ${q(t.iqn)} ] || continue
  for d in $s/device/target*/*/scsi_disk/*; do
    if [ -e $d/zeroing_mode ]; then echo writesame > $d/zeroing_mode; fi
    if [ -e $d/max_write_same_blocks ]; then echo 0 > $d/max_write_same_blocks; fi
  done
done`,
    ...(format ? [`mkfs.xfs -K -q -f ${dev}`] : []),
    `mkdir -p ${q(t.mountPoint)}`,
    `mount -t xfs ${dev} ${q(t.mountPoint)}`,
    END,
  ].join("\n");
}

/** `tolerant`: go on past failures (the bench's cleanup after a failed loop). */
export function floorUnstageScript(t: FloorTarget, tolerant = false): string {
  return [
    tolerant ? "set +e" : "set -eo pipefail",
    START,
    `if mountpoint -q ${q(t.mountPoint)}; then umount ${q(t.mountPoint)}; fi`,
    `rmdir ${q(t.mountPoint)} 2>/dev/null || true`,
    `for k in $(seq 50); do [ -e /dev/mapper/${t.wwid} ] || break; multipath -f ${t.wwid} >/dev/null 2>&1 || sleep 0.2; done`,
    ...(tolerant ? [] : [`[ ! -e /dev/mapper/${t.wwid} ] || { echo "map ${t.wwid} still there" >&2; exit 1; }`]),
    `if grep -qlx ${q(t.iqn)} /sys/class/iscsi_session/session*/targetname 2>/dev/null; then iscsiadm -m node -T ${q(t.iqn)} --logout >/dev/null; fi`,
    `if [ -d /etc/iscsi/nodes/${t.iqn} ]; then iscsiadm -m node -T ${q(t.iqn)} -o delete; fi`,
    `if grep -q '/${t.wwid}/' /etc/multipath/wwids 2>/dev/null; then multipath -w ${t.wwid} >/dev/null; fi`,
    END,
  ].join("\n");
}

/** The "ms=N" a floor script printed, in seconds. */
export function floorSeconds(stdout: string): number {
  const m = /^ms=(\d+)$/m.exec(stdout);
  if (!m) throw new Error(`no timing in the floor script's output:\n${stdout}`);
  return Number(m[1]) / 1000;
}
