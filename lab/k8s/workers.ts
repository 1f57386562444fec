// The lab VMs as Kubernetes workers: containerd (Debian's, cgroupfs,
// the pause image made here as its sandbox), the CNI bridge and host-local
// plugins (Debian's) with a pod subnet per node, the given kubelet with its
// node certificate, and the images imported into containerd. No kube-proxy:
// one DNAT rule per node sends the `kubernetes` Service's ClusterIP to the API
// server on the host, the only Service the driver's pods call (and a route
// for host-network pods to reach it from the node's lab address). containerd
// keeps its images on the VM's kept disk (/var/lib/containers, vm.sh).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { LabNode } from "../harness/lab.js";
import { API_HOST, API_PORT, KUBERNETES_SERVICE_IP, PAUSE_IMAGE, podCidr } from "./config.js";
import { share } from "./images.js";
import { kubeconfig, nodeClient, pkiFile } from "./pki.js";

const GUEST_PKI = "/etc/kubernetes/pki";
export const KUBELET_UNIT = "kubelet";

/** An OCI archive the node imports into containerd once per `stamp` (a build's hash). */
export interface Archive {
  guestPath: string;
  stamp: string;
}

function kubeletConfig(i: number): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: ${GUEST_PKI}/ca.crt}
authorization: {mode: AlwaysAllow}
# cgroupfs, as containerd's default: runc's systemd driver wants a slice for
# every pod, which only the per-QoS cgroups (off, below) give
cgroupDriver: cgroupfs
failSwapOn: false
podCIDR: ${podCidr(i)}
serializeImagePulls: false
maxPods: 40
# the lab's small root disks: evict late, collect images never (they cannot be pulled again)
evictionHard: {memory.available: "64Mi", nodefs.available: "3%", imagefs.available: "3%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# the lab's emulated CPUs: the kubelet's own polling took 40% of a VM's one
# vCPU, starving the pods it runs; it measures volumes (and, by flag,
# containers) less often
volumeStatsAggPeriod: 5m
# every 2 s the kubelet's pod clean-up reads the per-QoS cgroup tree, an lstat
# of each file of every pod's cgroup: 64 % of its CPU in a pprof of a lab
# kubelet (40-60 % of the VM), starving the driver's pods until the sidecars'
# 1 s start-up calls and 10 s lease renewals failed. Without per-QoS cgroups
# (a test cluster needs no QoS tiers) it has no tree to read.
cgroupsPerQOS: false
enforceNodeAllocatable: []
`;
}

function cniConfig(i: number): string {
  return JSON.stringify({
    cniVersion: "0.4.0",
    name: "lab",
    plugins: [
      {
        type: "bridge",
        bridge: "cni0",
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: "host-local", ranges: [[{ subnet: podCidr(i) }]], routes: [{ dst: "0.0.0.0/0" }] },
      },
      { type: "portmap", capabilities: { portMappings: true } },
    ],
  });
}

const SETUP = String.raw`
set -eu
kubelet_bin=$1 pause=$2 svc=$3 api=$4
mkdir -p /etc/containerd /etc/cni/net.d /var/lib/kubelet
# containerd's store on the disk the VM keeps from boot to boot (vm.sh's
# podman store): a new build's import then adds only its new layers
if mountpoint -q /var/lib/containers && ! mountpoint -q /var/lib/containerd; then
  mkdir -p /var/lib/containers/containerd /var/lib/containerd
  mount --bind /var/lib/containers/containerd /var/lib/containerd
fi
mkdir -p /var/lib/containerd/lab-imported
if [ ! -e /etc/containerd/config.toml.lab ]; then
  containerd config default > /etc/containerd/config.toml
  sed -i -e "s#sandbox_image = .*#sandbox_image = \"$pause\"#" \
    -e 's#bin_dir = "/opt/cni/bin"#bin_dir = "/usr/lib/cni"#' /etc/containerd/config.toml
  touch /etc/containerd/config.toml.lab
  systemctl restart containerd
fi
systemctl start containerd
for k in $(seq 100); do ctr version >/dev/null 2>&1 && break; sleep 0.3; done
cmp -s "$kubelet_bin" /usr/local/bin/kubelet || install -m 0755 "$kubelet_bin" /usr/local/bin/kubelet
modprobe br_netfilter
sysctl -q -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
for chain in OUTPUT PREROUTING; do
  iptables -t nat -C $chain -d $svc/32 -p tcp --dport 443 -j DNAT --to-destination $api 2>/dev/null ||
    iptables -t nat -A $chain -d $svc/32 -p tcp --dport 443 -j DNAT --to-destination $api
done
# a host-network pod (the node plugin, reading its Node's zone) picks its source address by the route to
# the ClusterIP, which is the default one (the VM's user-mode NIC): the DNAT then sends it to the API server
# from an address the host cannot answer. The ClusterIP's own route gives it the lab address instead.
route=$(ip -o route get "$(cut -d: -f1 <<<"$api")")
dev=$(awk '{for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1)}' <<<"$route")
src=$(awk '{for (i = 1; i < NF; i++) if ($i == "src") print $(i + 1)}' <<<"$route")
ip route replace $svc/32 dev "$dev" src "$src"
`;

const IMPORT = String.raw`
set -eu
path=$1 stamp=$2
# the mark lives with containerd's store: a store made afresh imports again
mark=/var/lib/containerd/lab-imported/$(basename "$path").$stamp
[ -e "$mark" ] && exit 0
ctr -n k8s.io images import "$path" >/dev/null
rm -f /var/lib/containerd/lab-imported/$(basename "$path").*; touch "$mark"
`;

/** Sets node i up as a worker (idempotent) and starts its kubelet when it is not running. */
export async function ensureWorker(n: LabNode, bin: string, archives: readonly Archive[]): Promise<void> {
  const i = n.index;
  const kubeletGuest = share(join(bin, "kubelet"));
  for (const [name, content] of [
    ["ca.crt", await readFile(pkiFile("ca.crt"), "utf8")],
    [`${nodeClient(n.name)}.crt`, await readFile(pkiFile(`${nodeClient(n.name)}.crt`), "utf8")],
    [`${nodeClient(n.name)}.key`, await readFile(pkiFile(`${nodeClient(n.name)}.key`), "utf8")],
  ] as const)
    await n.must(`set -e; mkdir -p ${GUEST_PKI}; umask 077; cat > ${GUEST_PKI}/${name}`, { input: content });
  await n.must(`cat > /etc/kubernetes/kubelet.kubeconfig`, { input: kubeconfig(`https://${API_HOST}:${API_PORT}`, nodeClient(n.name), GUEST_PKI) });
  await n.must(`mkdir -p /var/lib/kubelet; cat > /var/lib/kubelet/config.yaml`, { input: kubeletConfig(i) });
  await n.must(`mkdir -p /etc/cni/net.d; cat > /etc/cni/net.d/10-lab.conflist`, { input: cniConfig(i) });
  await n.must(["bash", "-c", SETUP, "setup", kubeletGuest, PAUSE_IMAGE, KUBERNETES_SERVICE_IP, `${API_HOST}:${API_PORT}`], { timeoutMs: 300_000 });
  for (const a of archives) await n.must(["bash", "-c", IMPORT, "import", a.guestPath, a.stamp], { timeoutMs: 900_000 });
  await n.must(
    `systemctl is-active -q ${KUBELET_UNIT} && exit 0
    systemctl reset-failed ${KUBELET_UNIT} 2>/dev/null || true
    systemd-run --unit=${KUBELET_UNIT} --collect -p Restart=always -p RestartSec=2 /usr/local/bin/kubelet \
      --config=/var/lib/kubelet/config.yaml --kubeconfig=/etc/kubernetes/kubelet.kubeconfig \
      --container-runtime=remote --container-runtime-endpoint=unix:///run/containerd/containerd.sock \
      --hostname-override=${n.name} --node-ip=${n.address} --pod-infra-container-image=${PAUSE_IMAGE} --housekeeping-interval=60s --v=1 >/dev/null`,
  );
}

/** Stops the kubelet and every pod container on node i (containerd's tasks), leaving images in place. */
export async function stopWorker(n: LabNode): Promise<void> {
  await n.run(
    `systemctl stop ${KUBELET_UNIT} 2>/dev/null; systemctl reset-failed ${KUBELET_UNIT} 2>/dev/null
    if systemctl is-active -q containerd; then
      for t in $(ctr -n k8s.io tasks ls -q 2>/dev/null); do ctr -n k8s.io tasks kill -s KILL $t 2>/dev/null; done
      sleep 1
      for c in $(ctr -n k8s.io containers ls -q 2>/dev/null); do ctr -n k8s.io tasks rm -f $c >/dev/null 2>&1; ctr -n k8s.io containers rm $c >/dev/null 2>&1; done
    fi
    true`,
    { timeoutMs: 300_000 },
  );
}
