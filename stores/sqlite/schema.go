package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/stores"
)

// ledgerTable records applied event ids. Its name is reserved: no entity
// can use it.
const ledgerTable = "switchyard_ledger"

// column is one column Switchyard needs in an entity table.
type column struct {
	name, typ string
	notNull   bool
}

// entityColumns is the required shape of an entity table; key is the sole
// primary key column.
var entityColumns = []column{
	{"key", "TEXT", true},
	{"client", "TEXT", true},
	{"version", "INTEGER", true},
	{"deleted", "INTEGER", true},
	{"data", "TEXT", false},
	{"updated_at", "TEXT", true},
}

// usableEntity reports whether an entity name can be a table of this store:
// a valid entity name that is neither the ledger nor in SQLite's reserved
// sqlite_ namespace. Only such names ever reach SQL text, and always quoted.
func usableEntity(entity string) bool {
	return events.ValidEntity(entity) && entity != ledgerTable && !strings.HasPrefix(entity, "sqlite_")
}

// quote returns entity as a quoted identifier. Callers pass only names
// usableEntity accepted, which contain no quote.
func quote(entity string) string { return `"` + entity + `"` }

// ensureLedger creates the ledger table and its pruning index.
func (s *Store) ensureLedger(ctx context.Context) error {
	_, err := s.writer.ExecContext(ctx, `
CREATE TABLE IF NOT EXISTS switchyard_ledger (
  event_id TEXT PRIMARY KEY,
  applied_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS switchyard_ledger_applied_at ON switchyard_ledger (applied_at);`)
	if err != nil {
		return classify(fmt.Errorf("sqlite %s: create ledger: %w", s.path, err))
	}
	return nil
}

// ensureTable makes sure the entity's table exists with the right shape,
// creating it when missing. A table of another shape fails with an error
// matching stores.ErrSchemaMismatch that names the table and the column.
func (s *Store) ensureTable(ctx context.Context, entity string) error {
	if _, ok := s.tables.Load(entity); ok {
		return nil
	}
	exists, err := checkShape(ctx, s.writer, entity)
	if err != nil {
		return err
	}
	if !exists {
		t := quote(entity)
		_, err := s.writer.ExecContext(ctx, `
CREATE TABLE IF NOT EXISTS `+t+` (
  key TEXT NOT NULL PRIMARY KEY,
  client TEXT NOT NULL,
  version INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  data TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS `+quote(entity+"_client_key")+` ON `+t+` (client, key);`)
		if err != nil {
			return classify(fmt.Errorf("sqlite %s: create table %s: %w", s.path, entity, err))
		}
	}
	s.tables.Store(entity, struct{}{})
	return nil
}

// readableTable reports whether the entity has a table of the right shape,
// for readers: false (no error) when it has none.
func (s *Store) readableTable(ctx context.Context, entity string) (bool, error) {
	if !usableEntity(entity) {
		return false, nil
	}
	if _, ok := s.tables.Load(entity); ok {
		return true, nil
	}
	exists, err := checkShape(ctx, s.reader, entity)
	if err != nil || !exists {
		return false, err
	}
	s.tables.Store(entity, struct{}{})
	return true, nil
}

// checkShape compares the catalog's view of the entity's table with
// entityColumns. It returns false when there is no such table.
func checkShape(ctx context.Context, db *sql.DB, entity string) (bool, error) {
	rows, err := db.QueryContext(ctx,
		`SELECT name, type, "notnull", dflt_value IS NOT NULL, pk FROM pragma_table_info(?1)`, entity)
	if err != nil {
		return false, classify(fmt.Errorf("sqlite: inspect table %s: %w", entity, err))
	}
	defer rows.Close()
	type found struct {
		typ        string
		notNull    bool
		hasDefault bool
		pk         int
	}
	have := map[string]found{}
	var order []string
	for rows.Next() {
		var name string
		var f found
		if err := rows.Scan(&name, &f.typ, &f.notNull, &f.hasDefault, &f.pk); err != nil {
			return false, classify(fmt.Errorf("sqlite: inspect table %s: %w", entity, err))
		}
		have[name] = f
		order = append(order, name)
	}
	if err := rows.Err(); err != nil {
		return false, classify(fmt.Errorf("sqlite: inspect table %s: %w", entity, err))
	}
	// Release the connection before the next query: the writer pool has
	// exactly one.
	if err := rows.Close(); err != nil {
		return false, classify(fmt.Errorf("sqlite: inspect table %s: %w", entity, err))
	}
	if len(have) == 0 {
		return false, nil
	}
	mismatch := func(col, format string, args ...any) error {
		return fmt.Errorf("sqlite: table %s, column %s: %s: %w", entity, col, fmt.Sprintf(format, args...), stores.ErrSchemaMismatch)
	}
	for _, want := range entityColumns {
		f, ok := have[want.name]
		switch {
		case !ok:
			return true, mismatch(want.name, "missing (want %s)", want.typ)
		case !strings.EqualFold(f.typ, want.typ):
			return true, mismatch(want.name, "type %s, want %s", f.typ, want.typ)
		case want.name == "key" && f.pk != 1:
			return true, mismatch(want.name, "is not the primary key")
		case want.name != "key" && f.pk != 0:
			return true, mismatch(want.name, "is part of the primary key, which must be key alone")
		case want.notNull && !f.notNull && want.name != "key":
			return true, mismatch(want.name, "is nullable, want NOT NULL")
		}
	}
	required := map[string]bool{}
	for _, c := range entityColumns {
		required[c.name] = true
	}
	for _, name := range order {
		f := have[name]
		if required[name] {
			continue
		}
		if f.pk != 0 {
			return true, mismatch(name, "is part of the primary key, which must be key alone")
		}
		if f.notNull && !f.hasDefault {
			return true, mismatch(name, "is an extra NOT NULL column without a default, so inserts would fail")
		}
	}
	var coll string
	err = db.QueryRowContext(ctx, `
SELECT x.coll FROM pragma_index_list(?1) AS l JOIN pragma_index_xinfo(l.name) AS x
WHERE l.origin = 'pk' AND x.key = 1 AND x.name = 'key'`, entity).Scan(&coll)
	switch {
	case err == sql.ErrNoRows:
		return true, mismatch("key", "has no primary key index")
	case err != nil:
		return true, classify(fmt.Errorf("sqlite: inspect table %s: %w", entity, err))
	case !strings.EqualFold(coll, "BINARY"):
		return true, mismatch("key", "collation %s, want BINARY (byte order)", coll)
	}
	return true, nil
}

// Entities lists the tables that have the shape of an entity table, sorted.
// The ledger, SQLite's own tables and tables of other shapes are left out.
func (s *Store) Entities(ctx context.Context) ([]string, error) {
	rows, err := s.reader.QueryContext(ctx, `
SELECT m.name FROM sqlite_schema AS m
WHERE m.type = 'table'
  AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND m.name <> 'switchyard_ledger'
  AND (SELECT count(*) FROM pragma_table_info(m.name) AS c
       WHERE c.name IN ('key', 'client', 'version', 'deleted', 'data', 'updated_at')) = 6
ORDER BY m.name`)
	if err != nil {
		return nil, classify(fmt.Errorf("sqlite %s: list entities: %w", s.path, err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, classify(fmt.Errorf("sqlite %s: list entities: %w", s.path, err))
		}
		if usableEntity(name) {
			out = append(out, name)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, classify(fmt.Errorf("sqlite %s: list entities: %w", s.path, err))
	}
	return out, nil
}
