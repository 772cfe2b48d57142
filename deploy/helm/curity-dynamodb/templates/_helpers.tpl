{{- define "curity-dynamodb.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "curity-dynamodb.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "curity-dynamodb.selectorLabels" -}}
app.kubernetes.io/name: {{ include "curity-dynamodb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "curity-dynamodb.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "curity-dynamodb.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "curity-dynamodb.roleArn" -}}
{{- $fromAnnotations := get (.Values.serviceAccount.annotations | default dict) "eks.amazonaws.com/role-arn" -}}
{{- .Values.serviceAccount.roleArn | default $fromAnnotations -}}
{{- end -}}

{{/*
The port kubelet gRPC probes use: they cannot speak TLS, so with TLS on the
gRPC port they go to the plaintext health-only listener.
*/}}
{{- define "curity-dynamodb.probePort" -}}
{{- if .Values.tls.secretName }}{{ .Values.server.healthPort }}{{ else }}{{ .Values.server.grpcPort }}{{ end }}
{{- end }}
