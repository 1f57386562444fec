#!/bin/bash
# build-image.sh - build (or reuse) the lab VM image: Debian bookworm with the
# Debian kernel, glusterfs-server/client, tcmu-runner plus its glfs handler
# (built from Debian's own tcmu-runner source: Debian ships it without),
# targetcli-fb, open-iscsi, multipath-tools, xfsprogs, openssh-server; podman
# (the product image runs in it as the chart runs it), containerd, runc and the
# CNI plugins (the Kubernetes layer's kubelet, given at run time).
#
# Usage: build-image.sh [--print-dir]
#   --print-dir   only print the image directory for the current recipe
# Env:   LAB_CACHE (default /var/tmp/gluster-block-csi-lab), LAB_MIRROR,
#        LAB_IMG_SIZE (root disk size, default 4G)
# Output: $LAB_CACHE/image-<hash>/{vmlinuz,initrd.img,base.img,ssh/id_ed25519,
#         READY, *.log}; <hash> covers this script, lib.sh and image/* (all
#         that goes into the guest).  The last line on stdout is that directory.
# Cache:  the same recipe reuses its image.  The package stages (debootstrap,
#         guest packages, glfs handler) are cached on their own in
#         $LAB_CACHE/rootfs-<pkghash> so a change of guest configuration only
#         redoes the cheap stages.  Every stage leaves a stamp, so an
#         interrupted build resumes.  Older images/rootfs are pruned.
# The mirror URI is read from the host's apt sources at run time; the chroot's
# sources and apt lists are deleted and our logs are scrubbed of its name.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$HERE/lib.sh"

# Packages inside the guest (real Debian packages only).
GUEST_PKGS="linux-image-amd64 initramfs-tools systemd-sysv udev dbus kmod
 iproute2 procps openssh-server glusterfs-server glusterfs-client
 tcmu-runner targetcli-fb python3-rtslib-fb open-iscsi multipath-tools
 sg3-utils lsscsi xfsprogs e2fsprogs util-linux libstdc++6 less
 podman crun containerd runc containernetworking-plugins iptables conntrack"
# Needed only to build handler_glfs.so; purged again.
BUILD_PKGS="build-essential cmake pkg-config libglib2.0-dev libkmod-dev
 libnl-genl-3-dev zlib1g-dev libglusterfs-dev dpkg-dev"
# Bump when the package stages below change in a way the lists do not show.
PKG_STAGES_VERSION=1

recipe_hash() {
  (cd "$HERE" && for f in build-image.sh lib.sh image/*; do printf '%s\n' "$f"; cat "$f"; done) |
    sha256sum | cut -c1-12
}
pkg_hash() {
  printf '%s\n' "$LAB_SUITE" "$GUEST_PKGS" "$BUILD_PKGS" "$PKG_STAGES_VERSION" | sha256sum | cut -c1-12
}
OUT=$LAB_CACHE/image-$(recipe_hash)
BASE=$LAB_CACHE/rootfs-$(pkg_hash)
if [ "${1:-}" = --print-dir ]; then echo "$OUT"; exit 0; fi
[ "$(id -u)" = 0 ] || die "run as root"

if [ -e "$OUT/READY" ]; then
  log "image cached, reusing $OUT (recipe unchanged)"
  echo "$OUT"; exit 0
fi
T0=$(now)
log "building image $OUT"
mkdir -p "$OUT" "$BASE"
ROOT=$BASE/rootfs
LOGS=("$BASE/debootstrap.log" "$BASE/apt-guest.log" "$BASE/glfs-build.log" "$OUT/config.log")

mounted=()
umount_chroot() {
  local i
  for ((i=${#mounted[@]}-1; i>=0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
  mounted=()
}
cleanup() {
  umount_chroot
  rm -f "$ROOT/usr/sbin/policy-rc.d" "$ROOT/etc/apt/sources.list" "$ROOT/etc/dpkg/dpkg.cfg.d/lab-unsafe-io" 2>/dev/null || true
  scrub "${LOGS[@]}"
}
trap cleanup EXIT
chroot_mounts() { # ROOT
  local r=$1 d
  for d in proc sys dev dev/pts; do
    mountpoint -q "$r/$d" && continue
    case $d in
      proc) mount -t proc proc "$r/proc" ;;
      sys) mount -t sysfs sys "$r/sys" ;;
      dev) mount --bind /dev "$r/dev" ;;
      dev/pts) mount -t devpts devpts "$r/dev/pts" ;;
    esac
    mounted+=("$r/$d")
  done
}
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
apt_prepare() { # [deb-src]: sources, no daemons, fast dpkg
  chroot_mounts "$ROOT"
  printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"; chmod +x "$ROOT/usr/sbin/policy-rc.d"
  echo force-unsafe-io > "$ROOT/etc/dpkg/dpkg.cfg.d/lab-unsafe-io"
  write_sources "$ROOT/etc/apt/sources.list" "${1:-}"
}

# 1. debootstrap (minbase) ---------------------------------------------------
if [ ! -e "$BASE/debootstrap.done" ]; then
  t=$(now); log "debootstrap $LAB_SUITE minbase"
  # one retry: a debootstrap on a heavily loaded host once failed installing
  # perl-base and passed when run again
  for attempt in 1 2; do
    rm -rf "$ROOT"
    if debootstrap --variant=minbase "$LAB_SUITE" "$ROOT" "$(mirror)" > "$BASE/debootstrap.log" 2>&1; then break; fi
    if [ -f "$ROOT/debootstrap/debootstrap.log" ]; then
      { echo "--- $ROOT/debootstrap/debootstrap.log (tail)"; tail -40 "$ROOT/debootstrap/debootstrap.log"; } >> "$BASE/debootstrap.log"
    fi
    scrub "$BASE/debootstrap.log"; cp "$BASE/debootstrap.log" "$BASE/debootstrap.failed-$attempt.log"
    tail -20 "$BASE/debootstrap.log" >&2
    [ "$attempt" = 1 ] || die "debootstrap failed twice (logs: $BASE/debootstrap.failed-*.log)"
    log "debootstrap failed; retrying once"
  done
  rm -f "$ROOT/var/log/bootstrap.log"
  log "debootstrap done in $(elapsed "$t")s"; touch "$BASE/debootstrap.done"
fi

# 2. guest packages ----------------------------------------------------------
if [ ! -e "$BASE/packages.done" ]; then
  t=$(now); apt_prepare
  in_root apt-get update -q > "$BASE/apt-guest.log" 2>&1
  # shellcheck disable=SC2086
  in_root apt-get install -y -q --no-install-recommends $GUEST_PKGS >> "$BASE/apt-guest.log" 2>&1 \
    || { scrub "$BASE/apt-guest.log"; tail -30 "$BASE/apt-guest.log"; die "guest apt-get install failed"; }
  log "guest packages installed in $(elapsed "$t")s"; touch "$BASE/packages.done"
fi

# 3. tcmu-runner glfs handler from Debian's own source (same version, ABI) ---
if [ ! -e "$BASE/glfs-handler.done" ]; then
  t=$(now); apt_prepare deb-src
  in_root apt-get update -q >> "$BASE/apt-guest.log" 2>&1
  # shellcheck disable=SC2086
  in_root apt-get install -y -q --no-install-recommends $BUILD_PKGS >> "$BASE/apt-guest.log" 2>&1 \
    || { scrub "$BASE/apt-guest.log"; tail -30 "$BASE/apt-guest.log"; die "build packages failed"; }
  # shellcheck disable=SC2016 # expanded by the chroot's shell
  in_root sh -c 'set -e; rm -rf /usr/src/tcmu; mkdir -p /usr/src/tcmu; cd /usr/src/tcmu
    apt-get source -q tcmu-runner
    cd tcmu-*/ && mkdir -p build && cd build
    cmake .. -Dwith-glfs=true -Dwith-rbd=false -Dwith-qcow=false -Dwith-zbc=false \
      -Dwith-fbo=false -Dwith-tcmalloc=false -DSUPPORT_SYSTEMD=ON \
      -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=RelWithDebInfo
    make -j"$(nproc)" handler_glfs
    install -m 0644 handler_glfs.so /usr/lib/x86_64-linux-gnu/tcmu-runner/handler_glfs.so' \
    > "$BASE/glfs-build.log" 2>&1 \
    || { scrub "$BASE/glfs-build.log"; tail -30 "$BASE/glfs-build.log"; die "glfs handler build failed"; }
  # keep libgfapi0 (the handler's runtime library), drop compilers and headers
  {
    in_root apt-mark manual libgfapi0
    # shellcheck disable=SC2086
    in_root apt-get purge -y -q $BUILD_PKGS
    in_root apt-get autoremove -y -q --purge
  } >> "$BASE/apt-guest.log" 2>&1
  rm -rf "$ROOT/usr/src/tcmu"
  if in_root ldd /usr/lib/x86_64-linux-gnu/tcmu-runner/handler_glfs.so | grep -q 'not found'; then
    die "handler_glfs.so has unresolved libraries"
  fi
  rm -f "$ROOT/etc/apt/sources.list"; rm -rf "$ROOT"/var/lib/apt/lists/*; in_root apt-get clean
  umount_chroot
  log "glfs handler built in $(elapsed "$t")s"; touch "$BASE/glfs-handler.done"
fi

# 4. guest configuration, on a copy of the package rootfs ---------------------
CFG=$OUT/rootfs
if [ ! -e "$OUT/config.done" ]; then
  t=$(now)
  rm -rf "$CFG"; cp -a "$ROOT" "$CFG"
  ROOT=$CFG
  mkdir -p "$OUT/ssh"
  [ -e "$OUT/ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C gluster-block-csi-lab -f "$OUT/ssh/id_ed25519"
  echo lab > "$ROOT/etc/hostname"     # each VM gets systemd.hostname=nN at boot
  # No DNS in the guest (slirp restrict=on, nothing to ask): with a nameserver
  # every glusterd handshake step waited 10 s.  Lab names come from /etc/hosts.
  printf '# lab: no DNS inside the VM\noptions timeout:1 attempts:1\n' > "$ROOT/etc/resolv.conf"
  # (lab-boot adds n1..n9 for the lab.net= of the kernel command line)
  printf '127.0.0.1 localhost\n' > "$ROOT/etc/hosts"
  echo '/dev/vda / ext4 defaults,noatime 0 1' > "$ROOT/etc/fstab"
  # LIO, TCMU, iSCSI initiator, dm-multipath, 9p
  printf '%s\n' configfs target_core_mod target_core_user iscsi_target_mod iscsi_tcp \
    dm_multipath dm_round_robin scsi_dh_alua 9p 9pnet_virtio > "$ROOT/etc/modules-load.d/lab.conf"
  # addresses and brick disk: image/lab-boot (no systemd-networkd, no DHCP)
  install -m 0755 "$HERE/image/lab-boot" "$ROOT/usr/local/sbin/lab-boot"
  install -m 0644 "$HERE/image/lab-net.service" "$HERE/image/lab-bricks.service" "$ROOT/etc/systemd/system/"
  install -m 0644 "$HERE/image/multipath.conf" "$ROOT/etc/multipath.conf"
  # root over ssh with the lab key only
  install -d -m 0700 "$ROOT/root/.ssh"
  install -m 0600 "$OUT/ssh/id_ed25519.pub" "$ROOT/root/.ssh/authorized_keys"
  printf 'HostKey /etc/ssh/ssh_host_ed25519_key\nPermitRootLogin prohibit-password\nUseDNS no\nPasswordAuthentication no\nMaxSessions 64\nMaxStartups 64\n' \
    > "$ROOT/etc/ssh/sshd_config.d/lab.conf"
  # serial console autologin (debugging)
  mkdir -p "$ROOT/etc/systemd/system/serial-getty@ttyS0.service.d"
  # shellcheck disable=SC2016 # $TERM is for systemd
  printf '[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin root --keep-baud 115200 %%I $TERM\n' \
    > "$ROOT/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf"
  # Per-VM identity: generated at first boot (initiator name by iscsid's
  # ExecStartPre, machine-id by systemd, glusterd UUID by glusterd).
  printf 'GenerateName=yes\n' > "$ROOT/etc/iscsi/initiatorname.iscsi"
  : > "$ROOT/etc/machine-id"
  rm -f "$ROOT/var/lib/dbus/machine-id" "$ROOT/var/lib/glusterd/glusterd.info" "$ROOT"/etc/ssh/ssh_host_*
  # an ed25519 host key per VM (quick even under TCG), made before sshd -t runs
  mkdir -p "$ROOT/etc/systemd/system/ssh.service.d"
  cat > "$ROOT/etc/systemd/system/ssh.service.d/lab-hostkey.conf" <<'EOS'
[Service]
ExecStartPre=
ExecStartPre=/bin/sh -c 'test -s /etc/ssh/ssh_host_ed25519_key || ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key'
ExecStartPre=/usr/sbin/sshd -t
EOS
  {
    in_root systemctl enable lab-net.service lab-bricks.service
    for u in glusterd.service iscsid.service multipathd.service tcmu-runner.service ssh.service; do
      in_root systemctl enable "$u"
    done
    # off: timers, time sync (no network), glustereventsd, binfmt, and the
    # LIO restore at boot (python; lab VMs always boot with fresh disks)
    for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer \
             systemd-timesyncd.service open-iscsi.service glustereventsd.service systemd-binfmt.service \
             rtslib-fb-targetctl.service podman-auto-update.timer podman-restart.service; do
      in_root systemctl disable "$u" || true
      in_root systemctl mask "$u" || true
    done
    # containerd runs only when the Kubernetes layer starts it (not masked)
    in_root systemctl disable containerd.service || true
    in_root systemctl set-default multi-user.target
  } > "$OUT/config.log" 2>&1
  # glusterd runs gsyncd (python) about ten times at start-up to configure
  # geo-replication, which the lab never uses: minutes under a busy TCG.
  # Without gsyncd glusterd skips that ("geo-replication module not installed").
  rm -f "$ROOT/usr/lib/x86_64-linux-gnu/glusterfs/gsyncd"
  # nothing of the mirror stays in the image
  rm -f "$ROOT/etc/apt/sources.list" "$ROOT/var/log/bootstrap.log"
  rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin
  log "guest configured in $(elapsed "$t")s"; touch "$OUT/config.done"
fi

# 5. kernel + initrd + brick disk + ext4 root image ---------------------------
if [ ! -e "$OUT/image.done" ]; then
  t=$(now)
  # brick disk template (/dev/vdb -> /bricks): a 64 GiB sparse xfs made with
  # the guest's own mkfs.xfs, so `prealloc full` test volumes fit; each VM
  # gets a qcow2 overlay on it
  rm -f "$CFG/bricks.raw"; truncate -s 64G "$CFG/bricks.raw"
  chroot "$CFG" mkfs.xfs -q -K -L bricks /bricks.raw
  qemu-img convert -O qcow2 "$CFG/bricks.raw" "$OUT/bricks.qcow2"
  rm -f "$CFG/bricks.raw"
  cp -L "$CFG/vmlinuz" "$OUT/vmlinuz"; cp -L "$CFG/initrd.img" "$OUT/initrd.img"
  rm -f "$OUT/base.img"; truncate -s "${LAB_IMG_SIZE:-4G}" "$OUT/base.img"
  mkfs.ext4 -q -F -L labroot -E nodiscard -d "$CFG" "$OUT/base.img"
  log "root image built in $(elapsed "$t")s ($(du -sh "$OUT/base.img" | cut -f1) used)"
  touch "$OUT/image.done"
fi
rm -rf "$CFG"
touch "$OUT/READY"

# prune images and package rootfs of other recipes (not while a VM uses one)
in_use=$(cat "$LAB_STATE/image-dir" 2>/dev/null || true)
for d in "$LAB_CACHE"/image-* "$LAB_CACHE"/rootfs-*; do
  [ -d "$d" ] || continue
  case $d in "$OUT"|"$BASE"|"$in_use") continue ;; esac
  log "pruning old $d"; rm -rf "$d"
done
log "image ready in $(elapsed "$T0")s: $OUT"
echo "$OUT"
