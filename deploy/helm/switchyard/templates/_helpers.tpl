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
The NATS login of one component: its own (credsSecret or userSecret) when it
names one, else the next candidate's, else the shared nats.* settings.
Call with (list $ "what" $own $fallback...); renders YAML with credsSecret,
userSecret and tokenSecret, read back with fromYaml. A component's own login
replaces the shared one as a whole, token included.
*/}}
{{- define "switchyard.natsAuth" -}}
{{- $root := index . 0 -}}
{{- $what := index . 1 -}}
{{- $n := $root.Values.nats -}}
{{- $auth := dict "credsSecret" (default "" $n.credsSecret) "userSecret" (default "" $n.userSecret) "tokenSecret" (default "" $n.tokenSecret) -}}
{{- $from := "nats" -}}
{{- $found := false -}}
{{- range $own := rest (rest .) -}}
{{- $own = default dict $own -}}
{{- if and (not $found) (or $own.credsSecret $own.userSecret) -}}
{{- $auth = dict "credsSecret" (default "" $own.credsSecret) "userSecret" (default "" $own.userSecret) "tokenSecret" "" -}}
{{- $from = printf "%s.nats" $what -}}
{{- $found = true -}}
{{- end -}}
{{- end -}}
{{- if and $auth.userSecret (or $auth.credsSecret $auth.tokenSecret) -}}
{{- fail (printf "%s: userSecret cannot be combined with credsSecret or tokenSecret; give each component one way to log in to NATS" $from) -}}
{{- end -}}
{{- toYaml $auth -}}
{{- end -}}

{{/*
The NATS environment of one component: the token, or the user and password
of its userSecret (keys "user" and "password"), all by Secret reference so
no secret appears in the manifest or the arguments. Call with (list $ $auth).
*/}}
{{- define "switchyard.natsEnv" -}}
{{- $auth := index . 1 -}}
{{- if $auth.tokenSecret }}
- name: SWITCHYARD_NATS_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $auth.tokenSecret }}
      key: token
{{- end }}
{{- if $auth.userSecret }}
- name: SWITCHYARD_NATS_USER
  valueFrom:
    secretKeyRef:
      name: {{ $auth.userSecret }}
      key: user
- name: SWITCHYARD_NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $auth.userSecret }}
      key: password
{{- end }}
{{- end -}}

{{/*
The NATS connection arguments of every command: the URL, TLS files and the
creds file. Call with (list $ $auth).
*/}}
{{- define "switchyard.natsArgs" -}}
{{- $root := index . 0 -}}
{{- $auth := index . 1 }}
- --nats={{ $root.Values.nats.url }}
{{- if $auth.credsSecret }}
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
{{- $creds := (index . 1).credsSecret -}}
{{- if $creds }}
- name: {{ default "nats-creds" (index . 1).volume }}
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
{{- $creds := (index . 1).credsSecret -}}
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

{{/*
One `subs ensure` step of the hook Job. Call with (list $ $sub $auth).
*/}}
{{- define "switchyard.ensureContainer" -}}
{{- $root := index . 0 -}}
{{- $sub := index . 1 -}}
{{- $auth := index . 2 -}}
- name: ensure-{{ $sub.name }}
  image: {{ include "switchyard.image" $root }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  args:
    - subs
    - ensure
    - --stream={{ $root.Values.stream }}
    - --prefix={{ $root.Values.subjectPrefix }}
    - --consumer={{ $sub.name }}
    - --role={{ $sub.role }}
    - --start={{ $sub.start }}
    - --version-source={{ $root.Values.versionSource }}
    - --replicas={{ $root.Values.nats.replicas }}
    {{- range $sub.filters }}
    - --filter={{ . }}
    {{- end }}
    {{- include "switchyard.natsArgs" (list $root $auth) | nindent 4 }}
    {{- include "switchyard.extraArgs" $root.Values.ensure | nindent 4 }}
  env:
    {{- include "switchyard.natsEnv" (list $root $auth) | nindent 4 }}
    {{- include "switchyard.extraEnv" $root.Values.ensure | nindent 4 }}
  {{- include "switchyard.envFrom" $root.Values.ensure | nindent 2 }}
  resources:
    {{- toYaml $root.Values.ensure.resources | nindent 4 }}
  securityContext:
    {{- toYaml $root.Values.securityContext | nindent 4 }}
  volumeMounts:
    {{- include "switchyard.natsVolumeMounts" (list $root $auth) | nindent 4 }}
{{- end -}}
