// Package ops is the operations HTTP server every long-running switchyard
// command exposes: Prometheus metrics on /metrics, liveness on /healthz and
// readiness on /readyz.
//
// The server is generic: it serves whatever prometheus.Gatherer it is given
// and runs the named readiness checks the command registers (NATS
// connected, store reachable, ...), so workers, the migrator and the
// console share one implementation. Serve and Stop are the way a process
// starts it (only when given an address) and stops it on the way out;
// NewProcessRegistry is the registry with the Go runtime and process
// collectors every process exports.
package ops
