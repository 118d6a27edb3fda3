// Package deploy holds the deployment artifacts — the Dockerfile, the compose
// stack, the Helm chart and the Grafana dashboard — and the tests that keep
// them honest without a Docker engine or a cluster: the binary is built
// exactly as the Dockerfile builds it, the chart is rendered with the real
// helm binary and every object is strictly decoded into the Kubernetes API
// types, and the compose file is parsed and checked.
package deploy
