#!/bin/bash
# vm.sh - run the lab VMs n1..n9 (image from build-image.sh) under qemu TCG
# and reach them over ssh.
#
# Usage:
#   vm.sh start N        boot VM nN (fresh disks), wait for ssh, mount the 9p shares
#   vm.sh stop N         power off (falls back to killing our qemu after 30 s)
#   vm.sh kill N         kill our qemu at once (hung guest / fast teardown)
#   vm.sh ssh N CMD...   run CMD in nN as root (exit status kept)
#   vm.sh scp N SRC DST  copy a host file/directory into nN
#   vm.sh net-up         bridge $LAB_BRIDGE (gbbr0) with address $LAB_NET.254/24
#   vm.sh net-down       remove our taps and the bridge
# Env: LAB_CACHE, LAB_STATE (see lib.sh), LAB_SMP (1), LAB_MEM (MiB, 2048),
#      LAB_SSH_BASE (10120: nN -> 127.0.0.1:10120+N),
#      LAB_BOOT_TIMEOUT (seconds, 400), LAB_REPO (this checkout).
# Each VM: $LAB_STATE/nN/{disk.qcow2 (overlay on base.img), bricks.qcow2 (overlay
#   on the image's 64 GiB xfs template: /dev/vdb -> /bricks), containers.qcow2,
#   console.log, qemu.pid, mon.sock, ssh.ctl}.
# containers.qcow2 is the one disk kept from boot to boot: podman's image
#   store (/dev/vdc -> /var/lib/containers), so a new build of the product
#   image loads only the layers the VM does not hold yet. A store that does
#   not answer is made afresh (the harness loads the image again).
# Network: eth0 = slirp with restrict=on (only the ssh hostfwd; the guest
#   reaches nothing), eth1 = tap ${LAB_BRIDGE}tN on the bridge, $LAB_NET.(10+N).
# Several labs can run side by side when each has its own LAB_STATE,
#   LAB_BRIDGE, LAB_NET and LAB_SSH_BASE.
# 9p: the checkout at /lab/repo (read-write) and the host's Node installation
#   (the directory holding bin/node) at /lab/node (read-only).
# qemu runs with TCG: -accel kvm hangs on this machine class.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$HERE/lib.sh"

SMP=${LAB_SMP:-1}; MEM=${LAB_MEM:-2048}
REPO=${LAB_REPO:-$(cd "$HERE/.." && pwd)}
KEY=$LAB_STATE/id_ed25519

vmdir() { echo "$LAB_STATE/n$1"; }
port() { echo $(( ${LAB_SSH_BASE:-10120} + $1 )); }
ssh_opts() { # N
  printf '%s\n' -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
    -o LogLevel=ERROR -o ConnectTimeout=5 -o ServerAliveInterval=5 -o ServerAliveCountMax=6 \
    -o ControlMaster=auto -o "ControlPath=$(vmdir "$1")/ssh.ctl" -o ControlPersist=300 \
    -i "$KEY" -p "$(port "$1")"
}
# shellcheck disable=SC2029 # the command line is meant for the guest's shell
vssh() { local n=$1 o; shift; mapfile -t o < <(ssh_opts "$n"); ssh "${o[@]}" root@127.0.0.1 "$@"; }
qpid() { cat "$(vmdir "$1")/qemu.pid" 2>/dev/null; }
# our qemu: the pid file's process, whose command line names this VM's state dir
running() { local p; p=$(qpid "$1") && [ -n "$p" ] && kill -0 "$p" 2>/dev/null &&
  tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -qF "$(vmdir "$1")/"; }
tapname() { echo "${LAB_BRIDGE}t$1"; }
check_n() { [[ ${1:-} =~ ^[1-9]$ ]] || die "VM number 1..9 expected, got '${1:-}'"; }

node_prefix() { # the directory holding bin/node
  local n; n=$(readlink -f "$(command -v node)") || die "node not found"
  dirname "$(dirname "$n")"
}

start() {
  local n=$1 d img t tap
  check_n "$n"; d=$(vmdir "$n")
  if running "$n"; then log "n$n already running"; return 0; fi
  img=$("$HERE/build-image.sh" --print-dir)
  [ -e "$img/READY" ] || die "no image at $img; run build-image.sh first"
  mkdir -p "$d"; echo "$img" > "$LAB_STATE/image-dir"
  # VMs start in parallel: each copies the key to its own temp file and renames it over (atomic)
  install -m 0600 "$img/ssh/id_ed25519" "$KEY.n$1.tmp" && mv -f "$KEY.n$1.tmp" "$KEY"
  # fresh disks on every boot: a lab VM's state lives only as long as its qemu
  rm -f "$d/disk.qcow2" "$d/bricks.qcow2" "$d/ssh.ctl"
  qemu-img create -q -f qcow2 -F raw -b "$img/base.img" "$d/disk.qcow2"
  qemu-img create -q -f qcow2 -F qcow2 -b "$img/bricks.qcow2" "$d/bricks.qcow2"
  [ -e "$d/containers.qcow2" ] || qemu-img create -q -f qcow2 "$d/containers.qcow2" 16G
  ip link show "$LAB_BRIDGE" >/dev/null 2>&1 || net_up
  tap=$(tapname "$n")
  ip link show "$tap" >/dev/null 2>&1 || ip tuntap add dev "$tap" mode tap
  ip link set "$tap" master "$LAB_BRIDGE"; ip link set "$tap" up
  rm -f "$d/console.log" "$d/qemu.pid"
  t=$(now)
  qemu-system-x86_64 -name "gluster-block-csi-lab-n$n" \
    -accel tcg,thread=multi,tb-size=512 -cpu max -smp "$SMP" -m "$MEM" \
    -display none -serial "file:$d/console.log" -monitor "unix:$d/mon.sock,server,nowait" \
    -daemonize -pidfile "$d/qemu.pid" \
    -kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 net.ifnames=0 mitigations=off loglevel=4 systemd.show_status=0 systemd.hostname=n$n lab.net=$LAB_NET lab.addr=$LAB_NET.$((10 + n))/24" \
    -drive "file=$d/disk.qcow2,if=virtio,format=qcow2,cache=unsafe,discard=unmap" \
    -drive "file=$d/bricks.qcow2,if=virtio,format=qcow2,cache=unsafe,discard=unmap" \
    -drive "file=$d/containers.qcow2,if=virtio,format=qcow2,cache=writeback,discard=unmap" \
    -device virtio-rng-pci \
    -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$(port "$n")-:22" -device virtio-net-pci,netdev=n0 \
    -netdev "tap,id=n1,ifname=$tap,script=no,downscript=no" \
    -device "virtio-net-pci,netdev=n1,mac=52:54:00:13:00:$(printf %02x "$n")" \
    -virtfs "local,path=$REPO,mount_tag=repo,security_model=none,id=repo" \
    -virtfs "local,path=$(node_prefix),mount_tag=node,security_model=none,readonly=on,id=node"
  local limit=${LAB_BOOT_TIMEOUT:-400}
  until vssh "$n" true 2>/dev/null; do
    running "$n" || { tail -30 "$d/console.log" >&2; die "n$n: qemu exited during boot"; }
    [ "$(elapsed "$t" | cut -d. -f1)" -lt "$limit" ] || { tail -30 "$d/console.log" >&2; die "n$n: no ssh after ${limit}s"; }
    sleep 1
  done
  log "n$n: ssh up after $(elapsed "$t")s (${SMP} vCPU, ${MEM} MiB)"
  # /lab/repo uncached: a rebuild on the host shows at once in a running lab.
  # /lab/node cached (cache=loose): the host's Node never changes under a
  # lab, and an uncached 9p binary is paged in over virtio on every start
  # (node -e 0: 1.6-7.5 s uncached, 0.3 s cached, in the TCG guest)
  vssh "$n" 'set -e; mkdir -p /lab/repo /lab/node
    mountpoint -q /lab/repo || mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 repo /lab/repo
    mountpoint -q /lab/node || mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro,cache=loose node /lab/node'
  containers_store "$n"
}

# podman's store on the kept disk (see the header); made afresh when it has no
# file system, will not mount, or podman cannot read it (a VM killed mid-write)
containers_store() {
  local n=$1
  vssh "$n" 'set -e; dir=/var/lib/containers
    fresh() { umount "$dir" 2>/dev/null || true; mkfs.xfs -f -q /dev/vdc; mount /dev/vdc "$dir"; echo "$(hostname): new podman store"; }
    mkdir -p "$dir"
    if ! mountpoint -q "$dir"; then
      if [ -z "$(blkid -o value -s TYPE /dev/vdc 2>/dev/null)" ] || ! mount /dev/vdc "$dir" 2>/dev/null; then fresh; fi
    fi
    timeout 120 podman images -q >/dev/null 2>&1 || fresh' >&2
}

ssh_exit() { # close our ssh control master, if any
  local n=$1 o
  [ -S "$(vmdir "$n")/ssh.ctl" ] || return 0
  mapfile -t o < <(ssh_opts "$n")
  ssh "${o[@]}" -O exit root@127.0.0.1 >/dev/null 2>&1 || true
  rm -f "$(vmdir "$n")/ssh.ctl"
}

kill_vm() {
  local n=$1 p
  check_n "$n"
  ssh_exit "$n"
  if running "$n"; then
    p=$(qpid "$n"); kill "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then kill -9 "$p" 2>/dev/null || true; sleep 0.2; fi
    log "n$n killed"
  fi
  rm -f "$(vmdir "$n")/qemu.pid" "$(vmdir "$n")/mon.sock"
  ip link del "$(tapname "$n")" 2>/dev/null || true
}

stop() {
  local n=$1 p
  check_n "$n"
  if running "$n"; then
    p=$(qpid "$n")
    vssh "$n" 'systemctl poweroff' >/dev/null 2>&1 || true
    for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 1; done
  fi
  kill_vm "$n"
}

net_up() {
  ip link show "$LAB_BRIDGE" >/dev/null 2>&1 && return 0
  ip link add "$LAB_BRIDGE" type bridge
  ip addr add "$LAB_NET.254/24" dev "$LAB_BRIDGE"
  ip link set "$LAB_BRIDGE" up
}
net_down() {
  local t
  # (gbtapN: the tap names of the first version of this script, default lab only)
  for t in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 |
             grep -x -e "${LAB_BRIDGE}t[1-9]" -e "$([ "$LAB_BRIDGE" = gbbr0 ] && echo 'gbtap[1-9]' || echo "${LAB_BRIDGE}t[1-9]")" || true); do
    ip link del "$t" 2>/dev/null || true
  done
  ip link del "$LAB_BRIDGE" 2>/dev/null || true
}

case ${1:-} in
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  kill) kill_vm "${2:-}" ;;
  ssh) shift; n=${1:-}; check_n "$n"; shift; vssh "$n" "$@" ;;
  scp) check_n "${2:-}"; mapfile -t o < <(ssh_opts "$2" | sed 's/^-p$/-P/')
       scp -q -r "${o[@]}" "$3" "root@127.0.0.1:$4" ;;
  running) check_n "${2:-}"; running "$2" ;;
  net-up) net_up ;;
  net-down) net_down ;;
  *) sed -n '2,23p' "$0" >&2; exit 2 ;;
esac
