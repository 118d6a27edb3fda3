// Package postgres is the PostgreSQL store, through pgx v5 and a pgxpool
// connection pool.
//
// DSNs are "postgres://user@host:5432/db?..." or "postgresql://...", with
// every parameter pgx and pgxpool understand (sslmode, pool_max_conns, ...).
// Two parameters choose where the tables live:
//
//	search_path  sent to the server as a run-time parameter; unqualified
//	             names resolve through it (tests use a private schema)
//	schema       the schema that holds the tables; created by the first
//	             write if missing. Without it, the first schema of the
//	             search path is used.
//
// Opening a store writes nothing: the schema, the ledger and each entity's
// table are created by the first write that needs them, so a store opened
// to read works with read-only credentials. Inspect (stores.Inspector)
// reports the privileges each role needs; DropScratch removes preflight's
// scratch entities.
//
// Each entity is a table named after it:
//
//	key text COLLATE "C" PRIMARY KEY, client text NOT NULL,
//	version bigint NOT NULL, deleted boolean NOT NULL, data jsonb,
//	updated_at timestamptz NOT NULL
//
// with an index on (client, key). The "C" collation orders keys by bytes,
// like every other store. Applied event ids live in switchyard_ledger.
//
// Apply sends, in one transaction, one ledger statement and one statement
// per entity and kind (live, IfAbsent) whatever the batch size: the writes
// travel as binary-encoded arrays that unnest expands. Writes are sorted by
// key, so concurrent workers lock rows in the same order and cannot deadlock
// on each other.
package postgres
