// Package rethinkdb is the RethinkDB store, usually the legacy side of a
// migration: the backfill and the verifier read it, and the legacy
// subscription can write it through Switchyard to gain the dead-letter
// stream, the metrics and the version fence. It registers the DSN scheme
// "rethinkdb":
//
//	rethinkdb://user:password@host1:28015,host2:28015/app?pool=8&tls=true&ca=/etc/ca.pem
//
// An entity is a table whose primary key (default "id") is the record key.
// A document is the record's data exactly as the application wrote it; the
// fields Switchyard adds for its bookkeeping (the version, the tombstone
// flag and the list of fields it had to add) are metadata and are not part
// of the data. docs/stores.md describes the mapping, which fields are
// configurable, and what is rejected.
//
// RethinkDB has no multi-document transactions. Apply writes each table's
// documents with one fenced ForEach/Replace query (one round trip per table
// and batch) and records the ledger ids afterwards, so a crash in between
// leads to a redelivery that the version fence turns into a no-op.
package rethinkdb
