{{/* The chart's name, or nameOverride. */}}
{{- define "tlsaudit.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The name of every object: fullnameOverride, else the release name when it already
contains the chart's name, else release-chart. Kept to 63 characters (DNS labels).
*/}}
{{- define "tlsaudit.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := include "tlsaudit.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The Kubernetes recommended labels. */}}
{{- define "tlsaudit.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tlsaudit.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tlsaudit
{{- end }}

{{/* What the DaemonSet and the Service select on; never changes after install. */}}
{{- define "tlsaudit.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tlsaudit.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: agent
{{- end }}

{{- define "tlsaudit.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tlsaudit.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tlsaudit.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The capabilities the engine needs and nothing else (pkg/capture/preflight.go checks
the same list at start-up): eBPF loads programs and maps (BPF, PERFMON) and attaches
them to TC (NET_ADMIN); AF_PACKET opens raw sockets (NET_RAW); auto may do either.
*/}}
{{- define "tlsaudit.capabilities" -}}
{{- if eq .Values.engine "ebpf" }}
- BPF
- NET_ADMIN
- PERFMON
{{- else if eq .Values.engine "afpacket" }}
- NET_RAW
{{- else }}
- BPF
- NET_ADMIN
- PERFMON
- NET_RAW
{{- end }}
{{- end }}
