// Package deploy holds the deployment artifacts — the Dockerfile, the compose
// stack, the Helm chart, the Grafana dashboard and the Prometheus alert
// rules — and the tests that keep them honest without a Docker engine or a
// cluster: the binary is built exactly as the Dockerfile builds it and the
// chart's default image is what the documented build tags; the chart is
// rendered with the real helm binary, with and without KEDA's API, against
// its values schema, every object is strictly decoded into the Kubernetes
// API types and every pod is checked against the restricted Pod Security
// Standard; the compose file and Prometheus configuration are parsed and
// checked; every dashboard and alert expression is parsed with the PromQL
// parser (internal/opstest checks the series they name against running
// processes).
package deploy
