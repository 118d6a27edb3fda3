package preflight_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/preflight"
	"github.com/switchyard/switchyard/stores"
)

func TestPostgresTargetPasses(t *testing.T) {
	dsn := testenv.Postgres(t)
	rep := run(t, preflight.Config{Stores: []preflight.StoreSpec{{DSN: dsn, Role: stores.RoleTarget}}})
	allPass(t, rep)
	want(t, rep, "selftest_checksum", "", stores.CheckPass, "as in SQLite")
	want(t, rep, "selftest_large_document", "", stores.CheckPass, "1048576-byte")
	conn := pgConn(t, dsn)
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_class WHERE relname LIKE 'switchyard\_preflight\_%'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d scratch relations left behind (%v)", n, err)
	}
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM switchyard_ledger`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d ledger entries left behind (%v)", n, err)
	}
}

// TestPostgresReadOnlyTarget: credentials that may only read fail the
// target's permissions check, naming what is missing, and the self-test
// does not run; the same credentials pass as a source.
func TestPostgresReadOnlyTarget(t *testing.T) {
	dsn := testenv.Postgres(t)
	conn := pgConn(t, dsn)
	if _, err := conn.Exec(context.Background(), `CREATE TABLE task (key text COLLATE "C" PRIMARY KEY, client text NOT NULL, version bigint NOT NULL, deleted boolean NOT NULL, data jsonb, updated_at timestamptz NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	ro := testenv.PostgresReadOnly(t, dsn)
	rep := run(t, preflight.Config{Stores: []preflight.StoreSpec{{DSN: ro, Role: stores.RoleTarget}, {DSN: ro, Role: stores.RoleSource}}})
	if rep.Passed {
		t.Fatalf("read-only target credentials passed:\n%s", table(rep))
	}
	rows := find(rep, "permissions", "")
	if len(rows) != 2 || rows[0].Status != stores.CheckFail || rows[1].Status != stores.CheckPass {
		t.Fatalf("permissions rows: %+v", rows)
	}
	for _, missing := range []string{"lacks CREATE on schema", "INSERT on task"} {
		if !strings.Contains(rows[0].Detail, missing) {
			t.Fatalf("target permissions %q do not name %q", rows[0].Detail, missing)
		}
	}
	want(t, rep, "selftest", "", stores.CheckFail, "not run")
	if rep.Failures != 2 {
		t.Fatalf("want 2 failures (permissions, selftest):\n%s", table(rep))
	}
}

func TestPostgresSourceLongKey(t *testing.T) {
	dsn := testenv.Postgres(t)
	conn := pgConn(t, dsn)
	if _, err := conn.Exec(context.Background(), `CREATE TABLE task (key text COLLATE "C" PRIMARY KEY, client text NOT NULL, version bigint NOT NULL, deleted boolean NOT NULL, data jsonb, updated_at timestamptz NOT NULL);
INSERT INTO task VALUES ('ok', 'acme', 1, false, '{}', now()), (repeat('k', 300), 'acme', 1, false, '{}', now())`); err != nil {
		t.Fatal(err)
	}
	rep := run(t, preflight.Config{Stores: []preflight.StoreSpec{{DSN: dsn, Role: stores.RoleSource}}})
	want(t, rep, "sample_keys", "task", stores.CheckFail, "is 300 bytes, above the limit of 255")
}

func pgConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
