package postgres

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/stores"
)

var (
	_ stores.Inspector      = (*Store)(nil)
	_ stores.ScratchDropper = (*Store)(nil)
)

// minServerVersion is the oldest PostgreSQL the adapter runs on: the shape
// check reads information_schema.columns.is_generated, which came with 12.
const minServerVersion = 120000

// server is what Inspect learns about the server and the session.
type server struct {
	user, database, version, encoding string
	versionNum                        int
	superuser                         bool
}

// Inspect runs the cheap checks of stores.Inspector: the server answers,
// its version is 12 or later and the database encoding is UTF8, the
// credentials hold what the role needs on the schema and on the tables that
// exist (a source: USAGE and SELECT, and a warning when they could write; a
// target: also CREATE on the schema, or on the database while the schema
// does not exist, INSERT and UPDATE on the entity tables and INSERT and
// DELETE on the ledger), and the existing tables have the adapter's shape.
// It writes nothing.
func (s *Store) Inspect(ctx context.Context, role stores.Role) []stores.Check {
	srv, err := s.server(ctx)
	if err != nil {
		return []stores.Check{{Name: "connect", Status: stores.CheckFail, Detail: err.Error()}}
	}
	checks := []stores.Check{{Name: "connect", Status: stores.CheckPass,
		Detail: fmt.Sprintf("connected as %s to database %s, schema %s", srv.user, srv.database, s.schema)}}
	if srv.versionNum < minServerVersion {
		checks = append(checks, stores.Check{Name: "server_version", Status: stores.CheckFail,
			Detail: fmt.Sprintf("PostgreSQL %s; Switchyard needs 12 or later", srv.version)})
	} else {
		checks = append(checks, stores.Check{Name: "server_version", Status: stores.CheckPass, Detail: "PostgreSQL " + srv.version})
	}
	if srv.encoding != "UTF8" {
		checks = append(checks, stores.Check{Name: "database_encoding", Status: stores.CheckFail,
			Detail: fmt.Sprintf("database %s is encoded %s; keys and documents are UTF-8 and need a UTF8 database", srv.database, srv.encoding)})
	} else {
		checks = append(checks, stores.Check{Name: "database_encoding", Status: stores.CheckPass, Detail: "UTF8"})
	}
	checks = append(checks, s.checkPermissions(ctx, role, srv))
	checks = append(checks, s.checkTableShapes(ctx, role))
	return checks
}

func (s *Store) server(ctx context.Context) (server, error) {
	var srv server
	err := s.pool.QueryRow(ctx, `
SELECT current_user, current_database(), current_setting('server_version'),
       current_setting('server_version_num')::int, pg_encoding_to_char(d.encoding),
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
FROM pg_database d WHERE d.datname = current_database()`).Scan(
		&srv.user, &srv.database, &srv.version, &srv.versionNum, &srv.encoding, &srv.superuser)
	if err != nil {
		return srv, classify(fmt.Errorf("postgres: %w", err))
	}
	return srv, nil
}

// tablePrivileges are the privileges of the current user on one table of
// the schema that is an entity table or the ledger.
type tablePrivileges struct {
	name                                   string
	selectOK, insertOK, updateOK, deleteOK bool
}

// checkPermissions compares what the credentials hold with what the role
// needs. Privileges are read from the catalog with has_*_privilege, one
// privilege at a time (a list would pass when any one of them is held).
func (s *Store) checkPermissions(ctx context.Context, role stores.Role, srv server) stores.Check {
	const name = "permissions"
	fail := func(format string, args ...any) stores.Check {
		return stores.Check{Name: name, Status: stores.CheckFail, Detail: fmt.Sprintf(format, args...)}
	}
	var schemaExists, usage, create, createInDB bool
	err := s.pool.QueryRow(ctx, `
SELECT n.oid IS NOT NULL,
       coalesce(has_schema_privilege(n.oid, 'USAGE'), false),
       coalesce(has_schema_privilege(n.oid, 'CREATE'), false),
       has_database_privilege(current_database(), 'CREATE')
FROM (SELECT 1) AS one LEFT JOIN pg_namespace n ON n.nspname = $1`, s.schema).Scan(&schemaExists, &usage, &create, &createInDB)
	if err != nil {
		return fail("reading the privileges of %s: %v", srv.user, classify(err))
	}
	q := pgx.Identifier{s.schema}.Sanitize()
	if !schemaExists {
		if role == stores.RoleSource {
			return stores.Check{Name: name, Status: stores.CheckWarn,
				Detail: fmt.Sprintf("schema %s does not exist, so the source holds nothing here", s.schema)}
		}
		if !createInDB {
			return fail("schema %s does not exist and %s may not create it: GRANT CREATE ON DATABASE %s TO %s, or create the schema",
				s.schema, srv.user, pgx.Identifier{srv.database}.Sanitize(), pgx.Identifier{srv.user}.Sanitize())
		}
		return stores.Check{Name: name, Status: stores.CheckPass,
			Detail: fmt.Sprintf("%s may create schema %s, which the first write creates", srv.user, s.schema)}
	}
	if !usage {
		return fail("%s lacks USAGE on schema %s: GRANT USAGE ON SCHEMA %s TO %s", srv.user, s.schema, q, pgx.Identifier{srv.user}.Sanitize())
	}
	tables, err := s.tablePrivileges(ctx)
	if err != nil {
		return fail("reading the table privileges of %s: %v", srv.user, err)
	}
	var missing, extra []string
	for _, t := range tables {
		need := map[string]bool{"SELECT": t.selectOK}
		if role == stores.RoleTarget {
			need["INSERT"] = t.insertOK
			if t.name == ledgerTable {
				need["DELETE"] = t.deleteOK
			} else {
				need["UPDATE"] = t.updateOK
			}
		} else if t.name != ledgerTable && (t.insertOK || t.updateOK || t.deleteOK) {
			extra = append(extra, t.name)
		}
		for _, priv := range sortedKeys(need) {
			if !need[priv] {
				missing = append(missing, priv+" on "+t.name)
			}
		}
	}
	if role == stores.RoleTarget && !create {
		missing = append([]string{"CREATE on schema " + s.schema + " (entity tables are created on demand)"}, missing...)
	}
	if len(missing) > 0 {
		return fail("%s lacks %s; a %s needs them: grant them, or use the credentials meant for the %s",
			srv.user, strings.Join(missing, ", "), role, role)
	}
	if role == stores.RoleSource && (create || len(extra) > 0 || srv.superuser) {
		var what []string
		if srv.superuser {
			what = append(what, "is a superuser")
		}
		if create {
			what = append(what, "has CREATE on schema "+s.schema)
		}
		if len(extra) > 0 {
			what = append(what, "may write "+strings.Join(extra, ", "))
		}
		return stores.Check{Name: name, Status: stores.CheckWarn,
			Detail: fmt.Sprintf("%s %s; a source only reads (USAGE and SELECT suffice)", srv.user, strings.Join(what, " and "))}
	}
	if role == stores.RoleSource {
		return stores.Check{Name: name, Status: stores.CheckPass,
			Detail: fmt.Sprintf("%s may read schema %s and its %d entity tables", srv.user, s.schema, len(tables))}
	}
	return stores.Check{Name: name, Status: stores.CheckPass,
		Detail: fmt.Sprintf("%s may create tables in schema %s and write its %d existing tables", srv.user, s.schema, len(tables))}
}

// tablePrivileges lists the ledger and the tables of the schema that have
// the columns of an entity table, with the current user's privileges. It
// reads pg_class, which lists every table whatever the user may do with it
// (information_schema hides tables the user holds no privilege on).
func (s *Store) tablePrivileges(ctx context.Context) ([]tablePrivileges, error) {
	rows, err := s.pool.Query(ctx, `
SELECT c.relname,
       has_table_privilege(c.oid, 'SELECT'), has_table_privilege(c.oid, 'INSERT'),
       has_table_privilege(c.oid, 'UPDATE'), has_table_privilege(c.oid, 'DELETE')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
  AND (c.relname = $2 OR (SELECT count(*) FROM pg_attribute a
       WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         AND a.attname IN ('key', 'client', 'version', 'deleted', 'data', 'updated_at')) = 6)
ORDER BY c.relname`, s.schema, ledgerTable)
	if err != nil {
		return nil, classify(err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (tablePrivileges, error) {
		var t tablePrivileges
		err := row.Scan(&t.name, &t.selectOK, &t.insertOK, &t.updateOK, &t.deleteOK)
		return t, err
	})
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkTableShapes checks every entity table of the schema, and for a
// target the ledger, against the shape the adapter needs.
func (s *Store) checkTableShapes(ctx context.Context, role stores.Role) stores.Check {
	const name = "table_shape"
	entities, err := s.Entities(ctx)
	if err != nil {
		return stores.Check{Name: name, Status: stores.CheckFail, Detail: err.Error()}
	}
	var problems []string
	for _, entity := range entities {
		if _, err := s.checkShape(ctx, entity); err != nil {
			problems = append(problems, err.Error())
		}
	}
	ledger := ""
	if role == stores.RoleTarget {
		ledger, err = s.checkLedgerShape(ctx)
		if err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return stores.Check{Name: name, Status: stores.CheckFail, Detail: strings.Join(problems, "; ")}
	}
	detail := fmt.Sprintf("%d entity tables have the expected shape", len(entities))
	if len(entities) > 0 {
		detail += " (" + strings.Join(entities, ", ") + ")"
	}
	if ledger != "" {
		detail += "; " + ledger
	}
	return stores.Check{Name: name, Status: stores.CheckPass, Detail: detail}
}

// checkLedgerShape checks an existing ledger: event_id text in byte order
// as the sole primary key, and applied_at. It describes what it found.
func (s *Store) checkLedgerShape(ctx context.Context) (string, error) {
	rows, err := s.pool.Query(ctx, `
SELECT a.attname, format_type(a.atttypid, a.atttypmod), coalesce(co.collname, ''),
       coalesce((SELECT d.datcollate FROM pg_database d WHERE d.datname = current_database()), ''),
       coalesce(a.attnum = ANY (i.indkey), false), coalesce(array_length(i.indkey, 1), 0)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 100
LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
WHERE n.nspname = $1 AND c.relname = $2`, s.schema, ledgerTable)
	if err != nil {
		return "", classify(fmt.Errorf("postgres: inspect the ledger: %w", err))
	}
	type column struct {
		typ, collation, dbCollation string
		inPK                        bool
		pkColumns                   int
	}
	have := map[string]column{}
	for rows.Next() {
		var name string
		var c column
		if err := rows.Scan(&name, &c.typ, &c.collation, &c.dbCollation, &c.inPK, &c.pkColumns); err != nil {
			rows.Close()
			return "", classify(fmt.Errorf("postgres: inspect the ledger: %w", err))
		}
		have[name] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", classify(fmt.Errorf("postgres: inspect the ledger: %w", err))
	}
	if len(have) == 0 {
		return "the ledger does not exist yet; the first write creates it", nil
	}
	mismatch := func(col, format string, args ...any) error {
		return fmt.Errorf("postgres: table %s.%s, column %s: %s: %w", s.schema, ledgerTable, col, fmt.Sprintf(format, args...), stores.ErrSchemaMismatch)
	}
	id, ok := have["event_id"]
	switch {
	case !ok:
		return "", mismatch("event_id", "missing (want text)")
	case id.typ != "text":
		return "", mismatch("event_id", "type %s, want text", id.typ)
	case !id.inPK || id.pkColumns != 1:
		return "", mismatch("event_id", "is not the sole primary key column")
	}
	collation := id.collation
	if collation == "" {
		collation = id.dbCollation
	}
	if collation != "C" && collation != "POSIX" {
		return "", mismatch("event_id", "collation %q compares ids by locale, want \"C\" (bytes)", collation)
	}
	if at, ok := have["applied_at"]; !ok || at.typ != "timestamp with time zone" {
		return "", mismatch("applied_at", "missing or not timestamptz")
	}
	return "the ledger has the expected shape", nil
}

// DropScratch drops the table of a preflight scratch entity (its name is
// stores.ScratchPrefix followed by a suffix) and the ledger entries whose
// event id starts with the entity's name, which is how the self-test names
// its events. Any other name is refused with an error matching
// stores.ErrNotScratch. Dropping an entity that does not exist is not an
// error.
func (s *Store) DropScratch(ctx context.Context, entity string) error {
	if len(entity) <= len(stores.ScratchPrefix) || !strings.HasPrefix(entity, stores.ScratchPrefix) || !usableEntity(entity) {
		return fmt.Errorf("postgres: drop %q: %w", entity, stores.ErrNotScratch)
	}
	s.tables.Delete(entity)
	if _, err := s.pool.Exec(ctx, `DROP TABLE IF EXISTS `+s.table(entity)); err != nil {
		return classify(fmt.Errorf("postgres: drop scratch table %s: %w", entity, err))
	}
	s.tables.Delete(entity)
	if !s.bookkept.Load() {
		return nil // this store never wrote, so it recorded no event id
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM `+s.ledger+` WHERE left(event_id, $2) = $1`, entity, len(entity)); err != nil {
		return classify(fmt.Errorf("postgres: drop the ledger entries of scratch entity %s: %w", entity, err))
	}
	return nil
}
