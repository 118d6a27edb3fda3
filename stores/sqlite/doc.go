// Package sqlite is the embedded store: one SQLite file through the pure-Go
// modernc.org/sqlite driver, so Switchyard runs with nothing but Go
// installed.
//
// DSNs are "sqlite:path/to/file.db" (relative to the working directory) or
// "sqlite:///abs/path/file.db", with optional query parameters:
//
//	busy_timeout  milliseconds a statement waits for a lock held by another
//	              process (default 5000)
//	synchronous   FULL (default: a committed Apply survives a power loss) or
//	              NORMAL (survives a process crash only; faster)
//	readers       size of the reader connection pool (default 4)
//
// Opened as stores.RoleSource (OpenRole, or all.OpenRole by DSN), the store writes nothing:
// the file must exist and is left as it is (no ledger, no switch to WAL),
// and every connection is query_only.
//
// The file runs in WAL mode with a single writer connection (SQLite admits
// one writer at a time; queuing writes in-process beats spinning on
// SQLITE_BUSY) and a pool of reader connections that read concurrently with
// the writer.
//
// Each entity is a table named after it:
//
//	key TEXT PRIMARY KEY, client TEXT NOT NULL, version INTEGER NOT NULL,
//	deleted INTEGER NOT NULL, data TEXT (JSON, NULL for tombstones),
//	updated_at TEXT NOT NULL (RFC 3339, UTC)
//
// with an index on (client, key). Keys use SQLite's BINARY collation, which
// orders UTF-8 text by bytes: the key order every store shares. Applied
// event ids live in the table switchyard_ledger.
//
// Apply sends a fixed number of statements per call whatever the batch size:
// the writes travel as one JSON array parameter that SQLite expands with
// json_each, and one INSERT ... ON CONFLICT statement per entity applies the
// version fence for all of them.
package sqlite
