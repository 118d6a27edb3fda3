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

{{/* Environment shared by every component: NATS and logging. */}}
{{- define "switchyard.commonEnv" -}}
- name: SWITCHYARD_NATS
  valueFrom:
    configMapKeyRef:
      name: {{ include "switchyard.fullname" . }}
      key: nats-url
- name: SWITCHYARD_LOG_FORMAT
  valueFrom:
    configMapKeyRef:
      name: {{ include "switchyard.fullname" . }}
      key: log-format
- name: SWITCHYARD_LOG_LEVEL
  valueFrom:
    configMapKeyRef:
      name: {{ include "switchyard.fullname" . }}
      key: log-level
{{- if .Values.nats.credsSecret }}
- name: SWITCHYARD_NATS_CREDS
  value: /var/run/switchyard/nats/nats.creds
{{- end }}
{{- if .Values.nats.tokenSecret }}
- name: SWITCHYARD_NATS_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.nats.tokenSecret }}
      key: token
{{- end }}
{{- if .Values.nats.tlsSecret }}
- name: SWITCHYARD_NATS_TLS_CA
  value: /var/run/switchyard/nats-tls/ca.crt
- name: SWITCHYARD_NATS_TLS_CERT
  value: /var/run/switchyard/nats-tls/tls.crt
- name: SWITCHYARD_NATS_TLS_KEY
  value: /var/run/switchyard/nats-tls/tls.key
{{- end }}
{{- end -}}

{{- define "switchyard.natsVolumeMounts" -}}
{{- if .Values.nats.credsSecret }}
- name: nats-creds
  mountPath: /var/run/switchyard/nats
  readOnly: true
{{- end }}
{{- if .Values.nats.tlsSecret }}
- name: nats-tls
  mountPath: /var/run/switchyard/nats-tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "switchyard.natsVolumes" -}}
{{- if .Values.nats.credsSecret }}
- name: nats-creds
  secret:
    secretName: {{ .Values.nats.credsSecret }}
{{- end }}
{{- if .Values.nats.tlsSecret }}
- name: nats-tls
  secret:
    secretName: {{ .Values.nats.tlsSecret }}
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
