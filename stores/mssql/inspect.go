package mssql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/stores"
)

var (
	_ stores.Inspector      = (*Store)(nil)
	_ stores.ScratchDropper = (*Store)(nil)
)

// utf8CollationQuery tells whether the server knows the key columns'
// collation: sys.fn_helpcollations lists every collation the instance
// supports, and the _UTF8 ones exist from SQL Server 2019.
const utf8CollationQuery = `SELECT COUNT(*) FROM sys.fn_helpcollations() WHERE [name] = N'` + keyCollation + `';`

// permissionsQuery reads the effective permissions of the login in the
// connected database (HAS_PERMS_BY_NAME: 1 granted, 0 not, NULL when the
// securable does not exist, as for a schema not yet created).
const permissionsQuery = `SELECT CONVERT(INT, CASE WHEN SCHEMA_ID(@schema) IS NULL THEN 0 ELSE 1 END) AS [schema_exists],
    HAS_PERMS_BY_NAME(NULL, N'DATABASE', N'CREATE TABLE') AS [create_table],
    HAS_PERMS_BY_NAME(NULL, N'DATABASE', N'CREATE SCHEMA') AS [create_schema],
    HAS_PERMS_BY_NAME(@schema, N'SCHEMA', N'ALTER') AS [alter],
    HAS_PERMS_BY_NAME(@schema, N'SCHEMA', N'SELECT') AS [select],
    HAS_PERMS_BY_NAME(@schema, N'SCHEMA', N'INSERT') AS [insert],
    HAS_PERMS_BY_NAME(@schema, N'SCHEMA', N'UPDATE') AS [update],
    HAS_PERMS_BY_NAME(@schema, N'SCHEMA', N'DELETE') AS [delete];`

// Inspect runs the cheap preflight checks, in this order and under these
// names: connect, server_version, compatibility_level, durability
// (delayed durability not forced), utf8_collation,
// permissions (what role needs: a target CREATE TABLE in the database,
// and ALTER, SELECT, INSERT, UPDATE and DELETE on the schema, or CREATE
// SCHEMA while the schema is missing; a source SELECT only, with a warning
// when it can write) and table_shape (the ledger and every entity table
// that exists have the columns, types and collations the adapter needs).
// It writes nothing. When the server cannot be reached, the checks after
// connect fail with that reason.
func (s *Store) Inspect(ctx context.Context, role stores.Role) []stores.Check {
	if !role.Valid() {
		return notRun(fmt.Sprintf("unknown role %q, want source or target", role), "unknown role")
	}
	if err := s.db.PingContext(ctx); err != nil {
		return notRun(err.Error(), "cannot connect")
	}
	checks := []stores.Check{{Name: "connect", Status: stores.CheckPass, Detail: "SQL Server answers"}}
	info, err := readServer(ctx, s.db)
	if err != nil {
		checks = append(checks,
			stores.Check{Name: "server_version", Status: stores.CheckFail, Detail: err.Error()},
			stores.Check{Name: "compatibility_level", Status: stores.CheckFail, Detail: err.Error()})
	} else {
		checks = append(checks, info.versionCheck(), info.compatibilityCheck())
	}
	checks = append(checks, s.durabilityCheck(ctx, role), s.collationCheck(ctx), s.permissionsCheck(ctx, role), s.shapeCheck(ctx, role))
	return checks
}

// durabilityQuery reads the connected database's delayed durability:
// 0 disabled, 1 allowed (only transactions that ask are delayed, and
// Switchyard's never ask), 2 forced.
const durabilityQuery = `SELECT d.[delayed_durability] FROM sys.databases AS d WHERE d.[database_id] = DB_ID();`

// delayedDurabilityForced is sys.databases.delayed_durability for FORCED.
const delayedDurabilityForced = 2

// durabilityCheck is the durability check. With delayed durability forced
// ("Control transaction durability"), SQL Server acknowledges a commit
// before its log records are on disk, so a crash can lose writes whose
// events were already acknowledged to the stream: a target fails, a
// source (only read) is warned.
func (s *Store) durabilityCheck(ctx context.Context, role stores.Role) stores.Check {
	check := stores.Check{Name: "durability"}
	var delayed int64
	if err := s.db.QueryRowContext(ctx, durabilityQuery).Scan(&delayed); err != nil {
		check.Status, check.Detail = stores.CheckFail, "cannot read the database's delayed durability: "+err.Error()
		return check
	}
	if delayed != delayedDurabilityForced {
		check.Status, check.Detail = stores.CheckPass, "commits are durable when acknowledged (DELAYED_DURABILITY is not FORCED)"
		return check
	}
	check.Status = stores.CheckFail
	if role == stores.RoleSource {
		check.Status = stores.CheckWarn
	}
	check.Detail = "the database has DELAYED_DURABILITY = FORCED: a crash can lose commits already acknowledged, and with them events acknowledged to the stream; an operator should run ALTER DATABASE CURRENT SET DELAYED_DURABILITY = DISABLED"
	return check
}

func (s *Store) collationCheck(ctx context.Context) stores.Check {
	check := stores.Check{Name: "utf8_collation"}
	var n int64
	if err := s.db.QueryRowContext(ctx, utf8CollationQuery).Scan(&n); err != nil {
		check.Status, check.Detail = stores.CheckFail, "cannot list collations: "+err.Error()
		return check
	}
	if n == 0 {
		check.Status, check.Detail = stores.CheckFail, "the server has no collation "+keyCollation+", which the key and client columns use: UTF-8 collations need SQL Server 2019 or later"
		return check
	}
	check.Status, check.Detail = stores.CheckPass, keyCollation+" is available"
	return check
}

func (s *Store) permissionsCheck(ctx context.Context, role stores.Role) stores.Check {
	check := stores.Check{Name: "permissions"}
	schema := s.cfg.schema()
	var exists int64
	var createTable, createSchema, alter, sel, ins, upd, del sql.NullInt64
	err := s.db.QueryRowContext(ctx, permissionsQuery, sql.Named("schema", schema)).
		Scan(&exists, &createTable, &createSchema, &alter, &sel, &ins, &upd, &del)
	if err != nil {
		check.Status, check.Detail = stores.CheckFail, "cannot read permissions: "+err.Error()
		return check
	}
	granted := func(p sql.NullInt64) bool { return p.Valid && p.Int64 == 1 }
	var missing []string
	if role == stores.RoleSource {
		if exists == 1 && !granted(sel) {
			missing = append(missing, "SELECT on schema "+schema)
		}
		if exists == 0 {
			check.Status, check.Detail = stores.CheckFail, "schema "+schema+" does not exist, so there is nothing to read"
			return check
		}
		if len(missing) > 0 {
			check.Status, check.Detail = stores.CheckFail, "the login lacks "+strings.Join(missing, ", ")+": GRANT it"
			return check
		}
		var writes []string
		for _, p := range []struct {
			name string
			v    sql.NullInt64
		}{{"ALTER", alter}, {"INSERT", ins}, {"UPDATE", upd}, {"DELETE", del}} {
			if granted(p.v) {
				writes = append(writes, p.name)
			}
		}
		if len(writes) > 0 {
			check.Status, check.Detail = stores.CheckWarn, "a source is only read, but the login also holds "+strings.Join(writes, ", ")+" on schema "+schema+": a read-only login is safer"
			return check
		}
		check.Status, check.Detail = stores.CheckPass, "SELECT on schema "+schema+", nothing more"
		return check
	}
	if !granted(createTable) {
		missing = append(missing, "CREATE TABLE in the database")
	}
	if exists == 0 {
		if !granted(createSchema) {
			missing = append(missing, "CREATE SCHEMA in the database (schema "+schema+" does not exist yet)")
		}
	} else {
		for _, p := range []struct {
			name string
			v    sql.NullInt64
		}{{"ALTER", alter}, {"SELECT", sel}, {"INSERT", ins}, {"UPDATE", upd}, {"DELETE", del}} {
			if !granted(p.v) {
				missing = append(missing, p.name+" on schema "+schema)
			}
		}
	}
	if len(missing) > 0 {
		check.Status, check.Detail = stores.CheckFail, "a target's login needs "+strings.Join(missing, ", ")+": GRANT them, or use another login"
		return check
	}
	check.Status, check.Detail = stores.CheckPass, "CREATE TABLE, and ALTER, SELECT, INSERT, UPDATE and DELETE on schema "+schema
	if exists == 0 {
		check.Detail = "CREATE TABLE and CREATE SCHEMA (schema " + schema + " is created on the first write)"
	}
	return check
}

// shapeCheck compares the ledger and every entity table that exists with
// what the adapter needs, as the first write would.
func (s *Store) shapeCheck(ctx context.Context, role stores.Role) stores.Check {
	check := stores.Check{Name: "table_shape"}
	missing, err := s.missingTables(ctx, []string{ledgerTable})
	if err != nil {
		check.Status, check.Detail = stores.CheckFail, err.Error()
		return check
	}
	entities, err := s.Entities(ctx)
	if err != nil {
		check.Status, check.Detail = stores.CheckFail, err.Error()
		return check
	}
	var problems []string
	if len(missing) == 0 {
		if err := checkShape(ctx, s.db, quote(s.cfg.schema())+"."+quote(ledgerTable), ledgerColumns, nil); err != nil {
			problems = append(problems, err.Error())
		}
	}
	for _, entity := range entities {
		var computed []string
		for _, p := range s.cfg.Projections[entity] {
			computed = append(computed, p.Column)
		}
		if err := checkShape(ctx, s.db, quote(s.cfg.schema())+"."+quote(entity), entityColumns, computed); err != nil {
			problems = append(problems, err.Error())
		}
	}
	switch {
	case len(problems) > 0:
		check.Status, check.Detail = stores.CheckFail, strings.Join(problems, "; ")
	case len(missing) > 0 && len(entities) == 0 && role == stores.RoleTarget:
		check.Status, check.Detail = stores.CheckPass, "no Switchyard tables yet; the first write creates them"
	case len(missing) > 0 && len(entities) == 0:
		check.Status, check.Detail = stores.CheckWarn, "no Switchyard tables in schema "+s.cfg.schema()+": nothing to read"
	case len(missing) > 0:
		check.Status, check.Detail = stores.CheckPass, fmt.Sprintf("%d entity tables have the expected columns; the ledger is created on the first write", len(entities))
	default:
		check.Status, check.Detail = stores.CheckPass, fmt.Sprintf("the ledger and %d entity tables have the expected columns", len(entities))
	}
	return check
}

// inspectChecks names Inspect's checks in order.
var inspectChecks = []string{"connect", "server_version", "compatibility_level", "durability", "utf8_collation", "permissions", "table_shape"}

// notRun reports the connect check failed with detail and every later
// check failed as not run, for reason: a check that cannot run is never
// skipped silently.
func notRun(detail, reason string) []stores.Check {
	checks := []stores.Check{{Name: inspectChecks[0], Status: stores.CheckFail, Detail: detail}}
	for _, name := range inspectChecks[1:] {
		checks = append(checks, stores.Check{Name: name, Status: stores.CheckFail, Detail: "not run: " + reason})
	}
	return checks
}

// InspectDSN connects to dsn and runs Inspect in role without Open's
// refusal, so preflight reports a server that Open would refuse with every
// check that can still run. A DSN that cannot be parsed fails the connect
// check with the reason.
func InspectDSN(ctx context.Context, dsn string, role stores.Role) []stores.Check {
	parsed, err := ParseDSN(dsn)
	if err != nil {
		return notRun(err.Error(), "bad DSN")
	}
	db, err := sql.Open(parsed.DriverName, parsed.Driver)
	if err != nil {
		return notRun(err.Error(), "bad DSN")
	}
	defer db.Close()
	s, err := newUnchecked(db, parsed.Config)
	if err != nil {
		return notRun(err.Error(), "bad DSN")
	}
	return s.Inspect(ctx, role)
}
