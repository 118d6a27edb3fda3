// Package ops is the operations HTTP server every long-running switchyard
// command exposes: Prometheus metrics on /metrics, liveness on /healthz and
// readiness on /readyz.
//
// The server is generic: it serves whatever prometheus.Gatherer it is given
// and runs the named readiness checks the command registers (NATS
// connected, store reachable, ...), so workers, the migrator and the
// console share one implementation.
package ops
