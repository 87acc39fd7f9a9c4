{{- define "chaoscraft-agent.name" -}}chaoscraft-agent{{- end -}}
{{- define "chaoscraft-agent.image" -}}{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}{{- end -}}
{{- define "chaoscraft-agent.labels" -}}
app.kubernetes.io/name: chaoscraft-agent
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: chaoscraft
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
{{- define "chaoscraft-agent.controllerSelector" -}}
app.kubernetes.io/name: chaoscraft-agent
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}
