{{/* The chart's name (app.kubernetes.io/name of the DNS pods). */}}
{{- define "cluster-dns.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Object names: the release name when it already holds the chart's name (release cluster-dns -> cluster-dns). */}}
{{- define "cluster-dns.fullname" -}}
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

{{/* The pods' k8s-app label, which the kube-dns Service selects. */}}
{{- define "cluster-dns.k8sApp" -}}
{{- default "kube-dns" .Values.k8sAppLabelOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cluster-dns.serviceName" -}}
{{- default (include "cluster-dns.fullname" .) .Values.service.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cluster-dns.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "cluster-dns.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Helm's own labels, on every object. */}}
{{- define "cluster-dns.helmLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- with .Values.customLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels of the chart's objects other than the Service and the autoscaler's. */}}
{{- define "cluster-dns.labels" -}}
app.kubernetes.io/name: {{ include "cluster-dns.name" . }}
{{ include "cluster-dns.helmLabels" . }}
{{- end -}}

{{/* What selects the DNS pods (the Deployment, the PDB); the Service selects by k8s-app alone. */}}
{{- define "cluster-dns.selectorLabels" -}}
k8s-app: {{ include "cluster-dns.k8sApp" . }}
app.kubernetes.io/name: {{ include "cluster-dns.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "cluster-dns.autoscalerName" -}}
{{- printf "%s-autoscaler" (include "cluster-dns.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cluster-dns.autoscalerLabels" -}}
app.kubernetes.io/name: {{ printf "%s-autoscaler" (include "cluster-dns.name" .) | trunc 63 | trimSuffix "-" }}
{{ include "cluster-dns.helmLabels" . }}
{{- end -}}

{{- define "cluster-dns.autoscalerSelectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-autoscaler" (include "cluster-dns.name" .) | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
customAnnotations merged with an object's own: `annotations:` at the given indent, or nothing.
(dict "root" . "own" map "indent" n)
*/}}
{{- define "cluster-dns.annotations" -}}
{{- $all := merge (dict) (.own | default dict) (.root.Values.customAnnotations | default dict) -}}
{{- with $all }}
{{- printf "annotations:\n%s" (toYaml . | indent 2) | nindent $.indent }}
{{- end }}
{{- end -}}

{{/*
Values this chart does not read and that would change answers if silently dropped: a clear
error instead. (servers is the Corefile; zone files and extra server blocks are not supported.)
*/}}
{{- define "cluster-dns.refuseUnsupported" -}}
{{- range $key := list "zoneFiles" "extraConfig" "extraSecrets" }}
{{- if index $.Values $key }}
{{- fail (printf "%s: a CoreDNS chart value cluster-dns does not read (no zone files, no extra Corefile text); write it in servers (charts/cluster-dns/README.md)" $key) }}
{{- end }}
{{- end }}
{{- range $key := list "zone" "upstreams" "stubDomains" "lameduck" "listen" }}
{{- if hasKey $.Values $key }}
{{- fail (printf "%s: now a line of the Corefile in servers (the kubernetes, forward or health plugin, or a server block's zone and port); see charts/cluster-dns/README.md" $key) }}
{{- end }}
{{- end }}
{{- if not .Values.servers }}
{{- fail "servers: empty; cluster-dns reads its configuration from this Corefile (at least a block with kubernetes)" }}
{{- end }}
{{- if and .Values.hpa.enabled .Values.autoscaler.enabled }}
{{- fail "hpa.enabled and autoscaler.enabled: choose one, both would set the replica count" }}
{{- end }}
{{- end -}}
