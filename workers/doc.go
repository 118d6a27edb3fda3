// Package workers is the subscription worker runtime: it pulls events from a
// durable JetStream pull consumer in batches, applies each batch to a store
// in one transaction, and acknowledges the batch only after the commit.
//
// # Phases of one batch
//
//  1. Collect: one collector per Worker pulls from a bounded prefetch buffer
//     and fills a batch until it holds Config.BatchSize messages or
//     Config.MaxWait has passed since its first message.
//  2. Prepare: the collector decodes every message strictly as it arrives,
//     checks its subject and resolves its version; a message that fails
//     becomes poison and is never applied. Decoding thus overlaps the store
//     round trips of the apply loops.
//  3. Handle: the batch runs through the middleware chain (metrics, retry,
//     panic recovery, dead-lettering) into the apply handler, which sends
//     every live write to the store in one Apply call.
//  4. Settle: on success every message still pending is acknowledged and the
//     connection flushed once; on failure every pending message is
//     negatively acknowledged with a growing delay and nothing is acked.
//
// # Guarantees
//
// A message is acknowledged only after the store committed its write (or
// after the dead-letter stream stored its copy). Anything else is
// redelivered, and the store's version fence makes a redelivery a no-op, so
// any number of worker processes can share one durable consumer.
//
// Run drains on cancellation: it stops pulling, finishes and acknowledges the
// batches in flight, negatively acknowledges what it had prefetched, and
// returns. Config.Grace bounds the drain; after it, in-flight batches are
// cancelled and left to redelivery.
//
// # Dead-letter replay
//
// Replay applies a consumer's dead letters after a fix, directly to its
// store (ReplayDeadLetters does so from a DSN, for switchyard dlq replay). A
// dead letter becomes a write by the same translation as a delivered
// message (limits, subject check, version, ledger id) and goes through the
// same apply handler, which sets a rejected write aside, so the two can
// never disagree. DeadLetterRequest is the whole of switchyard dlq: it
// checks an operator's list, show, replay or purge and does it.
package workers
