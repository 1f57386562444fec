// Runs in each lab VM between tests (bash, on stdin): returns the node to the
// state `up` left it in, without a reboot.
//   args: local|volume VOLUME OWN_ADDRESS keep|kill-node
//   ("volume": also empty the hosting volume and delete volumes other than
//   it; "kill-node": stop the product's containers (blockd, node plugin) and
//   kill the processes run with the shared /lab/node/bin/node)
export const RESET_SCRIPT = String.raw`
set -u
mode=$1 vol=$2 addr=$3 procs=$4
if [ "$procs" = kill-node ]; then
  for u in gluster-blockd gbcsi-node; do
    systemctl stop "$u" 2>/dev/null; systemctl reset-failed "$u" 2>/dev/null; podman rm -f -t 0 "$u" >/dev/null 2>&1
  done
  for p in $(pgrep -x node 2>/dev/null); do
    [ "$(readlink /proc/$p/exe 2>/dev/null)" = /lab/node/bin/node ] && kill "$p" 2>/dev/null
  done
  sleep 0.5
fi
# test mounts: everything under /mnt and kubelet's tree (deepest first)
for m in $(findmnt -rn -o TARGET | grep -E '^/(mnt|var/lib/kubelet)/' | sort -r); do umount -l "$m" || true; done
# iSCSI sessions and records
iscsiadm -m node --logoutall=all >/dev/null 2>&1 || true
iscsiadm -m node -o delete >/dev/null 2>&1 || true
rm -rf /etc/iscsi/nodes/* /etc/iscsi/send_targets/* 2>/dev/null || true
# multipath maps (now unused)
multipath -F >/dev/null 2>&1 || true
for k in $(seq 50); do [ -z "$(dmsetup ls --target multipath 2>/dev/null | grep -v 'No devices')" ] && break; multipath -F >/dev/null 2>&1; sleep 0.2; done
# LIO: targetcli takes seconds to start; skip it when configfs holds no
# target and no backstore (core/ then only has alua)
lio_busy() {
  compgen -G '/sys/kernel/config/target/iscsi/iqn.*' >/dev/null && return 0
  ls /sys/kernel/config/target/core 2>/dev/null | grep -qvx alua
}
if lio_busy; then targetcli clearconfig confirm=True >/dev/null; fi
rm -f /etc/rtslib-fb-target/saveconfig.json /etc/target/saveconfig.json
if [ "$mode" = volume ]; then
  for v in $(gluster --mode=script volume list 2>/dev/null); do
    [ "$v" = "$vol" ] && continue
    gluster --mode=script volume stop "$v" force >/dev/null 2>&1 || true
    gluster --mode=script volume delete "$v" >/dev/null 2>&1 || true
  done
  mkdir -p /mnt/lab-reset
  mount -t glusterfs "$addr:/$vol" /mnt/lab-reset
  find /mnt/lab-reset -mindepth 1 -maxdepth 1 ! -name .shard -exec rm -rf {} +
  umount /mnt/lab-reset; rmdir /mnt/lab-reset
fi
echo "reset $(hostname) done"
`;
