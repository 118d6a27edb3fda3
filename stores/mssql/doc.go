// Package mssql is the Microsoft SQL Server store, the usual migration
// target. It registers the DSN scheme "sqlserver":
//
//	sqlserver://user:password@host:1433?database=app&schema=dbo
//	sqlserver://host?database=app&fedauth=ActiveDirectoryDefault
//	sqlserver://user:pw@host?database=app&project=task.title:nvarchar(200):index
//
// Every entity is one table in the configured schema:
//
//	[key]        VARCHAR(255) COLLATE Latin1_General_100_BIN2_UTF8 PRIMARY KEY
//	[client]     VARCHAR(255) COLLATE Latin1_General_100_BIN2_UTF8, indexed with [key]
//	[version]    BIGINT
//	[deleted]    BIT
//	[data]       NVARCHAR(MAX), CHECK ([data] IS NULL OR ISJSON([data]) = 1)
//	[updated_at] DATETIME2
//
// plus optional persisted computed columns projected from JSON fields of
// [data]. Keys and clients are UTF-8 under a binary collation, so they
// compare as byte strings (code point order) as in every other store; UTF-8
// collations need SQL Server 2019 or later. They are read back converted
// to NVARCHAR, because the driver decodes VARCHAR by a code page and
// ignores the UTF-8 flag. Parameters compared with them are converted to
// their type and collation, so lookups and ranges seek, and every string
// parameter is declared nvarchar(max), so one plan serves every length.
//
// Opening a store writes nothing: it refuses a server older than SQL
// Server 2019 or a database below compatibility level 130 (OPENJSON) with
// an error matching ErrUnsupported. Tables, and the switchyard_ledger
// table, are created by the first Apply that needs them, under an
// application lock, so many workers may start at once. The identifier rule
// of every store (events.IdentifierProblem) keeps SQL Server's padded
// comparisons exact: no key, client or event id ends in a space.
//
// Apply sends one batch per call: all rows travel in a single NVARCHAR(MAX)
// JSON parameter expanded server-side with OPENJSON, so batches never reach
// the 2,100-parameter cap, and one transaction records the ledger ids
// (one primary-key seek per id) and merges each entity WITH (HOLDLOCK), no
// statement touching more than 1,000 rows of a table, below lock
// escalation. Deadlocks (error 1205) are retried a bounded number of
// times; connection errors match stores.ErrTransient. *Store implements
// stores.Inspector (the preflight checks) and stores.ScratchDropper. See
// docs/stores.md for the mapping, the locking and the DSN.
package mssql
