// Package pipelinetest holds the acceptance tests of the event pipeline: a
// real switchyard binary running `switchyard worker` as a separate process,
// an embedded JetStream server (or an embedded 3-node cluster with three
// replicas of the stream, its dead-letter stream and the consumers), and
// real SQLite files and PostgreSQL schemas. The tests kill workers with
// SIGKILL, restart the broker, stop the stream's leader node, cut the
// database off through a TCP proxy and feed poison, and then check that the
// table equals a model of the stream (or of what the stream acknowledged to
// the producer) and that the dead-letter stream holds exactly what it
// should.
//
// The package has no production code; its helpers live in _test files.
package pipelinetest
