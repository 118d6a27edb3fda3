package mssql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/switchyard/switchyard/stores"
)

// schemaLockStatement serializes DDL on one table across every worker: the
// application lock is held until the transaction ends, so two workers that
// both find a table missing do not both try to create it.
const schemaLockStatement = `DECLARE @rc INT;
EXEC @rc = sp_getapplock @Resource = @resource, @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 30000;
IF @rc < 0
BEGIN
    THROW 50001, N'switchyard: timed out waiting for the schema lock', 1;
END;`

// shapeQuery lists a table's columns for the shape check.
const shapeQuery = `SELECT c.[name], TYPE_NAME(c.[user_type_id]), c.[max_length], c.[is_computed], ISNULL(c.[collation_name], N'')
FROM sys.columns AS c
WHERE c.[object_id] = OBJECT_ID(@object)
ORDER BY c.[column_id];`

// column is one column a table must have. maxLength is in bytes as
// sys.columns reports it (-1 for MAX, 0 to accept any); collation "" accepts
// any collation. decl, when set, is the column's declaration: a mismatch in
// type, length or collation then reports what exists and the whole of what
// is expected.
type column struct {
	name      string
	typ       string
	maxLength int
	collation string
	decl      string
}

// keyDecl is the declaration of the [key] and [client] columns.
const keyDecl = keyType + " COLLATE " + keyCollation

var entityColumns = []column{
	{"key", "varchar", keyColumnBytes, keyCollation, keyDecl},
	{"client", "varchar", keyColumnBytes, keyCollation, keyDecl},
	{"version", "bigint", 0, "", ""},
	{"deleted", "bit", 0, "", ""},
	{"data", "nvarchar", -1, "", ""},
	{"updated_at", "datetime2", 0, "", ""},
}

var ledgerColumns = []column{
	{"id", "nvarchar", 510, ledgerCollation, "NVARCHAR(255) COLLATE " + ledgerCollation},
	{"recorded_at", "datetime2", 0, "", ""},
}

func createEntityStatement(schema, entity string) string {
	table := quote(schema) + "." + quote(entity)
	return `IF OBJECT_ID(@object, N'U') IS NULL
BEGIN
    CREATE TABLE ` + table + ` (
        [key] ` + keyDecl + ` NOT NULL,
        [client] ` + keyDecl + ` NOT NULL,
        [version] BIGINT NOT NULL,
        [deleted] BIT NOT NULL,
        [data] NVARCHAR(MAX) NULL,
        [updated_at] DATETIME2(7) NOT NULL,
        CONSTRAINT ` + quote("pk_"+entity) + ` PRIMARY KEY CLUSTERED ([key]),
        CONSTRAINT ` + quote("ck_"+entity+"_data") + ` CHECK ([data] IS NULL OR ISJSON([data]) = 1)
    );
    CREATE INDEX ` + quote("ix_"+entity+"_client_key") + ` ON ` + table + ` ([client], [key]);
END;`
}

// createSchemaStatement creates the configured schema when it is missing. It
// runs under the ledger's application lock, which every process takes
// before anything else, so concurrent creators do not race.
const createSchemaStatement = `IF SCHEMA_ID(@schema) IS NULL
BEGIN
    DECLARE @create NVARCHAR(300) = N'CREATE SCHEMA ' + QUOTENAME(@schema);
    EXEC sp_executesql @create;
END;`

func createLedgerStatement(schema string) string {
	table := quote(schema) + "." + quote(ledgerTable)
	return `IF OBJECT_ID(@object, N'U') IS NULL
BEGIN
    CREATE TABLE ` + table + ` (
        [id] NVARCHAR(255) COLLATE ` + ledgerCollation + ` NOT NULL,
        [recorded_at] DATETIME2(7) NOT NULL,
        CONSTRAINT ` + quote("pk_"+ledgerTable) + ` PRIMARY KEY CLUSTERED ([id])
    );
    CREATE INDEX ` + quote("ix_"+ledgerTable+"_recorded_at") + ` ON ` + table + ` ([recorded_at]);
END;`
}

func addProjectionStatement(schema, entity string, p Projection) string {
	return `IF COL_LENGTH(@object, @column) IS NULL
    ALTER TABLE ` + quote(schema) + "." + quote(entity) + ` ADD ` + quote(p.Column) + ` AS ` + p.expression() + ` PERSISTED;`
}

func projectionIndexName(entity string, p Projection) string { return "ix_" + entity + "_" + p.Column }

func indexProjectionStatement(schema, entity string, p Projection) string {
	return `IF INDEXPROPERTY(OBJECT_ID(@object), @index, N'IndexID') IS NULL
    CREATE INDEX ` + quote(projectionIndexName(entity, p)) + ` ON ` + quote(schema) + "." + quote(entity) + ` (` + quote(p.Column) + `);`
}

// tableSet remembers the tables this process has created or checked, so DDL
// runs once per table and process, not once per batch.
type tableSet struct {
	mu    sync.Mutex
	ready map[string]bool
}

// forget drops entities from the set, so the next Apply checks them again.
func (t *tableSet) forget(entities []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range entities {
		delete(t.ready, e)
	}
}

// ensureEntity creates the entity's table and its projected columns if they
// are missing and checks the shape of what exists; for ledgerTable it
// creates the schema and the ledger (see ensureLedger). It fails with an
// error matching stores.ErrSchemaMismatch naming the first wrong column,
// and with a classified driver error when SQL Server cannot be reached.
func (s *Store) ensureEntity(ctx context.Context, entity string) error {
	s.tables.mu.Lock()
	defer s.tables.mu.Unlock()
	if s.tables.ready[entity] {
		return nil
	}
	if entity == ledgerTable {
		if err := s.ensureLedger(ctx); err != nil {
			return err
		}
		s.tables.ready[entity] = true
		return nil
	}
	schema := s.cfg.schema()
	projections := s.cfg.Projections[entity]
	steps := []ddlStep{{createEntityStatement(schema, entity), nil}}
	for _, p := range projections {
		steps = append(steps, ddlStep{addProjectionStatement(schema, entity, p), []any{sql.Named("column", p.Column)}})
		if p.Index {
			steps = append(steps, ddlStep{indexProjectionStatement(schema, entity, p), []any{sql.Named("index", projectionIndexName(entity, p))}})
		}
	}
	want := append([]column(nil), entityColumns...)
	computed := make([]string, 0, len(projections))
	for _, p := range projections {
		computed = append(computed, p.Column)
	}
	if err := s.runDDL(ctx, schema, entity, steps, want, computed); err != nil {
		return err
	}
	s.tables.ready[entity] = true
	return nil
}

// ensureLedger creates the schema and the ledger table if they are missing
// and checks the ledger's shape, with the same failure modes as
// ensureEntity. Apply calls it through ensureEntity before its first
// batch: opening a store writes nothing, so read-only credentials can read.
func (s *Store) ensureLedger(ctx context.Context) error {
	schema := s.cfg.schema()
	steps := []ddlStep{
		{createSchemaStatement, []any{sql.Named("schema", schema)}},
		{createLedgerStatement(schema), nil},
	}
	return s.runDDL(ctx, schema, ledgerTable, steps, ledgerColumns, nil)
}

type ddlStep struct {
	statement string
	args      []any
}

// runDDL runs steps under the table's application lock in one transaction,
// then checks the table's columns against want and computed.
func (s *Store) runDDL(ctx context.Context, schema, table string, steps []ddlStep, want []column, computed []string) (err error) {
	object := quote(schema) + "." + quote(table)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return classify(fmt.Errorf("create table %s: %w", object, err))
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback() // the error that caused the rollback is the one to report
		}
	}()
	resource := "switchyard:schema:" + schema + "." + table
	if _, err := tx.ExecContext(ctx, schemaLockStatement, sql.Named("resource", resource)); err != nil {
		return classify(fmt.Errorf("lock table %s: %w", object, err))
	}
	for _, step := range steps {
		args := append([]any{sql.Named("object", object)}, step.args...)
		if _, err := tx.ExecContext(ctx, step.statement, args...); err != nil {
			return classify(fmt.Errorf("create table %s: %w", object, err))
		}
	}
	if err := checkShape(ctx, tx, object, want, computed); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return classify(fmt.Errorf("create table %s: %w", object, err))
	}
	return nil
}

// querier is what checkShape and the preflight checks need: a *sql.DB or
// a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

type columnInfo struct {
	typ       string
	maxLength int
	computed  bool
	collation string
}

// checkShape compares the table's columns with what Switchyard needs. Extra
// columns are allowed (users may add their own); missing or retyped ones
// are not.
func checkShape(ctx context.Context, q querier, object string, want []column, computed []string) error {
	rows, err := q.QueryContext(ctx, shapeQuery, sql.Named("object", object))
	if err != nil {
		return classify(fmt.Errorf("read columns of %s: %w", object, err))
	}
	defer rows.Close()
	have := map[string]columnInfo{}
	for rows.Next() {
		var name string
		var info columnInfo
		if err := rows.Scan(&name, &info.typ, &info.maxLength, &info.computed, &info.collation); err != nil {
			return fmt.Errorf("read columns of %s: %w", object, err)
		}
		have[strings.ToLower(name)] = info
	}
	if err := rows.Err(); err != nil {
		return classify(fmt.Errorf("read columns of %s: %w", object, err))
	}
	for _, c := range want {
		got, ok := have[c.name]
		switch {
		case !ok:
			return fmt.Errorf("%w: %s has no column [%s]", stores.ErrSchemaMismatch, object, c.name)
		case got.computed:
			return fmt.Errorf("%w: %s column [%s] is a computed column", stores.ErrSchemaMismatch, object, c.name)
		case c.decl != "" && !sameColumn(got, c):
			return fmt.Errorf("%w: %s column [%s] is %s, want %s%s", stores.ErrSchemaMismatch, object, c.name, describeColumn(got), c.decl, layoutHint(c))
		case !strings.EqualFold(got.typ, c.typ):
			return fmt.Errorf("%w: %s column [%s] is %s, want %s", stores.ErrSchemaMismatch, object, c.name, got.typ, c.typ)
		case c.maxLength != 0 && got.maxLength != c.maxLength:
			return fmt.Errorf("%w: %s column [%s] is %s of %s, want %s", stores.ErrSchemaMismatch, object, c.name, c.typ, describeLength(got.maxLength), describeLength(c.maxLength))
		case c.collation != "" && !strings.EqualFold(got.collation, c.collation):
			return fmt.Errorf("%w: %s column [%s] has collation %q, want %s", stores.ErrSchemaMismatch, object, c.name, got.collation, c.collation)
		}
	}
	for _, name := range computed {
		got, ok := have[strings.ToLower(name)]
		switch {
		case !ok:
			return fmt.Errorf("%w: %s has no projected column [%s]", stores.ErrSchemaMismatch, object, name)
		case !got.computed:
			return fmt.Errorf("%w: %s column [%s] exists but is not a computed column, so it cannot be the projection", stores.ErrSchemaMismatch, object, name)
		}
	}
	return nil
}

func describeLength(bytes int) string {
	if bytes < 0 {
		return "MAX"
	}
	return fmt.Sprintf("%d characters", bytes/2)
}

// sameColumn reports whether got has c's type, length and collation.
func sameColumn(got columnInfo, c column) bool {
	return strings.EqualFold(got.typ, c.typ) &&
		(c.maxLength == 0 || got.maxLength == c.maxLength) &&
		(c.collation == "" || strings.EqualFold(got.collation, c.collation))
}

// describeColumn renders a column as T-SQL declares it, for example
// NVARCHAR(255) COLLATE Latin1_General_100_BIN2. sys.columns reports the
// length of NCHAR and NVARCHAR in bytes, two per character.
func describeColumn(got columnInfo) string {
	typ := strings.ToUpper(got.typ)
	var out string
	switch {
	case got.maxLength < 0:
		out = typ + "(MAX)"
	case typ == "NVARCHAR" || typ == "NCHAR":
		out = fmt.Sprintf("%s(%d)", typ, got.maxLength/2)
	case typ == "VARCHAR" || typ == "CHAR" || typ == "VARBINARY" || typ == "BINARY":
		out = fmt.Sprintf("%s(%d)", typ, got.maxLength)
	default:
		out = typ
	}
	if got.collation != "" {
		out += " COLLATE " + got.collation
	}
	return out
}

// layoutHint explains a key or client column of another layout: tables
// whose keys are NVARCHAR order supplementary characters by UTF-16 code
// unit, not by code point, and are never altered in place.
func layoutHint(c column) string {
	if c.decl != keyDecl {
		return ""
	}
	return " (UTF-8 under a binary collation, so keys compare as byte strings, in code point order; " +
		"needs SQL Server 2019 or later; an existing table is never altered: recreate it or convert the column)"
}
