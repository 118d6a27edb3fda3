// Package subscriptions declares the JetStream side of a migration: the event
// stream, one durable pull consumer per subscription (legacy and target), and
// a dead-letter stream per source stream.
//
// Ensure functions are idempotent: they create what is missing and update
// what may change, so every worker can call them at start. A consumer's start
// position is resolved to an exact stream sequence when it is first created
// and recorded in its metadata (MetaStartSeq); that is the watermark the
// backfill waits for. ConsumerRequest is what switchyard subs asks: list,
// inspect, ensure (from a Declaration) or delete consumers.
//
// Dead letters of a consumer live on their own subject of the dead-letter
// stream. ListDeadLetters, GetDeadLetter and PurgeDeadLetters read and clear
// them, WriteDeadLetters and WriteDeadLetter print them for operators.
// Applying them after a fix is the workers' job (workers.Replay): this
// package knows NATS, not stores. See docs/subscriptions.md.
package subscriptions
