{{- define "switchyard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "switchyard.fullname" -}}
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

{{- define "switchyard.labels" -}}
app.kubernetes.io/name: {{ include "switchyard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "switchyard.selector" -}}
app.kubernetes.io/name: {{ include "switchyard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "switchyard.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}

{{- define "switchyard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "switchyard.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
The autoscaling mode of one subscription: auto becomes keda when the
cluster serves KEDA's API and hpa otherwise. Call with (list $ $sub).
*/}}
{{- define "switchyard.autoscalingMode" -}}
{{- $root := index . 0 -}}
{{- $sub := index . 1 -}}
{{- $mode := $sub.autoscaling.mode -}}
{{- if eq $mode "auto" -}}
{{- if $root.Capabilities.APIVersions.Has "keda.sh/v1alpha1" -}}keda{{- else -}}hpa{{- end -}}
{{- else -}}
{{- $mode -}}
{{- end -}}
{{- end -}}

{{/* The name of a worker Deployment. Call with (list $ $sub). */}}
{{- define "switchyard.workerName" -}}
{{- printf "%s-worker-%s" (include "switchyard.fullname" (index . 0)) (index . 1).name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The extra arguments, environment and envFrom of one component. Call with
the component's values; renders nothing for empty lists.
*/}}
{{- define "switchyard.extraArgs" -}}
{{- range .extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}

{{- define "switchyard.extraEnv" -}}
{{- with .extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "switchyard.envFrom" -}}
{{- with .envFrom }}
envFrom:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Pod annotations that let annotation-based Prometheus setups scrape. */}}
{{- define "switchyard.scrapeAnnotations" -}}
{{- if .Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.metrics.port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end -}}

{{/*
Environment shared by every component: NATS and logging. Values are
written out rather than read from a ConfigMap so that the pre-install hook,
which runs before any other object exists, gets the same environment.
*/}}
{{- define "switchyard.commonEnv" -}}
{{- if .Values.nats.tokenSecret }}
- name: SWITCHYARD_NATS_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.nats.tokenSecret }}
      key: token
{{- end }}
{{- end -}}

{{/*
The NATS connection arguments of every command: the URL, TLS files and the
creds file. Call with (list $ credsSecretName).
*/}}
{{- define "switchyard.natsArgs" -}}
{{- $root := index . 0 -}}
{{- $creds := index . 1 }}
- --nats={{ $root.Values.nats.url }}
{{- if $creds }}
- --nats-creds=/var/run/switchyard/nats/nats.creds
{{- end }}
{{- if $root.Values.nats.tlsSecret }}
- --nats-tls-ca=/var/run/switchyard/nats-tls/ca.crt
- --nats-tls-cert=/var/run/switchyard/nats-tls/tls.crt
- --nats-tls-key=/var/run/switchyard/nats-tls/tls.key
{{- end }}
{{- end -}}

{{/* The logging arguments of the long-running commands. */}}
{{- define "switchyard.logArgs" -}}
- --log-format={{ .Values.log.format }}
- --log-level={{ .Values.log.level }}
{{- end -}}

{{- define "switchyard.natsVolumeMounts" -}}
{{- $root := index . 0 -}}
{{- $creds := index . 1 -}}
{{- if $creds }}
- name: nats-creds
  mountPath: /var/run/switchyard/nats
  readOnly: true
{{- end }}
{{- if $root.Values.nats.tlsSecret }}
- name: nats-tls
  mountPath: /var/run/switchyard/nats-tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "switchyard.natsVolumes" -}}
{{- $root := index . 0 -}}
{{- $creds := index . 1 -}}
{{- if $creds }}
- name: nats-creds
  secret:
    secretName: {{ $creds }}
{{- end }}
{{- if $root.Values.nats.tlsSecret }}
- name: nats-tls
  secret:
    secretName: {{ $root.Values.nats.tlsSecret }}
{{- end }}
{{- end -}}

{{- define "switchyard.podPlacement" -}}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
