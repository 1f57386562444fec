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

{{- define "gbcsi.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{ toYaml . }}
{{- end }}
{{- end -}}
