// Package opstest holds the operations acceptance tests, run against the
// real switchyard binary: the runbook rehearsal (docs/runbook.md's commands,
// in order, against embedded NATS and SQLite stores while a producer keeps
// publishing), a worker draining on SIGTERM while another takes over, and the
// Prometheus series the fleet exports.
package opstest
