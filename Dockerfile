# syntax=docker/dockerfile:1
# One image, three programs: gluster-block-csi (controller | node),
# gluster-blockd (storage nodes) and the gluster-block CLI.
#
#   docker build -t gluster-block-csi:0.1.0 .
#
# Host tools: the image carries its own iscsiadm, multipath, mkfs and mount
# (Debian 12 packages). They act on the host's kernel state through the
# DaemonSet's host mounts (/dev, /sys, /etc/iscsi, /var/lib/iscsi,
# /etc/multipath) and talk to the HOST's iscsid and multipathd through their
# abstract unix sockets, which the node pod reaches with hostNetwork. The
# host must run iscsid and multipathd (open-iscsi and multipath-tools); keep
# the host's open-iscsi at 2.1.x, the version spoken here. tcmu-runner (with
# the glfs handler) and glusterd run on the storage hosts, not in this image.

# ---- build: compile TypeScript, then bundle each program into one file and its chunks (dist/bundle/)
FROM node:20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/bundle.mjs ./scripts/
RUN npm run build

# ---- runtime: node, the three bundles (each program with its dependencies
# and the proto descriptors inside), bin/ and package.json: no node_modules
FROM debian:12-slim AS runtime
ARG DEBIAN_FRONTEND=noninteractive
# node mode: open-iscsi, multipath-tools, xfsprogs, e2fsprogs, util-linux (mount, findmnt, blkid, blockdev, flock)
# blockd: glusterfs-client (mount.glusterfs, FUSE), glusterfs-cli (gluster), kmod (modprobe)
# tini: PID 1 that reaps daemonized grandchildren (the FUSE glusterfs client)
# initiatorname.iscsi is removed: the initiator name is the host's (the node pod mounts /etc/iscsi)
# gsyncd is removed: every `gluster` command starts it (python) to see whether
# geo-replication commands exist, and in a container without glusterd's state
# it fails after a Python traceback; blockd's `gluster volume info` took 22 s
# instead of 10 in a TCG lab VM, 12 s of it gsyncd. No program here uses
# geo-replication.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates tini libstdc++6 \
      open-iscsi multipath-tools xfsprogs e2fsprogs util-linux mount \
      glusterfs-client glusterfs-cli kmod \
 && rm -rf /var/lib/apt/lists/* \
 && rm -f /etc/iscsi/initiatorname.iscsi \
 && rm -f /usr/lib/x86_64-linux-gnu/glusterfs/gsyncd
COPY --from=build /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=build /src/dist/bundle ./dist/bundle
COPY package.json ./
COPY bin ./bin
RUN chmod 0755 bin/*.js \
 && ln -s /app/bin/gluster-block-csi.js /usr/local/bin/gluster-block-csi \
 && ln -s /app/bin/gluster-blockd.js /usr/local/bin/gluster-blockd \
 && ln -s /app/bin/gluster-block.js /usr/local/bin/gluster-block \
 && groupadd --system --gid 10001 gbcsi \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin gbcsi \
 && node /app/bin/gluster-block-csi.js --help >/dev/null \
 && node /app/bin/gluster-blockd.js --help >/dev/null \
 && node /app/bin/gluster-block.js --help >/dev/null
ENV NODE_ENV=production
# non-root by default (the controller); the node plugin and gluster-blockd set runAsUser: 0
USER 10001:10001
# for `docker run`: healthy while the process answers on its metrics port (start it with --metrics-address=:9822)
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.GBCSI_HEALTH_PORT||'9822')+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# tini reaps the children of exec (iscsiadm, mount, mkfs) and forwards SIGTERM;
# -s (subreaper): it reaps them where it is not PID 1 too, as in the node
# pod, which shares the host's PIDs (without it tini warns and reaps nothing)
ENTRYPOINT ["/usr/bin/tini", "-s", "--"]
CMD ["gluster-block-csi", "--help"]
