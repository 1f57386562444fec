# lib.sh - helpers shared by the lab shell scripts (sourced, not run).
#
# Environment (all optional):
#   LAB_CACHE   where images are cached (default /var/tmp/gluster-block-csi-lab)
#   LAB_STATE   per-run VM state (default $LAB_CACHE/run)
#   LAB_MIRROR  Debian mirror URI; default: read at run time from the host's
#               apt configuration.  It is never written into a file we keep.
#   LAB_SECURITY_MIRROR  the same for the security archive
# shellcheck shell=bash
set -euo pipefail

LAB_CACHE=${LAB_CACHE:-/var/tmp/gluster-block-csi-lab}
LAB_STATE=${LAB_STATE:-$LAB_CACHE/run}
LAB_SUITE=${LAB_SUITE:-bookworm}
# lab network: bridge, host address NET.254, VM nN at NET.(10+N)
LAB_BRIDGE=${LAB_BRIDGE:-gbbr0}
LAB_NET=${LAB_NET:-10.213.0}

log() { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

# now: seconds since the epoch (ns); elapsed START -> "12.34"
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }

# apt_uri SUFFIX: the first http(s) URI in the host's apt sources whose path
# ends in SUFFIX ("debian" or "debian-security"); deb822 and one-line formats.
apt_uri() {
  local want=$1 u
  u=$( { awk '/^URIs:/{for(i=2;i<=NF;i++) print $i}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
         awk '$1=="deb"{for(i=2;i<=NF;i++) if ($i ~ /^https?:/) print $i}' \
             /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
       grep -E "/${want}/?\$" | head -1 || true)
  printf '%s' "$u"
}
mirror() {
  local m=${LAB_MIRROR:-$(apt_uri debian)}
  [ -n "$m" ] || die "no Debian mirror in the host's apt sources; set LAB_MIRROR"
  printf '%s' "$m"
}
security_mirror() { printf '%s' "${LAB_SECURITY_MIRROR:-$(apt_uri debian-security)}"; }

# write_sources FILE [deb-src]: temporary apt sources for the build chroot
write_sources() {
  local m s t
  m=$(mirror); s=$(security_mirror)
  {
    for t in deb ${2:+deb-src}; do
      echo "$t $m $LAB_SUITE main"
      echo "$t $m $LAB_SUITE-updates main"
      if [ -n "$s" ]; then echo "$t $s $LAB_SUITE-security main"; fi
    done
  } > "$1"
}

# scrub FILE...: replace the mirror host names in our logs by "<mirror>"
scrub() {
  local h f
  for h in $(printf '%s\n%s\n' "$(mirror)" "$(security_mirror)" | sed -E 's#^[a-z]+://##; s#[/:].*##' | sort -u); do
    [ -n "$h" ] || continue
    for f in "$@"; do
      if [ -f "$f" ]; then sed -i "s#$h#<mirror>#g" "$f"; fi
    done
  done
  return 0
}
