package rethinkdb

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/stores"
)

// The names of the checks Inspect reports, in this order.
const (
	CheckReachable     = "connect"
	CheckServerVersion = "server_version"
	CheckDatabase      = "database"
	CheckPermissions   = "permissions"
	CheckTableShape    = "table_shape"
)

// probeKey is the primary key the permission probes address. The probes
// replace a document by itself, which changes nothing whether it exists or
// not, but the server still demands the write permission.
const probeKey = "switchyard-preflight-probe"

var versionPattern = regexp.MustCompile(`rethinkdb (\d+)\.(\d+)\.(\d+)`)

// Inspect runs the cheap checks for role without writing anything:
//
//   - reachable: a trivial query answers;
//   - server_version: 2.4 or later, read from rethinkdb.server_status when
//     the credentials may read it, otherwise proven by a 2.4 term (bit_and);
//   - database: a source's database exists (a writer's is created if the
//     credentials may);
//   - permissions: a source reads every table, and a warning when it could
//     also write (it needs no more than read); a writer may read, write
//     (a replace of a document by itself, a no-op the server still checks)
//     and configure (reconfigure with dry_run) its database;
//   - table_shape: every table is keyed on key_field, the ledger on "id"
//     with its recorded_at index.
func (s *Store) Inspect(ctx context.Context, role stores.Role) []stores.Check {
	if err := s.Ping(ctx); err != nil {
		checks := []stores.Check{fail(CheckReachable, "the server does not answer: %v", err)}
		for _, name := range []string{CheckServerVersion, CheckDatabase, CheckPermissions, CheckTableShape} {
			checks = append(checks, fail(name, "not checked: the server does not answer"))
		}
		return checks
	}
	checks := []stores.Check{pass(CheckReachable, "the server answers at the DSN's address"), s.checkVersion(ctx)}
	var exists bool
	if err := s.readOne(ctx, r.DBList().Contains(s.cfg.Database), &exists); err != nil {
		return append(checks,
			fail(CheckDatabase, "cannot list databases: %v", err),
			fail(CheckPermissions, "not checked: cannot list databases"),
			fail(CheckTableShape, "not checked: cannot list databases"))
	}
	if !exists {
		if role == stores.RoleSource {
			return append(checks,
				fail(CheckDatabase, "database %s does not exist; a source creates nothing: check the DSN", s.cfg.Database),
				fail(CheckPermissions, "not checked: no database"),
				fail(CheckTableShape, "not checked: no database"))
		}
		if s.canReadSystem(ctx) {
			return append(checks,
				pass(CheckDatabase, "database %s does not exist yet; the writer will create it", s.cfg.Database),
				pass(CheckPermissions, "the credentials are an administrator's: they may create the database"),
				pass(CheckTableShape, "no tables yet"))
		}
		return append(checks,
			fail(CheckDatabase, "database %s does not exist and these credentials cannot create it: create it and grant the user read, write and config on it", s.cfg.Database),
			fail(CheckPermissions, "not checked: no database"),
			fail(CheckTableShape, "not checked: no database"))
	}
	checks = append(checks, pass(CheckDatabase, "database %s exists", s.cfg.Database))
	tables, err := s.tableNames(ctx)
	if err != nil {
		return append(checks,
			fail(CheckPermissions, "cannot list the tables of %s: %v", s.cfg.Database, err),
			fail(CheckTableShape, "not checked: cannot list the tables"))
	}
	return append(checks, s.checkPermissions(ctx, role, tables), s.checkShape(ctx, role, tables))
}

func pass(name, format string, args ...any) stores.Check {
	return stores.Check{Name: name, Status: stores.CheckPass, Detail: fmt.Sprintf(format, args...)}
}

func warn(name, format string, args ...any) stores.Check {
	return stores.Check{Name: name, Status: stores.CheckWarn, Detail: fmt.Sprintf(format, args...)}
}

func fail(name, format string, args ...any) stores.Check {
	return stores.Check{Name: name, Status: stores.CheckFail, Detail: fmt.Sprintf(format, args...)}
}

// checkVersion reads the version of every server of the cluster, or
// proves 2.4 by a term older servers do not know.
func (s *Store) checkVersion(ctx context.Context) stores.Check {
	versions, err := s.readAll(ctx, r.DB("rethinkdb").Table("server_status").Field("process").Field("version"))
	if err != nil {
		var bits int
		if err := s.readOne(ctx, r.Expr(6).BitAnd(3), &bits); err != nil || bits != 2 {
			return fail(CheckServerVersion, "the server is older than RethinkDB 2.4 (it does not know bit_and: %v); Switchyard needs 2.4 or later", err)
		}
		return pass(CheckServerVersion, "RethinkDB 2.4 or later (bit_and answers; these credentials cannot read rethinkdb.server_status for the exact version)")
	}
	var found []string
	for _, v := range versions {
		text, _ := v.(string)
		m := versionPattern.FindStringSubmatch(text)
		if m == nil {
			return fail(CheckServerVersion, "cannot read the version from %q", text)
		}
		major, _ := strconv.Atoi(m[1])
		minor, _ := strconv.Atoi(m[2])
		if major < 2 || major == 2 && minor < 4 {
			return fail(CheckServerVersion, "a server runs RethinkDB %s.%s.%s; Switchyard needs 2.4 or later", m[1], m[2], m[3])
		}
		found = append(found, m[1]+"."+m[2]+"."+m[3])
	}
	sort.Strings(found)
	return pass(CheckServerVersion, "RethinkDB %s", strings.Join(compact(found), ", "))
}

func compact(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// canReadSystem reports whether the credentials may read the system
// database, which only administrators may by default.
func (s *Store) canReadSystem(ctx context.Context) bool {
	var n int
	return s.readOne(ctx, r.DB("rethinkdb").Table("permissions").Count(), &n) == nil
}

// tableNames lists the tables of the database, the ledger included.
func (s *Store) tableNames(ctx context.Context) ([]string, error) {
	found, err := s.readAll(ctx, r.DB(s.cfg.Database).TableList())
	if err != nil {
		return nil, classify(err)
	}
	var out []string
	for _, v := range found {
		if name, ok := v.(string); ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// isPermission reports a refusal for want of a permission: the driver
// has no type of its own for the server's PERMISSION_ERROR and returns it
// as a bare r.RQLRuntimeError, a type it uses for no other error class.
func isPermission(err error) bool {
	var runtime r.RQLRuntimeError
	return errors.As(err, &runtime)
}

func (s *Store) checkPermissions(ctx context.Context, role stores.Role, tables []string) stores.Check {
	db := r.DB(s.cfg.Database)
	for _, table := range tables {
		var n int
		if err := s.readOne(ctx, db.Table(table).Limit(1).Count(), &n); err != nil {
			return fail(CheckPermissions, "cannot read table %s.%s: %v", s.cfg.Database, table, err)
		}
	}
	writeProbe := func(table string) error {
		return s.exec(ctx, db.Table(table).Get(probeKey).Replace(func(old r.Term) r.Term { return old }))
	}
	if role == stores.RoleSource {
		for _, table := range tables {
			if writeProbe(table) == nil {
				return warn(CheckPermissions, "the credentials may read every table, and may also write table %s; a source needs read permission only: use a read-only user", table)
			}
		}
		return pass(CheckPermissions, "the credentials may read all %d tables of %s", len(tables), s.cfg.Database)
	}
	if err := s.exec(ctx, db.Reconfigure(r.ReconfigureOpts{Shards: 1, Replicas: 1, DryRun: true})); err != nil && isPermission(err) {
		return fail(CheckPermissions, "the credentials may not configure database %s (create tables and indexes): %v; grant the user config on it", s.cfg.Database, err)
	}
	if len(tables) == 0 {
		return warn(CheckPermissions, "the credentials may configure %s; with no table yet, write permission is proven only by the writer self-test", s.cfg.Database)
	}
	for _, table := range tables {
		if err := writeProbe(table); err != nil {
			return fail(CheckPermissions, "the credentials may not write table %s.%s: %v; grant the user write on the database", s.cfg.Database, table, err)
		}
	}
	return pass(CheckPermissions, "the credentials may read, write and configure %s", s.cfg.Database)
}

func (s *Store) checkShape(ctx context.Context, role stores.Role, tables []string) stores.Check {
	db := r.DB(s.cfg.Database)
	var problems []string
	for _, table := range tables {
		want := s.cfg.KeyField
		if table == ledgerTable {
			want = ledgerKey
		}
		var key string
		if err := s.readOne(ctx, db.Table(table).Info().Field("primary_key"), &key); err != nil {
			return fail(CheckTableShape, "cannot read the primary key of %s: %v", table, err)
		}
		if key != want {
			problems = append(problems, fmt.Sprintf("%s is keyed on %q, not %q", table, key, want))
		}
		if table == ledgerTable && role == stores.RoleTarget {
			var indexed bool
			if err := s.readOne(ctx, db.Table(table).IndexList().Contains(ledgerTimeField), &indexed); err != nil {
				return fail(CheckTableShape, "cannot list the indexes of %s: %v", table, err)
			}
			if !indexed {
				problems = append(problems, fmt.Sprintf("%s lacks its %s index (the writer creates it)", table, ledgerTimeField))
			}
		}
	}
	if len(problems) > 0 {
		return fail(CheckTableShape, "%s; set key_field to the tables' primary key", strings.Join(problems, "; "))
	}
	return pass(CheckTableShape, "%d tables, each keyed on %q", len(tables), s.cfg.KeyField)
}
