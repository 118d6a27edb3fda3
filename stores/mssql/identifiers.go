package mssql

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/switchyard/switchyard/events"
)

// identifierPattern is the grammar for schema and projected column names.
// It is narrower than SQL Server's regular identifiers on purpose: names that
// pass it need no escaping anywhere (bracket quoting is applied regardless).
var identifierPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// ledgerTable is the table that records applied event ids.
const ledgerTable = "switchyard_ledger"

// keyCollation orders and compares keys by UTF-16 code unit, case- and
// accent-sensitive, so keys behave like the byte strings of the other stores
// (with the one difference described in docs/stores.md).
const keyCollation = "Latin1_General_100_BIN2"

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
