package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
)

func TestInspect(t *testing.T) {
	st, path := openTemp(t)
	ctx := context.Background()
	if _, err := st.Apply(ctx, []stores.Write{{Entity: "task", Key: "k", Client: "c", Version: 1, Data: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	for _, role := range []stores.Role{stores.RoleSource, stores.RoleTarget} {
		checks := st.Inspect(ctx, role)
		names := map[string]bool{}
		for _, c := range checks {
			names[c.Name] = true
			if c.Status != stores.CheckPass {
				t.Fatalf("%s: %+v", role, c)
			}
		}
		for _, name := range []string{"connect", "server_version", "journal_mode", "permissions", "table_shape"} {
			if !names[name] {
				t.Fatalf("%s: no %s check in %+v", role, name, checks)
			}
		}
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TABLE note (key TEXT PRIMARY KEY COLLATE NOCASE, client TEXT NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL, data TEXT, updated_at TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, c := range st.Inspect(ctx, stores.RoleSource) {
		if c.Name == "table_shape" && (c.Status != stores.CheckFail || !strings.Contains(c.Detail, "table note, column key")) {
			t.Fatalf("table_shape with a case-insensitive key: %+v", c)
		}
	}
}

func TestDropScratch(t *testing.T) {
	st, _ := openTemp(t)
	ctx := context.Background()
	scratch := stores.ScratchPrefix + "0123"
	writes := []stores.Write{
		{Entity: scratch, Key: "k", Client: "c", Version: 1, Data: []byte(`{}`), EventID: scratch + "-e"},
		{Entity: "task", Key: "k", Client: "c", Version: 1, Data: []byte(`{}`), EventID: "app-e"},
	}
	if _, err := st.Apply(ctx, writes); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"task", "switchyard_ledger", stores.ScratchPrefix, "sqlite_master"} {
		if err := st.DropScratch(ctx, name); !errors.Is(err, stores.ErrNotScratch) {
			t.Fatalf("DropScratch(%q) = %v, want ErrNotScratch", name, err)
		}
	}
	if err := st.DropScratch(ctx, scratch); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, scratch, "k"); !errors.Is(err, stores.ErrNoEntity) {
		t.Fatalf("scratch table after the drop: %v", err)
	}
	res, err := st.Apply(ctx, writes)
	if err != nil || res.Applied != 1 || res.Duplicates != 1 {
		t.Fatalf("after the drop, the scratch event id is forgotten and the application's kept: %+v, %v", res, err)
	}
}

// TestSourceWritesNothing opens a file that Switchyard never wrote as a
// source: the file is left byte for byte as it was (no ledger, no journal
// switch), it reads and passes its checks as a source, and writes fail.
func TestSourceWritesNothing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "legacy.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE task (key TEXT PRIMARY KEY, client TEXT NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL, data TEXT, updated_at TEXT NOT NULL);
INSERT INTO task VALUES ('k', 'c', 1, 0, '{"a":1}', '2026-01-01T00:00:00.000000Z')`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := all.OpenRole(ctx, "sqlite:"+path, stores.RoleSource)
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := st.Get(ctx, "task", "k"); err != nil || string(rec.Data) != `{"a":1}` {
		t.Fatalf("Get = %+v, %v", rec, err)
	}
	for _, c := range st.(stores.Inspector).Inspect(ctx, stores.RoleSource) {
		if c.Status != stores.CheckPass {
			t.Fatalf("source check: %+v", c)
		}
	}
	if _, err := st.Apply(ctx, []stores.Write{{Entity: "task", Key: "n", Client: "c", Version: 1, Data: []byte(`{}`)}}); err == nil {
		t.Fatal("Apply on a store opened as a source succeeded")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("opening, reading and inspecting a source changed the file")
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Fatal("a source left a WAL file")
	}
	if _, err := all.OpenRole(ctx, "sqlite:"+filepath.Join(t.TempDir(), "missing.db"), stores.RoleSource); err == nil {
		t.Fatal("a missing source file opened (and would have been created)")
	}
}
