{{/* Names, labels and images shared by every template. */}}

{{- define "gbcsi.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gbcsi.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* object names of the three components (short enough for the 63-char limit with suffixes) */}}
{{- define "gbcsi.controller.name" -}}{{ include "gbcsi.fullname" . | trunc 52 | trimSuffix "-" }}-controller{{- end -}}
{{- define "gbcsi.node.name" -}}{{ include "gbcsi.fullname" . | trunc 52 | trimSuffix "-" }}-node{{- end -}}
{{- define "gbcsi.blockd.name" -}}{{ include "gbcsi.fullname" . | trunc 52 | trimSuffix "-" }}-blockd{{- end -}}
{{- define "gbcsi.blockdKeySecret" -}}
{{- .Values.blockd.key.existingSecret | default (printf "%s-blockd-key" (include "gbcsi.fullname" . | trunc 52 | trimSuffix "-")) -}}
{{- end -}}

{{- define "gbcsi.blockdTlsSecret" -}}
{{- .Values.blockd.tls.existingSecret | default (printf "%s-blockd-tls" (include "gbcsi.fullname" . | trunc 52 | trimSuffix "-")) -}}
{{- end -}}

{{- define "gbcsi.controllerTlsSecret" -}}
{{- .Values.blockd.tls.controllerExistingSecret | default (printf "%s-controller-tls" (include "gbcsi.fullname" . | trunc 52 | trimSuffix "-")) -}}
{{- end -}}

{{/*
The blockd key and the TLS material, decided once per render and kept on the
root context, so that a Secret and the checksum annotations of the pods that
mount it see the very same material. Each template renders apart: a second
randAlphaNum or genCA for a checksum would differ from the Secret's, and the
first `helm upgrade` (where lookup finds the installed Secret) would change
every checksum and restart every pod with nothing changed. Helm renders a
chart's templates with one root context, so what is set on it here is seen by
every template rendered after (test/unit/helm-upgrade.test.ts holds helm to
that, through an install and an upgrade).
*/}}

{{/* the shared key: blockd.key.value, else the installed Secret's (lookup), else 48 random characters; "" with blockd.key.existingSecret */}}
{{- define "gbcsi.blockdKey" -}}
{{- if not (hasKey . "gbcsiBlockdKey") -}}
{{- $key := "" -}}
{{- if not .Values.blockd.key.existingSecret -}}
{{- $key = .Values.blockd.key.value -}}
{{- if not $key -}}
{{- /* keep the key of an earlier install: a new one would cut the controller off from running daemons */ -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "gbcsi.blockdKeySecret" .) -}}
{{- if and $existing $existing.data (index $existing.data "key") -}}
{{- $key = index $existing.data "key" | b64dec -}}
{{- else -}}
{{- $key = randAlphaNum 48 -}}
{{- end -}}
{{- end -}}
{{- if lt (len $key) 16 -}}
{{- fail "blockd.key.value must be at least 16 characters" -}}
{{- end -}}
{{- end -}}
{{- $_ := set . "gbcsiBlockdKey" $key -}}
{{- end -}}
{{- index . "gbcsiBlockdKey" -}}
{{- end -}}

{{/*
The generated TLS material as JSON, {"peer": {tls.crt, tls.key, ca.crt}, "controller": {...}} (base64 values, as in
the Secrets' data): the installed Secrets' (lookup), else a new CA and its two certificates; {} when TLS is off or
the Secrets are the user's own.
*/}}
{{- define "gbcsi.tlsMaterial" -}}
{{- if not (hasKey . "gbcsiTlsMaterial") -}}
{{- $tls := .Values.blockd.tls -}}
{{- $material := dict -}}
{{- if and $tls.enabled (not $tls.controllerExistingSecret) -}}
{{- /* keep the material of an earlier install: a new CA would cut the controller and the peers off from running daemons. Both Secrets, of one CA, or neither: a lone one (e.g. the single shared certificate of an older chart) is replaced, as the CA that signed it is gone */ -}}
{{- $oldPeer := lookup "v1" "Secret" .Release.Namespace (include "gbcsi.blockdTlsSecret" .) -}}
{{- $oldCtrl := lookup "v1" "Secret" .Release.Namespace (include "gbcsi.controllerTlsSecret" .) -}}
{{- $keep := false -}}
{{- if and $oldPeer $oldPeer.data $oldCtrl $oldCtrl.data -}}
{{- if and (index $oldPeer.data "tls.crt") (index $oldPeer.data "tls.key") (index $oldPeer.data "ca.crt") (index $oldCtrl.data "tls.crt") (index $oldCtrl.data "tls.key") (index $oldCtrl.data "ca.crt") -}}
{{- $keep = eq (index $oldPeer.data "ca.crt") (index $oldCtrl.data "ca.crt") -}}
{{- end -}}
{{- end -}}
{{- if $keep -}}
{{- $material = dict "peer" (pick $oldPeer.data "tls.crt" "tls.key" "ca.crt") "controller" (pick $oldCtrl.data "tls.crt" "tls.key" "ca.crt") -}}
{{- else -}}
{{- $days := int $tls.validityDays -}}
{{- $ca := genCA "gluster-blockd CA" $days -}}
{{- /* the two roles, told apart by name: blockd's peer certificate, named as every client expects of a blockd whatever node IP it dials; the controller's client certificate, which no client accepts as a blockd and blockd refuses on its peer RPCs. (genSignedCert gives both serverAuth and clientAuth usage: the name is the role) */ -}}
{{- $peerCert := genSignedCert "gluster-blockd" nil (list "gluster-blockd") $days $ca -}}
{{- $ctrlCert := genSignedCert "gluster-block-csi-controller" nil (list "gluster-block-csi-controller") $days $ca -}}
{{- $peer := dict "tls.crt" ($peerCert.Cert | b64enc) "tls.key" ($peerCert.Key | b64enc) "ca.crt" ($ca.Cert | b64enc) -}}
{{- $ctrl := dict "tls.crt" ($ctrlCert.Cert | b64enc) "tls.key" ($ctrlCert.Key | b64enc) "ca.crt" ($ca.Cert | b64enc) -}}
{{- $material = dict "peer" $peer "controller" $ctrl -}}
{{- end -}}
{{- end -}}
{{- $_ := set . "gbcsiTlsMaterial" $material -}}
{{- end -}}
{{- index . "gbcsiTlsMaterial" | toJson -}}
{{- end -}}

{{/* the pods' checksums: of the material alone (not the Secrets' text, whose labels change with the chart version) */}}
{{- define "gbcsi.blockdKeyChecksum" -}}{{ include "gbcsi.blockdKey" . | sha256sum }}{{- end -}}
{{- define "gbcsi.tlsChecksum" -}}{{ include "gbcsi.tlsMaterial" . | sha256sum }}{{- end -}}

{{/* where blockd mounts its peer TLS Secret, and the controller its own (keys tls.crt, tls.key, ca.crt) */}}
{{- define "gbcsi.blockdTlsDir" -}}/etc/gluster-blockd-tls{{- end -}}
{{- define "gbcsi.controllerTlsDir" -}}/etc/gluster-block-csi-tls{{- end -}}

{{- define "gbcsi.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* labels of every object, except the instance (the selector labels carry it) */}}
{{- define "gbcsi.baseLabels" -}}
helm.sh/chart: {{ include "gbcsi.chart" . }}
app.kubernetes.io/part-of: {{ include "gbcsi.name" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "gbcsi.labels" -}}
{{ include "gbcsi.baseLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* selector labels; "component" is one of controller, node, blockd */}}
{{- define "gbcsi.selectorLabels" -}}
app.kubernetes.io/name: {{ if eq .component "blockd" }}gluster-blockd{{ else }}{{ include "gbcsi.name" .root }}-{{ .component }}{{ end }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "gbcsi.componentLabels" -}}
{{ include "gbcsi.baseLabels" .root }}
{{ include "gbcsi.selectorLabels" . }}
{{- end -}}

{{/* the controller finds blockd pods by these labels (--blockd-selector) */}}
{{- define "gbcsi.blockdSelector" -}}
app.kubernetes.io/name=gluster-blockd,app.kubernetes.io/instance={{ .Release.Name }}
{{- end -}}

{{- define "gbcsi.image" -}}
{{- $img := index .root.Values.images .image -}}
{{- $tag := $img.tag | default .root.Chart.AppVersion -}}
{{- printf "%s:%s" $img.repository $tag -}}
{{- end -}}

{{/* the plugin socket path on the host: kubelet and node-driver-registrar must agree on it */}}
{{- define "gbcsi.pluginDir" -}}
{{- printf "%s/plugins/%s" (trimSuffix "/" .Values.kubeletDir) .Values.driverName -}}
{{- end -}}

{{/*
A list value as JSON without its blank entries (fromJsonArray reads it back). `--set 'x={}'` stores [""] (Helm 4),
which would render an empty flag: blank entries are no entries. A plain string is read as a comma-separated list.
*/}}
{{- define "gbcsi.list" -}}
{{- $in := . | default list -}}
{{- if kindIs "string" $in -}}
{{- $in = splitList "," $in -}}
{{- end -}}
{{- $out := list -}}
{{- range $in -}}
{{- $v := toString . | trim -}}
{{- if $v -}}
{{- $out = append $out $v -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* the controller's static blockd endpoints; none: it discovers this release's blockd pods */}}
{{- define "gbcsi.blockdEndpoints" -}}{{ include "gbcsi.list" .Values.controller.blockd.endpoints }}{{- end -}}

{{/*
A leader-election Lease's name as the sidecars make it (csi-lib-utils' leaderelection): the lock name with every
character outside [a-zA-Z0-9-] made "-", and an "X" after a final "-".
*/}}
{{- define "gbcsi.leaseName" -}}
{{- $n := regexReplaceAll "[^a-zA-Z0-9-]" . "-" -}}
{{- if hasSuffix "-" $n -}}
{{- $n = printf "%sX" $n -}}
{{- end -}}
{{- $n -}}
{{- end -}}

{{/* the Leases the controller's sidecars hold in the release namespace (helm uninstall leaves them), space-separated */}}
{{- define "gbcsi.leases" -}}
{{- $d := .Values.driverName -}}
{{ include "gbcsi.leaseName" $d }} {{ include "gbcsi.leaseName" (printf "external-attacher-leader-%s" $d) }} {{ include "gbcsi.leaseName" (printf "external-resizer-%s" $d) }}
{{- end -}}

{{- define "gbcsi.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* "true" when the node plugin must accept the socket path as :authority (node.acceptPathAuthority: auto is on below Kubernetes 1.26); empty otherwise */}}
{{- define "gbcsi.acceptPathAuthority" -}}
{{- $v := toString .Values.node.acceptPathAuthority -}}
{{- if eq $v "auto" -}}
{{- if semverCompare "<1.26.0-0" .Capabilities.KubeVersion.Version }}true{{ end -}}
{{- else if eq $v "true" -}}
true
{{- else if ne $v "false" -}}
{{- fail (printf "node.acceptPathAuthority must be auto, true or false, not %q" $v) -}}
{{- end -}}
{{- end -}}

{{/* the driver's topology key (src/csi/topology.ts): the node plugins report each node's zone under it, the PVs' node affinity names it */}}
{{- define "gbcsi.zoneKey" -}}{{ printf "topology.%s/zone" .Values.driverName }}{{- end -}}

{{/* the controller's --blockd-zones: controller.blockd.zones ("endpoint=zone" entries), blank entries dropped */}}
{{- define "gbcsi.blockdZones" -}}{{ include "gbcsi.list" .Values.controller.blockd.zones }}{{- end -}}

{{/*
Fails the render on topology values that cannot work, each saying what to change; renders nothing. Included by the
controller Deployment and the node DaemonSet.
*/}}
{{- define "gbcsi.topologyChecks" -}}
{{- $key := include "gbcsi.zoneKey" . -}}
{{- $zones := fromJsonArray (include "gbcsi.blockdZones" .) -}}
{{- if .Values.topology.enabled -}}
{{- range $seg := splitList "," (toString .Values.node.topology) -}}
{{- if and (trim $seg) (ne (trim (index (splitList "=" $seg) 0)) $key) -}}
{{- fail (printf "node.topology: with topology.enabled the controller places volumes by %s alone; %q names another key" $key (trim $seg)) -}}
{{- end -}}
{{- end -}}
{{- if and $zones (not (fromJsonArray (include "gbcsi.blockdEndpoints" .))) -}}
{{- fail "controller.blockd.zones names the zones of controller.blockd.endpoints; discovered blockd pods take theirs from their Nodes' topology.zoneLabel" -}}
{{- end -}}
{{- else -}}
{{- if $zones -}}
{{- fail "controller.blockd.zones needs topology.enabled=true" -}}
{{- end -}}
{{- if fromJsonArray (include "gbcsi.list" .Values.storageClass.allowedZones) -}}
{{- fail "storageClass.allowedZones needs topology.enabled=true: without it the provisioner ignores allowedTopologies" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The accessible topology every node plugin reports (GBCSI_TOPOLOGY); empty when each reads its zone
from its Node, or when none is needed. node.topology when given. Else, with storage capacity tracking
and no zones: one segment all nodes share, topology.<driverName>/pool=shared. csi-provisioner's
central capacity tracking needs the nodes' topology: for the empty segment nodes without topology
give it, it makes a CSIStorageCapacity and deletes it again as obsolete on every poll (its
comparison takes the empty match labels it wrote for different from the none it reads back), so no
object ever stays and the scheduler finds no room for a WaitForFirstConsumer claim on any node.
*/}}
{{- define "gbcsi.nodeTopology" -}}
{{- if .Values.node.topology -}}
{{- .Values.node.topology -}}
{{- else if and .Values.controller.storageCapacity.enabled (not .Values.topology.enabled) -}}
{{- printf "topology.%s/pool=shared" .Values.driverName -}}
{{- end -}}
{{- end -}}

{{/* "true" when the node plugin reads its zone from its own Node (topology on, no node.topology override): a token in its container, `get` on nodes; empty otherwise */}}
{{- define "gbcsi.nodeReadsZone" -}}
{{- if and .Values.topology.enabled (not .Values.node.topology) }}true{{ end -}}
{{- end -}}

{{/*
"true" when external-provisioner gets --feature-gates=Topology=true (topology.provisionerFeatureGate): v4 and older
have the gate off by default, v5 on, and a release after v5.3 may drop the gate (the flag would then stop the
sidecar). auto: on unless the image tag reads as v5 or later (a tag that is no version, as a digest or a local
build's, gets it: every release up to v5.3 accepts it); true or false decide.
*/}}
{{- define "gbcsi.provisionerTopologyGate" -}}
{{- if .Values.topology.enabled -}}
{{- $v := toString .Values.topology.provisionerFeatureGate -}}
{{- if eq $v "auto" -}}
{{- if not (regexMatch "^v?([5-9]|[1-9][0-9]+)\\.[0-9]+" (toString .Values.images.provisioner.tag)) }}true{{ end -}}
{{- else if eq $v "true" -}}
true
{{- else if ne $v "false" -}}
{{- fail (printf "topology.provisionerFeatureGate must be auto, true or false, not %q" $v) -}}
{{- end -}}
{{- end -}}
{{- end -}}
