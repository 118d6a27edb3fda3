package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	"github.com/switchyard/switchyard/stores/sqlite"
	"github.com/switchyard/switchyard/stores/storetest"
)

func openTemp(t testing.TB) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "store.db")
	st, err := sqlite.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) stores.Store {
		st, _ := openTemp(t)
		return st
	})
}

func TestOpenThroughRegistry(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, dsn := range []string{
		"sqlite:" + filepath.Join(dir, "a.db"),
		"sqlite://" + filepath.Join(dir, "b.db") + "?synchronous=normal&busy_timeout=100&readers=2",
	} {
		st, err := all.Open(ctx, dsn)
		if err != nil {
			t.Fatalf("all.Open(%s): %v", dsn, err)
		}
		if err := st.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		st.Close()
	}
	for _, dsn := range []string{
		"sqlite:",
		"sqlite::memory:",
		"sqlite:" + filepath.Join(dir, "c.db") + "?readers=0",
		"sqlite:" + filepath.Join(dir, "c.db") + "?synchronous=off",
		"sqlite:" + filepath.Join(dir, "c.db") + "?bogus=1",
		"sqlite:" + filepath.Join(dir, "missing", "c.db"),
	} {
		if st, err := all.Open(ctx, dsn); err == nil {
			st.Close()
			t.Fatalf("all.Open(%s) succeeded, want an error", dsn)
		}
	}
}

// TestSchemaMismatch creates wrongly shaped tables with raw SQL and checks
// that Apply, Get and Scan refuse them, naming the table and the column.
func TestSchemaMismatch(t *testing.T) {
	cases := []struct {
		name, ddl, column string
	}{
		{"missing column", `CREATE TABLE t (key TEXT PRIMARY KEY, client TEXT NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL, updated_at TEXT NOT NULL)`, "data"},
		{"mistyped column", `CREATE TABLE t (key TEXT PRIMARY KEY, client TEXT NOT NULL, version TEXT NOT NULL, deleted INTEGER NOT NULL, data TEXT, updated_at TEXT NOT NULL)`, "version"},
		{"wrong primary key", `CREATE TABLE t (id INTEGER PRIMARY KEY, key TEXT NOT NULL, client TEXT NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL, data TEXT, updated_at TEXT NOT NULL)`, "key"},
		{"composite primary key", `CREATE TABLE t (key TEXT, client TEXT NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL, data TEXT, updated_at TEXT NOT NULL, PRIMARY KEY (key, client))`, "client"},
		{"case-insensitive key", `CREATE TABLE t (key TEXT PRIMARY KEY COLLATE NOCASE, client TEXT NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL, data TEXT, updated_at TEXT NOT NULL)`, "key"},
		{"required extra column", `CREATE TABLE t (key TEXT PRIMARY KEY, client TEXT NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL, data TEXT, updated_at TEXT NOT NULL, owner TEXT NOT NULL)`, "owner"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, path := openTemp(t)
			raw, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if _, err := raw.Exec(c.ddl); err != nil {
				t.Fatalf("create table: %v", err)
			}
			// A fresh store: nothing cached about the table.
			st, err := sqlite.Open(context.Background(), "sqlite:"+path)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			ctx := context.Background()
			_, err = st.Apply(ctx, []stores.Write{{Entity: "t", Key: "k", Client: "c", Version: 1, Data: []byte(`{}`)}})
			wantMismatch(t, "Apply", err, c.column)
			_, err = st.Get(ctx, "t", "k")
			wantMismatch(t, "Get", err, c.column)
			_, err = st.Scan(ctx, "t", stores.Range{})
			wantMismatch(t, "Scan", err, c.column)
			_, err = st.Checksum(ctx, "t", stores.Range{})
			wantMismatch(t, "Checksum", err, c.column)
		})
	}
	// A table with an extra nullable column is accepted.
	_, path := openTemp(t)
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TABLE t (key TEXT PRIMARY KEY, client TEXT NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL, data TEXT, updated_at TEXT NOT NULL, note TEXT)`); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Apply(context.Background(), []stores.Write{{Entity: "t", Key: "k", Client: "c", Version: 1, Data: []byte(`{}`)}}); err != nil {
		t.Fatalf("Apply to a table with an extra nullable column: %v", err)
	}
}

func wantMismatch(t *testing.T, op string, err error, column string) {
	t.Helper()
	if !errors.Is(err, stores.ErrSchemaMismatch) {
		t.Fatalf("%s on a wrongly shaped table: %v, want ErrSchemaMismatch", op, err)
	}
	if !strings.Contains(err.Error(), "table t") || !strings.Contains(err.Error(), "column "+column) {
		t.Fatalf("%s: error %q does not name table t and column %s", op, err, column)
	}
}

// TestRejectsWhatSQLiteCannotKeep covers the adapter's own limits.
func TestRejectsWhatSQLiteCannotKeep(t *testing.T) {
	st, _ := openTemp(t)
	ctx := context.Background()
	ok := stores.Write{Entity: "t", Key: "fine", Client: "c", Version: 1, Data: []byte(`{}`)}
	for _, bad := range []stores.Write{
		{Entity: "switchyard_ledger", Key: "k", Client: "c", Version: 1, Data: []byte(`{}`)},
		{Entity: "sqlite_master", Key: "k", Client: "c", Version: 1, Data: []byte(`{}`)},
		{Entity: "t", Key: "a\x00b", Client: "c", Version: 1, Data: []byte(`{}`)},
		{Entity: "t", Key: "\xff\xfe", Client: "c", Version: 1, Data: []byte(`{}`)},
		{Entity: "t", Key: "k", Client: "c", Version: 1, Data: []byte("{\"a\":\"\xff\"}")},
	} {
		_, err := st.Apply(ctx, []stores.Write{ok, bad})
		var rej *stores.RejectError
		if !errors.As(err, &rej) || rej.Index != 1 {
			t.Fatalf("Apply(%q/%q): %v, want a *RejectError for write 1", bad.Entity, bad.Key, err)
		}
	}
	if _, err := st.Get(ctx, "t", "fine"); !errors.Is(err, stores.ErrNoEntity) {
		t.Fatalf("a rejected call created a table or row: %v", err)
	}
}

// TestLargeIntegers keeps integers beyond 2^53 exactly, and versions up to
// the int64 maximum.
func TestLargeIntegers(t *testing.T) {
	st, _ := openTemp(t)
	ctx := context.Background()
	doc := `{"big":9223372036854775807,"neg":-9223372036854775808,"huge":123456789012345678901234567890}`
	w := stores.Write{Entity: "t", Key: "k", Client: "c", Version: 1<<63 - 1, Data: []byte(doc)}
	if _, err := st.Apply(ctx, []stores.Write{w}); err != nil {
		t.Fatal(err)
	}
	rec, err := st.Get(ctx, "t", "k")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Version != 1<<63-1 || string(rec.Data) != doc {
		t.Fatalf("Get = version %d data %s", rec.Version, rec.Data)
	}
	w.Version = 5
	res, err := st.Apply(ctx, []stores.Write{w})
	if err != nil || res.Skipped != 1 {
		t.Fatalf("lower version after the int64 maximum: %+v, %v", res, err)
	}
}

// TestBusyIsTransient holds the write lock from another connection and
// checks that Apply fails with an error matching ErrTransient.
func TestBusyIsTransient(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "busy.db")
	st, err := sqlite.Open(context.Background(), "sqlite:"+path+"?busy_timeout=50")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	w := stores.Write{Entity: "t", Key: "k", Client: "c", Version: 1, Data: []byte(`{}`)}
	if _, err := st.Apply(ctx, []stores.Write{w}); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	w.Version = 2
	_, err = st.Apply(ctx, []stores.Write{w})
	if !errors.Is(err, stores.ErrTransient) {
		t.Fatalf("Apply while another process holds the write lock: %v, want ErrTransient", err)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Apply(ctx, []stores.Write{w}); err != nil {
		t.Fatalf("Apply after the lock is released: %v", err)
	}
}

// TestEntitiesSkipsOtherTables keeps the ledger, application tables and
// tables that merely share a few column names out of Entities.
func TestEntitiesSkipsOtherTables(t *testing.T) {
	st, path := openTemp(t)
	ctx := context.Background()
	if _, err := st.Apply(ctx, []stores.Write{{Entity: "task", Key: "k", Client: "c", Version: 1, Data: []byte(`{}`), EventID: "e"}}); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); CREATE TABLE half (key TEXT PRIMARY KEY, client TEXT, version INTEGER)`); err != nil {
		t.Fatal(err)
	}
	got, err := st.Entities(ctx)
	if err != nil || len(got) != 1 || got[0] != "task" {
		t.Fatalf("Entities = %q, %v; want [task]", got, err)
	}
}
