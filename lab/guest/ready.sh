#!/bin/bash
# ready.sh - runs IN a lab VM (fed over ssh on stdin): wait until the storage
# stack is ready, checking one unit at a time (`systemctl is-active a b c`
# succeeds when ANY of them is active).  Prints one line per check.
# Usage: bash -s -- [TIMEOUT_SECONDS] < ready.sh
set -u
deadline=$(( $(date +%s) + ${1:-240} ))
wait_for() { # WHAT CMD...
  local what=$1 t0; shift; t0=$(date +%s.%N)
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then echo "NOT READY: $what"; return 1; fi
    sleep 0.5
  done
  printf 'ready %-14s %6.2fs\n' "$what" "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')"
}
glfs_registered() { # tcmu-runner registered its glfs handler on the system bus
  busctl --system --list tree org.kernel.TCMUService1 2>/dev/null | grep -q '/org/kernel/TCMUService1/glfs$'
}
wait_for lab-net systemctl is-active -q lab-net &&
wait_for lab-bricks systemctl is-active -q lab-bricks &&
wait_for bricks-mount mountpoint -q /bricks &&
wait_for glusterd systemctl is-active -q glusterd &&
wait_for gluster-cli gluster --mode=script pool list &&
wait_for tcmu-runner systemctl is-active -q tcmu-runner &&
wait_for glfs-handler glfs_registered &&
wait_for iscsid-start systemctl start iscsid &&
wait_for iscsid systemctl is-active -q iscsid &&
wait_for initiatorname grep -q '^InitiatorName=iqn\.' /etc/iscsi/initiatorname.iscsi &&
wait_for multipathd systemctl is-active -q multipathd &&
wait_for multipathd-cli multipathd show daemon &&
wait_for lio-configfs test -d /sys/kernel/config/target/core
