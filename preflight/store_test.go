package preflight_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/preflight"
	"github.com/switchyard/switchyard/stores"
)

const entityDDL = `CREATE TABLE task (key TEXT NOT NULL PRIMARY KEY, client TEXT NOT NULL, version INTEGER NOT NULL,
  deleted INTEGER NOT NULL, data TEXT, updated_at TEXT NOT NULL)`

func TestSQLiteSourceAndTargetPass(t *testing.T) {
	src, raw := sqliteFile(t, "legacy.db")
	if _, err := raw.Exec(entityDDL); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := raw.Exec(`INSERT INTO task VALUES (?, 'acme', 1, 0, ?, '2026-01-01T00:00:00.000000Z')`,
			fmt.Sprintf("t-%02d ünïcode", i), fmt.Sprintf(`{"n":%d}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	dst, rawDst := sqliteFile(t, "target.db")
	rep := run(t, preflight.Config{Stores: []preflight.StoreSpec{
		{DSN: src, Role: stores.RoleSource}, {DSN: dst, Role: stores.RoleTarget},
	}})
	allPass(t, rep)
	want(t, rep, "sample_keys", "task", stores.CheckPass, "20 records sampled")
	for _, step := range []string{"identifiers", "trailing_space", "fence", "tombstone", "if_absent", "ledger", "large_document", "checksum", "cleanup"} {
		if rows := find(rep, "selftest_"+step, ""); len(rows) != 1 || rows[0].Role != "target" {
			t.Fatalf("self-test step %s: %+v", step, rows)
		}
	}
	// The self-test left nothing behind: no scratch table, no ledger entry.
	var tables, ledger int
	if err := rawDst.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name LIKE 'switchyard_preflight_%'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if err := rawDst.QueryRow(`SELECT count(*) FROM switchyard_ledger`).Scan(&ledger); err != nil {
		t.Fatal(err)
	}
	if tables != 0 || ledger != 0 {
		t.Fatalf("after the self-test: %d scratch tables and indexes, %d ledger entries; want none", tables, ledger)
	}
	// Nothing was written to the source.
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name LIKE 'switchyard_preflight_%'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("source holds %d scratch objects (%v)", n, err)
	}
}

// TestSourceSampleFindsWhatNoTargetHolds plants each problem in a SQLite
// source and expects the sample to fail naming it.
func TestSourceSampleFindsWhatNoTargetHolds(t *testing.T) {
	cases := []struct {
		name, key, client, doc string
		check, reason          string
	}{
		{"300-byte key", strings.Repeat("k", 300), "acme", `{}`, "sample_keys", "is 300 bytes, above the limit of 255"},
		{"trailing space", "t-1 ", "acme", `{}`, "sample_keys", "ends with a space"},
		{"control character", "t-\x01", "acme", `{}`, "sample_keys", "control character U+0001"},
		{"bad client", "t-2", "acme\n", `{}`, "sample_keys", `client "acme\n"`},
		{"large document", "t-3", "acme", `{"pad":"` + strings.Repeat("x", 2000) + `"}`, "sample_sizes", "larger than 1000 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, raw := sqliteFile(t, "legacy.db")
			if _, err := raw.Exec(entityDDL); err != nil {
				t.Fatal(err)
			}
			for _, row := range [][3]string{{"a-fine", "acme", `{"ok":true}`}, {c.key, c.client, c.doc}} {
				if _, err := raw.Exec(`INSERT INTO task VALUES (?, ?, 1, 0, ?, '2026-01-01T00:00:00.000000Z')`, row[0], row[1], row[2]); err != nil {
					t.Fatal(err)
				}
			}
			rep := run(t, preflight.Config{MaxDocumentBytes: 1000, Stores: []preflight.StoreSpec{{DSN: src, Role: stores.RoleSource}}})
			if rep.Passed {
				t.Fatalf("a source with a %s passed:\n%s", c.name, table(rep))
			}
			want(t, rep, c.check, "task", stores.CheckFail, c.reason, "2 records sampled")
		})
	}
}

// TestSampleSizeAndEntities samples only the named entities, and only the
// first records of each.
func TestSampleSizeAndEntities(t *testing.T) {
	src, raw := sqliteFile(t, "legacy.db")
	for _, e := range []string{"task", "note"} {
		if _, err := raw.Exec(strings.Replace(entityDDL, "task", e, 1)); err != nil {
			t.Fatal(err)
		}
	}
	// A bad key sorts last: a sample of 2 does not reach it.
	for _, key := range []string{"a", "b", "z" + strings.Repeat("z", 300)} {
		if _, err := raw.Exec(`INSERT INTO task VALUES (?, 'acme', 1, 0, '{}', '2026-01-01T00:00:00.000000Z')`, key); err != nil {
			t.Fatal(err)
		}
	}
	rep := run(t, preflight.Config{SampleSize: 2, Entities: []string{"task"}, Stores: []preflight.StoreSpec{{DSN: src, Role: stores.RoleSource}}})
	want(t, rep, "sample_keys", "task", stores.CheckPass, "2 records sampled")
	if rows := find(rep, "sample_keys", "note"); len(rows) != 0 {
		t.Fatalf("sampled an entity that was not named: %+v", rows)
	}
	rep = run(t, preflight.Config{Stores: []preflight.StoreSpec{{DSN: src, Role: stores.RoleSource}}})
	want(t, rep, "entities", "", stores.CheckPass, "note, task")
	want(t, rep, "sample_keys", "task", stores.CheckFail, "301 bytes")
	want(t, rep, "sample_keys", "note", stores.CheckWarn, "no records")
}

func TestUnreachableStoreFailsOpen(t *testing.T) {
	rep := run(t, preflight.Config{Timeout: 5e9, Stores: []preflight.StoreSpec{
		{DSN: "sqlite:/nonexistent-folder/x.db", Role: stores.RoleTarget},
		{DSN: "postgres://u:secret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2", Role: stores.RoleSource},
	}})
	rows := find(rep, "open", "")
	if len(rows) != 2 || rows[0].Status != stores.CheckFail || rows[1].Status != stores.CheckFail {
		t.Fatalf("open rows: %+v", rows)
	}
	if strings.Contains(table(rep), "secret") {
		t.Fatalf("the report prints a password:\n%s", table(rep))
	}
	if rep.Passed || rep.Failures != 2 {
		t.Fatalf("report = passed %v, %d failures", rep.Passed, rep.Failures)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]preflight.Config{
		"nothing":       {},
		"no stream":     {NATS: preflight.NATSConfig{URL: "nats://127.0.0.1:4222"}},
		"empty dsn":     {Stores: []preflight.StoreSpec{{Role: stores.RoleSource}}},
		"no scheme":     {Stores: []preflight.StoreSpec{{DSN: "legacy.db", Role: stores.RoleSource}}},
		"bad role":      {Stores: []preflight.StoreSpec{{DSN: "sqlite:x.db", Role: "reader"}}},
		"bad entity":    {Entities: []string{"Task"}, Stores: []preflight.StoreSpec{{DSN: "sqlite:x.db", Role: stores.RoleSource}}},
		"negative size": {SampleSize: -1, Stores: []preflight.StoreSpec{{DSN: "sqlite:x.db", Role: stores.RoleSource}}},
	} {
		if _, err := preflight.Run(context.Background(), cfg); !errors.Is(err, preflight.ErrConfig) {
			t.Errorf("%s: Run = %v, want ErrConfig", name, err)
		}
	}
}
