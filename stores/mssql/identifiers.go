package mssql

import (
	"fmt"
	"regexp"
	"strings"

	mssqldb "github.com/microsoft/go-mssqldb"

	"github.com/switchyard/switchyard/events"
)

// identifierPattern is the grammar for schema and projected column names.
// It is narrower than SQL Server's regular identifiers on purpose: names that
// pass it need no escaping anywhere (bracket quoting is applied regardless).
var identifierPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// ledgerTable is the table that records applied event ids.
const ledgerTable = "switchyard_ledger"

// keyCollation is the collation of the [key] and [client] columns: a binary
// collation over UTF-8 bytes (SQL Server 2019 or later), so keys compare as
// byte strings, which is code point order, as in every other store.
const keyCollation = "Latin1_General_100_BIN2_UTF8"

// keyType is the type of the [key] and [client] columns: 255 bytes of UTF-8,
// the envelope's limit for both (events.MaxKeyBytes, events.MaxClientBytes).
const keyType = "VARCHAR(255)"

// keyColumnBytes is the size of the [key] and [client] columns in bytes.
const keyColumnBytes = 255

// ledgerCollation is the collation of the ledger's [id] column. Event ids
// are only ever compared for equality, which a binary collation decides
// exactly in any encoding, so [id] is NVARCHAR like the text it comes from.
const ledgerCollation = "Latin1_General_100_BIN2"

// keyParam is the T-SQL for a string parameter compared with [key] or
// [client]. The driver sends Go strings as NVARCHAR, which outranks VARCHAR:
// left alone, SQL Server would convert the column and scan instead of seek.
// The collation is applied before the conversion, so the conversion encodes
// UTF-8 whatever the database's default collation is, and loses nothing.
func keyParam(name string) string { return keyColumn("@" + name) }

// keyColumn converts an NVARCHAR expression to the type and collation of the
// [key] and [client] columns, collation first, as keyParam does.
func keyColumn(expr string) string {
	return "CONVERT(" + keyType + ", " + expr + " COLLATE " + keyCollation + ")"
}

// quote bracket-quotes an identifier. Callers validate names first; the
// escaping of ']' is a second line of defence, not the first.
func quote(name string) string {
	return "[" + strings.ReplaceAll(name, "]", "]]") + "]"
}

// validIdentifier reports whether name may be used as a schema or column.
func validIdentifier(name string) bool { return identifierPattern.MatchString(name) }

// tableName returns the quoted two-part name of an entity's table, or an
// error when entity is not a valid entity name. Table names come only from
// validated entity names, never from event data.
func tableName(schema, entity string) (string, error) {
	if !events.ValidEntity(entity) {
		return "", fmt.Errorf("entity %q does not match ^[a-z][a-z0-9_]{0,62}$", entity)
	}
	return quote(schema) + "." + quote(entity), nil
}

// fixedText is how every string parameter compared with data is sent: as
// NVARCHAR(MAX), whatever its length. go-mssqldb v1.11.2 declares a plain
// Go string as nvarchar(n) with n its length in UTF-16 units (makeStrParam
// sets the size to the encoded length, makeDecl renders nvarchar(size/2)
// up to 4000), and sp_executesql, which the driver runs every
// parameterized query through, caches a plan per distinct parameter
// declaration ("Execution plan caching and reuse"; "Parameters and
// execution plan reuse"), so nearly every batch length would compile a
// plan of its own. The driver's NVarCharMax type is declared
// nvarchar(max) (makeParamExtra sets the size to 0, which makeDecl renders
// as max): one declaration, one plan.
func fixedText(s string) mssqldb.NVarCharMax { return mssqldb.NVarCharMax(s) }
