#!/bin/bash
# gluster-netns.sh - real glusterd peers on THIS host, one per network
# namespace, each with its own /var/lib/glusterd, /var/log/glusterfs and /run
# (private mount namespace), joined into one trusted pool over a bridge.  The
# host's own /var/lib/glusterd and any host glusterd are never touched.
#
# Usage:
#   gluster-netns.sh up              start NODES peers, probe them, create+start VOL
#   gluster-netns.sh cli I ARGS...   the gluster CLI (--mode=script) against peer I
#   gluster-netns.sh mount DIR       FUSE-mount VOL on the host at DIR
#   gluster-netns.sh umount DIR      unmount it again
#   gluster-netns.sh down            stop all this script started; remove mounts,
#                                    namespaces, veths, bridge and state
# Env:
#   GLN_DIR (default /var/tmp/gluster-block-csi-gln)  NODES (3)  VOL (gv0)
#   GLN_NET (10.214.0): bridge glnbr0 = NET.254, peer I = NET.I (netns glnI)
#   REPLICA (3): bricks per peer = REPLICA/NODES (NODES=1 -> 3 bricks on one peer)
#   VOL_GROUP (gluster-block): option group applied to VOL ("" for none)
# Facts this relies on (found on this machine class):
#   * glusterd refuses 127.x/localhost bricks and needs a non-loopback address
#     that exists BEFORE it starts (it caches the local interfaces);
#   * the host reaches a peer's CLI with --glusterd-sock on its bind-mounted /run.
set -euo pipefail

GLN_DIR=${GLN_DIR:-/var/tmp/gluster-block-csi-gln}
NODES=${NODES:-3}; VOL=${VOL:-gv0}; NET=${GLN_NET:-10.214.0}; REPLICA=${REPLICA:-3}
VOL_GROUP=${VOL_GROUP-gluster-block}
BR=glnbr0

log() { printf '[gluster-netns %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }
node_dir() { echo "$GLN_DIR/n$1"; }
cli() { local i=$1; shift; gluster --mode=script --glusterd-sock="$(node_dir "$i")/run/glusterd.socket" "$@"; }
has_netns() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

up() {
  local t0 t i d
  [ "$(id -u)" = 0 ] || die "run as root"
  command -v glusterd >/dev/null || die "glusterd missing (lab/install-host-deps.sh)"
  t0=$(now)
  if ! ip link show "$BR" >/dev/null 2>&1; then
    ip link add "$BR" type bridge; ip addr add "$NET.254/24" dev "$BR"; ip link set "$BR" up
  fi
  for i in $(seq 1 "$NODES"); do
    d=$(node_dir "$i"); mkdir -p "$d"/{lib,log,run,bricks}
    if ! has_netns "gln$i"; then
      ip netns add "gln$i"
      ip link add "glnh$i" type veth peer name "glnp$i"
      ip link set "glnp$i" netns "gln$i"
      ip link set "glnh$i" master "$BR"; ip link set "glnh$i" up
      ip -n "gln$i" link set lo up
      ip -n "gln$i" link set "glnp$i" name eth0
      ip -n "gln$i" addr add "$NET.$i/24" dev eth0
      ip -n "gln$i" link set eth0 up
    fi
    if [ -s "$d/glusterd.pid" ] && kill -0 "$(cat "$d/glusterd.pid")" 2>/dev/null; then continue; fi
    t=$(now)
    # private mount namespace: the per-node state over the system paths
    ip netns exec "gln$i" unshare -m --propagation private sh -c "
      mount --bind '$d/lib' /var/lib/glusterd
      mount --bind '$d/log' /var/log/glusterfs
      mount --bind '$d/run' /run
      exec glusterd -p '$d/glusterd.pid' --log-file='$d/log/glusterd.log'"
    for _ in $(seq 1 150); do cli "$i" peer status >/dev/null 2>&1 && break; sleep 0.1; done
    cli "$i" peer status >/dev/null || die "glusterd $i did not come up (see $d/log/glusterd.log)"
    log "glusterd $i up at $NET.$i in $(elapsed "$t")s"
  done
  t=$(now)
  for i in $(seq 2 "$NODES"); do cli 1 peer probe "$NET.$i" >/dev/null; done
  for _ in $(seq 1 150); do
    [ "$(cli 1 pool list | grep -c Connected)" -ge "$NODES" ] && break; sleep 0.2
  done
  [ "$(cli 1 pool list | grep -c Connected)" -ge "$NODES" ] || die "pool did not form: $(cli 1 pool list)"
  log "pool of $NODES formed in $(elapsed "$t")s"
  if ! cli 1 volume info "$VOL" >/dev/null 2>&1; then
    local bricks=() per=$(( REPLICA / NODES )) b
    [ "$per" -ge 1 ] || per=1
    for b in $(seq 1 "$per"); do for i in $(seq 1 "$NODES"); do
      bricks+=("$NET.$i:$(node_dir "$i")/bricks/$VOL-b$b"); done; done
    t=$(now)
    cli 1 volume create "$VOL" replica "${#bricks[@]}" "${bricks[@]}" force >/dev/null
    if [ -n "$VOL_GROUP" ]; then cli 1 volume set "$VOL" group "$VOL_GROUP" >/dev/null; fi
    log "volume $VOL created in $(elapsed "$t")s"
  fi
  if ! cli 1 volume info "$VOL" | grep -q '^Status: Started'; then
    t=$(now); cli 1 volume start "$VOL" >/dev/null; log "volume $VOL started in $(elapsed "$t")s"
  fi
  log "gluster up in $(elapsed "$t0")s"
}

our_mounts() { # FUSE mounts of volumes served from our subnet
  findmnt -rn -t fuse.glusterfs -o SOURCE,TARGET 2>/dev/null | awk -v p="$NET." 'index($1, p) == 1 {print $2}' || true
}

down() {
  local i d p m
  for m in $(our_mounts | sort -r); do umount "$m" 2>/dev/null || umount -l "$m" || true; done
  if [ -S "$(node_dir 1)/run/glusterd.socket" ]; then
    for v in $(cli 1 volume list 2>/dev/null || true); do cli 1 volume stop "$v" force >/dev/null 2>&1 || true; done
  fi
  for d in "$GLN_DIR"/n*; do
    [ -d "$d" ] || continue
    # glusterd, brick and self-heal pids (private /run/gluster of the node)
    for p in $(cat "$d"/run/gluster/*.pid "$d"/run/gluster/vols/*/*.pid "$d/glusterd.pid" 2>/dev/null || true); do
      kill "$p" 2>/dev/null || true
    done
  done
  for i in $(seq 1 9); do
    has_netns "gln$i" || continue
    # whatever still runs inside our namespace was started by us
    for _ in $(seq 20); do [ -z "$(ip netns pids "gln$i" 2>/dev/null)" ] && break; sleep 0.1; done
    for p in $(ip netns pids "gln$i" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "gln$i"
    ip link del "glnh$i" 2>/dev/null || true
  done
  ip link del "$BR" 2>/dev/null || true
  rm -rf "$GLN_DIR"
  log "down: no peer, namespace, bridge or mount of ours remains"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  cli) shift; cli "$@" ;;
  mount) mkdir -p "$2"; mountpoint -q "$2" || mount -t glusterfs "$NET.1:/$VOL" "$2" ;;
  umount) umount "$2" 2>/dev/null || umount -l "$2" ;;
  *) sed -n '2,22p' "$0" >&2; exit 2 ;;
esac
