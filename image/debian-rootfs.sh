#!/bin/bash
# debian-rootfs.sh ROOT MIRROR - Debian 12 (bookworm) in ROOT, made as the
# official debian:12-slim is made (debuerreotype): debootstrap's minbase
# variant, brought up to date from bookworm-updates and bookworm-security,
# then slimmed: no documentation, man pages or translations, now or in later
# installs (dpkg path excludes; the copyright files stay); the official
# image's container settings (policy-rc.d refusing to start services during
# an install, dpkg without sync, apt keeping no caches and no translations);
# apt sources naming deb.debian.org; no package lists, caches, logs or host
# files (debootstrap copies the host's resolv.conf and hostname in).
# ROOT is the mount of an empty container (buildah from scratch; buildah mount).
set -euo pipefail
root=${1:?usage: debian-rootfs.sh ROOT MIRROR}
mirror=${2:?usage: debian-rootfs.sh ROOT MIRROR}
log() { printf '[debian-rootfs %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# one retry: a debootstrap on a heavily loaded host once failed installing
# perl-base and passed when run again (lab/build-image.sh)
for attempt in 1 2; do
  find "$root" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  log "debootstrap --variant=minbase bookworm (attempt $attempt)"
  if debootstrap --variant=minbase bookworm "$root" "$mirror"; then break; fi
  if [ -f "$root/debootstrap/debootstrap.log" ]; then tail -40 "$root/debootstrap/debootstrap.log" >&2; fi
  [ "$attempt" = 1 ] || { log "debootstrap failed twice"; exit 1; }
done

cat > "$root/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
# as in the official debian:*-slim images: no docs, man pages or translations
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
CFG
echo force-unsafe-io > "$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
printf '#!/bin/sh\n# no service starts inside an image build\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
cat > "$root/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
echo 'Acquire::Languages "none";' > "$root/etc/apt/apt.conf.d/docker-no-languages"
echo 'Acquire::GzipIndexes "true";' > "$root/etc/apt/apt.conf.d/docker-gzip-indexes"
echo 'Apt::AutoRemove::SuggestsImportant "false";' > "$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
rm -f "$root/etc/apt/sources.list"
cat > "$root/etc/apt/sources.list.d/debian.sources" <<'CFG'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
CFG

log "apt-get upgrade from bookworm-updates and bookworm-security"
mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true' EXIT
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DEBIAN_FRONTEND=noninteractive LC_ALL=C \
  sh -c 'apt-get update -q && apt-get -y -q -o Dpkg::Options::=--force-confold dist-upgrade && apt-get clean'
umount "$root/proc"
trap - EXIT

log "slimming"
find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
for d in groff info linda lintian/overrides locale man; do
  if [ -d "$root/usr/share/$d" ]; then find "$root/usr/share/$d" -mindepth 1 -delete; fi
done
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/debconf/*-old
find "$root/var/log" -type f -delete
rm -f "$root/etc/resolv.conf" "$root/etc/hostname"
if [ -e "$root/etc/machine-id" ]; then : > "$root/etc/machine-id"; fi
log "done: $(du -sh --exclude=proc --exclude=sys "$root" | cut -f1)"
