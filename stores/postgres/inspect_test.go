package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/postgres"
)

func checkOf(t *testing.T, checks []stores.Check, name string) stores.Check {
	t.Helper()
	for _, c := range checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s check in %+v", name, checks)
	return stores.Check{}
}

func TestInspectPasses(t *testing.T) {
	st, _ := openFresh(t)
	ctx := context.Background()
	if _, err := st.Apply(ctx, []stores.Write{{Entity: "task", Key: "k", Client: "c", Version: 1, Data: []byte(`{}`), EventID: "e1"}}); err != nil {
		t.Fatal(err)
	}
	for _, role := range []stores.Role{stores.RoleSource, stores.RoleTarget} {
		checks := st.Inspect(ctx, role)
		for _, name := range []string{"connect", "server_version", "database_encoding", "table_shape"} {
			if c := checkOf(t, checks, name); c.Status != stores.CheckPass {
				t.Fatalf("%s %s: %+v", role, name, c)
			}
		}
		if c := checkOf(t, checks, "table_shape"); !strings.Contains(c.Detail, "(task)") {
			t.Fatalf("table_shape does not list task: %s", c.Detail)
		}
	}
	// The test user is a superuser: fine for a target, a warning for a
	// source, which should only read.
	if c := checkOf(t, st.Inspect(ctx, stores.RoleTarget), "permissions"); c.Status != stores.CheckPass {
		t.Fatalf("target permissions: %+v", c)
	}
	if c := checkOf(t, st.Inspect(ctx, stores.RoleSource), "permissions"); c.Status != stores.CheckWarn || !strings.Contains(c.Detail, "superuser") {
		t.Fatalf("source permissions of a superuser: %+v", c)
	}
}

// TestReadOnlyCredentials opens the store as a role that may only read:
// Open writes nothing and succeeds, the role passes as a source, fails as a
// target naming each missing privilege, and a write is refused.
func TestReadOnlyCredentials(t *testing.T) {
	admin, dsn := openFresh(t)
	ctx := context.Background()
	if _, err := admin.Apply(ctx, []stores.Write{{Entity: "task", Key: "k", Client: "c", Version: 1, Data: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	ro, err := postgres.Open(ctx, testenv.PostgresReadOnly(t, dsn))
	if err != nil {
		t.Fatalf("Open with read-only credentials: %v", err)
	}
	defer ro.Close()
	if rec, err := ro.Get(ctx, "task", "k"); err != nil || rec.Key != "k" {
		t.Fatalf("read with read-only credentials: %+v, %v", rec, err)
	}
	src := checkOf(t, ro.Inspect(ctx, stores.RoleSource), "permissions")
	if src.Status != stores.CheckPass {
		t.Fatalf("read-only role as a source: %+v", src)
	}
	dst := checkOf(t, ro.Inspect(ctx, stores.RoleTarget), "permissions")
	if dst.Status != stores.CheckFail {
		t.Fatalf("read-only role as a target: %+v", dst)
	}
	for _, missing := range []string{"CREATE on schema", "INSERT on task", "UPDATE on task", "INSERT on switchyard_ledger", "DELETE on switchyard_ledger"} {
		if !strings.Contains(dst.Detail, missing) {
			t.Fatalf("target permissions %q do not name %q", dst.Detail, missing)
		}
	}
	checks, err := stores.RequireRole(ctx, ro, stores.RoleTarget, "postgres://reader:secret@db/app")
	var ie *stores.InspectError
	if !errors.As(err, &ie) || !errors.Is(err, stores.ErrInspectFailed) || len(checks) == 0 {
		t.Fatalf("RequireRole(target) = %v, want an *InspectError", err)
	}
	if !strings.Contains(err.Error(), "permissions: ") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("RequireRole error %q must name the failing check and hide the password", err)
	}
	if _, err := stores.RequireRole(ctx, ro, stores.RoleSource, dsn); err != nil {
		t.Fatalf("RequireRole(source) = %v", err)
	}
}

// TestOpenWritesNothing opens a store on a schema that does not exist: Open
// creates nothing, the first write creates the schema and the ledger.
func TestOpenWritesNothing(t *testing.T) {
	admin, dsn := openFresh(t)
	ctx := context.Background()
	schema := admin.Schema() + "_lazy"
	st, err := postgres.Open(ctx, strings.Replace(dsn, "search_path=", "schema="+schema+"&search_path=", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	defer admin.Pool().Exec(context.Background(), `DROP SCHEMA IF EXISTS `+schema+` CASCADE`) //nolint:errcheck
	exists := func() bool {
		var n int
		if err := admin.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	if exists() {
		t.Fatal("Open created the schema")
	}
	if recs, err := st.Scan(ctx, "task", stores.Range{}); err != nil || len(recs) != 0 {
		t.Fatalf("Scan of a missing schema: %v, %v", recs, err)
	}
	if c := checkOf(t, st.Inspect(ctx, stores.RoleTarget), "permissions"); c.Status != stores.CheckPass || !strings.Contains(c.Detail, "which the first write creates") {
		t.Fatalf("permissions of a target whose schema is missing: %+v", c)
	}
	if exists() {
		t.Fatal("Inspect created the schema")
	}
	if _, err := st.Apply(ctx, []stores.Write{{Entity: "task", Key: "k", Client: "c", Version: 1, Data: []byte(`{}`), EventID: "e"}}); err != nil {
		t.Fatal(err)
	}
	if !exists() {
		t.Fatal("the first write did not create the schema")
	}
}

func TestInspectWrongShape(t *testing.T) {
	st, _ := openFresh(t)
	ctx := context.Background()
	if _, err := st.Pool().Exec(ctx, `CREATE TABLE task (key text PRIMARY KEY, client text NOT NULL, version bigint NOT NULL, deleted boolean NOT NULL, data jsonb, updated_at timestamptz NOT NULL, owner text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	c := checkOf(t, st.Inspect(ctx, stores.RoleSource), "table_shape")
	if c.Status != stores.CheckFail || !strings.Contains(c.Detail, "task") {
		t.Fatalf("table_shape of a wrongly shaped table: %+v", c)
	}
	if _, err := st.Pool().Exec(ctx, `DROP TABLE task; CREATE TABLE switchyard_ledger (event_id text PRIMARY KEY, applied_at timestamptz NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	c = checkOf(t, st.Inspect(ctx, stores.RoleTarget), "table_shape")
	if c.Status != stores.CheckFail || !strings.Contains(c.Detail, "switchyard_ledger, column event_id") {
		t.Fatalf("table_shape of a ledger in locale order: %+v", c)
	}
}

func TestDropScratch(t *testing.T) {
	st, _ := openFresh(t)
	ctx := context.Background()
	scratch := stores.ScratchPrefix + "abc"
	writes := []stores.Write{
		{Entity: scratch, Key: "k", Client: "c", Version: 1, Data: []byte(`{}`), EventID: scratch + "-e1"},
		{Entity: "task", Key: "k", Client: "c", Version: 1, Data: []byte(`{}`), EventID: "app-e1"},
	}
	if _, err := st.Apply(ctx, writes); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"task", "switchyard_ledger", stores.ScratchPrefix, "x" + scratch} {
		if err := st.DropScratch(ctx, name); !errors.Is(err, stores.ErrNotScratch) {
			t.Fatalf("DropScratch(%q) = %v, want ErrNotScratch", name, err)
		}
	}
	if err := st.DropScratch(ctx, scratch); err != nil {
		t.Fatal(err)
	}
	if err := st.DropScratch(ctx, scratch); err != nil {
		t.Fatalf("dropping a dropped scratch entity: %v", err)
	}
	if _, err := st.Get(ctx, scratch, "k"); !errors.Is(err, stores.ErrNoEntity) {
		t.Fatalf("scratch table after the drop: %v", err)
	}
	var ids []string
	rows, _ := st.Pool().Query(ctx, `SELECT event_id FROM switchyard_ledger ORDER BY 1`)
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	if strings.Join(ids, ",") != "app-e1" {
		t.Fatalf("ledger after the drop = %q, want only the application's id", ids)
	}
	// A redelivery of the application's event is still a duplicate.
	res, err := st.Apply(ctx, writes[1:])
	if err != nil || res.Duplicates != 1 {
		t.Fatalf("after DropScratch: %+v, %v", res, err)
	}
}
