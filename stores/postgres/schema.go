package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/stores"
)

// ledgerTable records applied event ids; no entity may use the name.
const ledgerTable = "switchyard_ledger"

// entityColumns is the required shape of an entity table, as
// information_schema spells the types; key is the sole primary key.
var entityColumns = []struct {
	name, dataType string
	notNull        bool
}{
	{"key", "text", true},
	{"client", "text", true},
	{"version", "bigint", true},
	{"deleted", "boolean", true},
	{"data", "jsonb", false},
	{"updated_at", "timestamp with time zone", true},
}

// usableEntity reports whether an entity name can be a table of this store.
// Only such names reach SQL text, always quoted.
func usableEntity(entity string) bool {
	return events.ValidEntity(entity) && entity != ledgerTable
}

// table returns the quoted, schema-qualified name of an entity's table.
func (s *Store) table(entity string) string {
	return pgx.Identifier{s.schema, entity}.Sanitize()
}

// ensureLedger creates the ledger and its pruning index.
func (s *Store) ensureLedger(ctx context.Context) error {
	for _, ddl := range []string{
		`CREATE TABLE IF NOT EXISTS ` + s.ledger + ` (
  event_id text COLLATE "C" PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now())`,
		// BRIN: ids are appended in applied_at order, so a block-range index
		// finds prunable entries at almost no cost per insert.
		`CREATE INDEX IF NOT EXISTS switchyard_ledger_applied_at ON ` + s.ledger + ` USING brin (applied_at)`,
	} {
		if _, err := s.pool.Exec(ctx, ddl); err != nil && !isCatalogRace(err) {
			return classify(fmt.Errorf("postgres: create ledger in schema %s: %w", s.schema, err))
		}
	}
	return nil
}

// ensureTable makes sure the entity's table exists with the right shape,
// creating it when missing. Concurrent workers creating the same table do
// not fail: a lost catalog race is followed by a fresh shape check. A table
// of another shape fails with an error matching stores.ErrSchemaMismatch
// naming the table and the column.
func (s *Store) ensureTable(ctx context.Context, entity string) error {
	if _, ok := s.tables.Load(entity); ok {
		return nil
	}
	exists, err := s.checkShape(ctx, entity)
	if err != nil {
		return err
	}
	if !exists {
		t := s.table(entity)
		for _, ddl := range []string{
			`CREATE TABLE IF NOT EXISTS ` + t + ` (
  key text COLLATE "C" PRIMARY KEY,
  client text NOT NULL,
  version bigint NOT NULL,
  deleted boolean NOT NULL,
  data jsonb,
  updated_at timestamptz NOT NULL)`,
			`CREATE INDEX IF NOT EXISTS ` + pgx.Identifier{indexName(entity)}.Sanitize() + ` ON ` + t + ` (client, key)`,
		} {
			if _, err := s.pool.Exec(ctx, ddl); err != nil && !isCatalogRace(err) {
				return classify(fmt.Errorf("postgres: create table %s.%s: %w", s.schema, entity, err))
			}
		}
		if exists, err = s.checkShape(ctx, entity); err != nil {
			return err
		}
		if !exists {
			return fmt.Errorf("postgres: table %s.%s vanished right after it was created", s.schema, entity)
		}
	}
	s.tables.Store(entity, struct{}{})
	return nil
}

// indexName is the (client, key) index of an entity, within PostgreSQL's
// 63-byte identifier limit.
func indexName(entity string) string {
	name := entity + "_client_key"
	if len(name) > 63 {
		name = name[:63]
	}
	return name
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
	exists, err := s.checkShape(ctx, entity)
	if err != nil || !exists {
		return false, err
	}
	s.tables.Store(entity, struct{}{})
	return true, nil
}

// checkShape compares the catalog's view of the entity's table with
// entityColumns. It returns false when there is no such table. Every
// catalog is read in the query's one snapshot (no to_regclass, which looks
// at the live catalog), so a table another worker is creating is seen
// either whole or not at all.
func (s *Store) checkShape(ctx context.Context, entity string) (bool, error) {
	rows, err := s.pool.Query(ctx, `
SELECT c.column_name, c.data_type, c.is_nullable = 'YES',
       c.column_default IS NOT NULL OR c.is_identity = 'YES' OR c.is_generated <> 'NEVER',
       coalesce(c.collation_name, ''),
       coalesce((SELECT d.datcollate FROM pg_database d WHERE d.datname = current_database()), ''),
       coalesce(a.attnum = ANY (i.indkey), false), coalesce(array_length(i.indkey, 1), 0)
FROM information_schema.columns c
JOIN pg_namespace n ON n.nspname = c.table_schema
JOIN pg_class r ON r.relnamespace = n.oid AND r.relname = c.table_name
LEFT JOIN pg_index i ON i.indrelid = r.oid AND i.indisprimary
LEFT JOIN pg_attribute a ON a.attrelid = r.oid AND a.attname = c.column_name
WHERE c.table_schema = $1 AND c.table_name = $2`, s.schema, entity)
	if err != nil {
		return false, classify(fmt.Errorf("postgres: inspect table %s.%s: %w", s.schema, entity, err))
	}
	type found struct {
		dataType, collation, dbCollation string
		nullable, hasDefault, inPK       bool
		pkColumns                        int
	}
	have := map[string]found{}
	var names []string
	for rows.Next() {
		var name string
		var f found
		if err := rows.Scan(&name, &f.dataType, &f.nullable, &f.hasDefault, &f.collation, &f.dbCollation, &f.inPK, &f.pkColumns); err != nil {
			rows.Close()
			return false, classify(fmt.Errorf("postgres: inspect table %s.%s: %w", s.schema, entity, err))
		}
		have[name] = f
		names = append(names, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, classify(fmt.Errorf("postgres: inspect table %s.%s: %w", s.schema, entity, err))
	}
	if len(have) == 0 {
		return false, nil
	}
	mismatch := func(col, format string, args ...any) error {
		return fmt.Errorf("postgres: table %s.%s, column %s: %s: %w", s.schema, entity, col, fmt.Sprintf(format, args...), stores.ErrSchemaMismatch)
	}
	for _, want := range entityColumns {
		f, ok := have[want.name]
		switch {
		case !ok:
			return true, mismatch(want.name, "missing (want %s)", want.dataType)
		case f.dataType != want.dataType:
			return true, mismatch(want.name, "type %s, want %s", f.dataType, want.dataType)
		case want.name == "key" && (!f.inPK || f.pkColumns != 1):
			return true, mismatch(want.name, "is not the sole primary key column")
		case want.name != "key" && f.inPK:
			return true, mismatch(want.name, "is part of the primary key, which must be key alone")
		case want.notNull && f.nullable && want.name != "key":
			return true, mismatch(want.name, "is nullable, want NOT NULL")
		}
	}
	key := have["key"]
	collation := key.collation
	if collation == "" {
		collation = key.dbCollation
	}
	if collation != "C" && collation != "POSIX" {
		return true, mismatch("key", "collation %q orders keys by locale, want \"C\" (byte order)", collation)
	}
	sort.Strings(names)
	for _, name := range names {
		f := have[name]
		if isRequired(name) {
			continue
		}
		if f.inPK {
			return true, mismatch(name, "is part of the primary key, which must be key alone")
		}
		if !f.nullable && !f.hasDefault {
			return true, mismatch(name, "is an extra NOT NULL column without a default, so inserts would fail")
		}
	}
	return true, nil
}

func isRequired(name string) bool {
	for _, c := range entityColumns {
		if c.name == name {
			return true
		}
	}
	return false
}

// Entities lists the tables of the schema that have the columns of an
// entity table, sorted by bytes. The ledger and other tables are left out.
func (s *Store) Entities(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `
SELECT c.table_name FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE'
  AND c.column_name IN ('key', 'client', 'version', 'deleted', 'data', 'updated_at')
GROUP BY c.table_name
HAVING count(*) = 6`, s.schema)
	if err != nil {
		return nil, classify(fmt.Errorf("postgres: list entities: %w", err))
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, classify(fmt.Errorf("postgres: list entities: %w", err))
	}
	out := names[:0]
	for _, n := range names {
		if usableEntity(n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// forgetOnMissingTable drops an entity from the table cache when a
// statement found its table gone (dropped behind the store's back), so the
// next call checks the catalog and creates it again.
func (s *Store) forgetOnMissingTable(err error, entity string) {
	var pgErr interface{ SQLState() string }
	if errors.As(err, &pgErr) && strings.EqualFold(pgErr.SQLState(), "42P01") {
		s.tables.Delete(entity)
	}
}
