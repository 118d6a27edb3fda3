// Package stores defines the store contract that the subscription workers,
// the backfill copier, the verifier and the read router all use, and the
// helpers every adapter shares.
//
// A store keeps one table per entity. Every row has a key, the client that
// owns it, a version, a deleted flag (a tombstone) and the record's JSON
// document. The apply semantics are enforced inside the store, in one
// transaction per Apply call, so they hold under any delivery order, with
// duplicates, redeliveries and any number of concurrent writers:
//
//   - a write applies only if its version is higher than the stored one;
//   - a delete leaves a tombstone under the same rule, so only a higher
//     version supersedes it and a late or stale upsert cannot resurrect it;
//   - an IfAbsent write (the backfill) inserts only where the key has neither
//     a row nor a tombstone, and never overwrites;
//   - within one call, the highest version of a key wins;
//   - a write with an EventID already in the store's ledger is dropped, which
//     catches a producer's retry that reached the stream after its duplicate
//     window and so got a new stream sequence.
//
// Adapters live in sub-packages (sqlite, postgres, rethinkdb, mssql); each
// exports an OpenStore that is its row in the explicit table
// stores/all.Adapters (an Adapters value), so every command can name a store
// by DSN. Package storetest holds the conformance suite all of them must
// pass.
package stores
