// Package benchpipeline measures the event pipeline end to end, side by side
// in one run: one `switchyard worker` process applying a backlog of
// full-state events from an embedded JetStream server into PostgreSQL (and
// SQLite), a naive consumer that applies one message per transaction, the
// raw ceiling of the same batched SQL with no NATS, and the worker's peak
// resident memory with a large backlog. `switchyard bench-pipeline` prints
// the figures and their ratios against the targets in docs/benchmarks.md.
package benchpipeline
