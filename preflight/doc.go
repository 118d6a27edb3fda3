// Package preflight proves, before a migration starts, that NATS and every
// store are usable as the migration will use them, and reports each check
// as pass, warn or fail. It writes nothing to NATS and nothing to a source
// store; on a target store it writes only into a scratch entity
// (stores.ScratchPrefix plus a random suffix) that it drops again.
//
// Run checks, in order:
//
//   - NATS (config.go: NATSConfig): it connects within a bounded time,
//     JetStream is enabled, the stream exists, captures the events' subjects
//     and has a retention that keeps every event for a durable consumer, and
//     each consumer exists with a usable shape or could be created;
//   - every store in its role (store.go): the adapter's cheap checks
//     (stores.Inspector: connection, version and features, permissions,
//     table shapes);
//   - a source (sample.go): a sample of records per entity, for keys and
//     clients that break the identifier rule (events.IdentifierProblem) and
//     documents above the size limit, plus the adapter's own sample of raw
//     legacy documents (stores.SourceSampler);
//   - a target (selftest.go): a live contract self-test in a scratch entity,
//     whose chunk checksum is compared with the one a temporary SQLite store
//     computes for the same writes.
//
// The package lives at the top level, beside migrator rather than in it:
// it runs before any migration state exists, needs no state bucket, and
// draws on events, stores and subscriptions alike. The switchyard preflight
// command is a thin wrapper around Run, and workers and the backfill run the
// same cheap checks at start through stores.RequireRole.
package preflight
