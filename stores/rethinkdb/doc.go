// Package rethinkdb is the RethinkDB store, usually the legacy side of a
// migration: the backfill and the verifier read it, and the legacy
// subscription can write it through Switchyard to gain the dead-letter
// stream, the metrics and the version fence. It registers the DSN scheme
// "rethinkdb":
//
//	rethinkdb://user:password@host1:28015,host2:28015/app?pool=8&tls=true&ca=/etc/ca.pem
//
// An entity is a table whose primary key (default "id") is the record key.
// A document is the record's data exactly as the application wrote it, its
// own "version" or "deleted" fields included; the fields Switchyard adds for
// its bookkeeping (_switchyard_version, _switchyard_deleted,
// _switchyard_updated_at and _switchyard_added by default) are metadata and
// are not part of the data. docs/stores.md describes the mapping, which
// fields are configurable, and what is rejected.
//
// A store opened as a source (stores.RoleSource) writes nothing and works
// with read-only credentials; it refuses to open when sampled documents
// already hold a bookkeeping field the DSN did not name (*CollisionError).
// Scans fail with *NonStringKeysError rather than skip documents whose
// primary key is not a string. A writer creates its database, tables and
// ledger with a bounded wait and resolves the duplicates RethinkDB leaves
// when a fleet creates them at once.
//
// RethinkDB has no multi-document transactions. Apply writes each table's
// documents with one fenced, hard-durable ForEach/Replace query per table
// and batch (split only to stay within the server's query limits) and
// records the ledger ids afterwards, keyed by a digest of the id, so a
// crash in between leads to a redelivery that the version fence turns into
// a no-op. The store implements stores.Inspector, stores.SourceSampler and
// stores.ScratchDropper for preflight.
package rethinkdb
