// Package storebench measures a store through the store contract alone, so
// the same figures can be taken on SQLite, PostgreSQL, SQL Server or
// RethinkDB: the Apply rate of batched live writes (inserts, then
// version-fenced updates), the rate of backfill (IfAbsent) writes, and the
// Scan and Checksum rates of keyset chunks. The switchyard bench-store
// command runs it against a store named by DSN; the adapters' Go benchmarks
// use its row generator.
package storebench
