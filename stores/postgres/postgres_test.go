package postgres_test

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	"github.com/switchyard/switchyard/stores/postgres"
	"github.com/switchyard/switchyard/stores/storetest"
)

func openFresh(t testing.TB) (*postgres.Store, string) {
	t.Helper()
	dsn := testenv.Postgres(t)
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st, dsn
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) stores.Store {
		st, _ := openFresh(t)
		return st
	})
}

func TestOpenThroughRegistry(t *testing.T) {
	dsn := testenv.Postgres(t)
	ctx := context.Background()
	alt := "postgresql" + strings.TrimPrefix(dsn, "postgres")
	for _, d := range []string{dsn, alt} {
		st, err := all.Open(ctx, d)
		if err != nil {
			t.Fatalf("all.Open(%s): %v", stores.Redact(d), err)
		}
		if err := st.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		st.Close()
	}
}

// TestSchemaParameter puts the tables into a schema named by the DSN, which
// the store creates.
func TestSchemaParameter(t *testing.T) {
	dsn := testenv.Postgres(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	search := u.Query().Get("search_path")
	q := u.Query()
	q.Del("search_path")
	q.Set("schema", search+"_named")
	u.RawQuery = q.Encode()
	ctx := context.Background()
	st, err := postgres.Open(ctx, u.String())
	if err != nil {
		t.Fatalf("Open with schema: %v", err)
	}
	t.Cleanup(func() {
		st.Pool().Exec(context.Background(), `DROP SCHEMA `+pgx.Identifier{search + "_named"}.Sanitize()+` CASCADE`) //nolint:errcheck
		st.Close()
	})
	if st.Schema() != search+"_named" {
		t.Fatalf("Schema() = %q", st.Schema())
	}
	if _, err := st.Apply(ctx, []stores.Write{{Entity: "t", Key: "k", Client: "c", Version: 1, Data: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 't'`, search+"_named").Scan(&n); err != nil || n != 1 {
		t.Fatalf("table t in the named schema: %d, %v", n, err)
	}
}

func TestSchemaMismatch(t *testing.T) {
	cols := `client text NOT NULL, version bigint NOT NULL, deleted boolean NOT NULL, data jsonb, updated_at timestamptz NOT NULL`
	cases := []struct {
		name, ddl, column string
	}{
		{"missing column", `CREATE TABLE t (key text COLLATE "C" PRIMARY KEY, client text NOT NULL, version bigint NOT NULL, deleted boolean NOT NULL, updated_at timestamptz NOT NULL)`, "data"},
		{"mistyped column", `CREATE TABLE t (key text COLLATE "C" PRIMARY KEY, client text NOT NULL, version integer NOT NULL, deleted boolean NOT NULL, data jsonb, updated_at timestamptz NOT NULL)`, "version"},
		{"json instead of jsonb", `CREATE TABLE t (key text COLLATE "C" PRIMARY KEY, client text NOT NULL, version bigint NOT NULL, deleted boolean NOT NULL, data json, updated_at timestamptz NOT NULL)`, "data"},
		{"wrong primary key", `CREATE TABLE t (id serial PRIMARY KEY, key text COLLATE "C" NOT NULL, ` + cols + `)`, "key"},
		{"composite primary key", `CREATE TABLE t (key text COLLATE "C", ` + cols + `, PRIMARY KEY (key, client))`, "key"},
		{"locale collation", `CREATE TABLE t (key text COLLATE "en-x-icu" PRIMARY KEY, ` + cols + `)`, "key"},
		{"required extra column", `CREATE TABLE t (key text COLLATE "C" PRIMARY KEY, ` + cols + `, owner text NOT NULL)`, "owner"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			st, _ := openFresh(t)
			ctx := context.Background()
			if _, err := st.Pool().Exec(ctx, c.ddl); err != nil {
				if c.name == "locale collation" {
					t.Logf("server has no ICU collation (%v); using a libc locale", err)
					if _, err = st.Pool().Exec(ctx, `CREATE TABLE t (key text COLLATE "en_US" PRIMARY KEY, `+cols+`)`); err != nil {
						t.Fatalf("create table with a locale collation: %v", err)
					}
				} else {
					t.Fatalf("create table: %v", err)
				}
			}
			_, err := st.Apply(ctx, []stores.Write{{Entity: "t", Key: "k", Client: "c", Version: 1, Data: []byte(`{}`)}})
			wantMismatch(t, "Apply", err, c.column)
			_, err = st.Get(ctx, "t", "k")
			wantMismatch(t, "Get", err, c.column)
			_, err = st.Scan(ctx, "t", stores.Range{})
			wantMismatch(t, "Scan", err, c.column)
			_, err = st.Checksum(ctx, "t", stores.Range{})
			wantMismatch(t, "Checksum", err, c.column)
		})
	}
}

func wantMismatch(t *testing.T, op string, err error, column string) {
	t.Helper()
	if !errors.Is(err, stores.ErrSchemaMismatch) {
		t.Fatalf("%s on a wrongly shaped table: %v, want ErrSchemaMismatch", op, err)
	}
	if !strings.Contains(err.Error(), ".t, column "+column+":") {
		t.Fatalf("%s: error %q does not name table t and column %s", op, err, column)
	}
}

// TestRejectsWhatPostgresCannotKeep checks that documents and text jsonb
// or text columns refuse fail before the transaction, as *RejectError.
func TestRejectsWhatPostgresCannotKeep(t *testing.T) {
	st, _ := openFresh(t)
	ctx := context.Background()
	ok := stores.Write{Entity: "t", Key: "fine", Client: "c", Version: 1, Data: []byte(`{}`), EventID: "ev-ok"}
	for _, bad := range []stores.Write{
		{Entity: "t", Key: "k", Client: "c", Version: 1, Data: []byte(`{"s":"a\u0000b"}`)},
		{Entity: "t", Key: "k", Client: "c", Version: 1, Data: []byte(`{"s":"\ud800"}`)},
		{Entity: "t", Key: "k", Client: "c", Version: 1, Data: []byte(`{"s":"\udc00x"}`)},
		{Entity: "t", Key: "k", Client: "c", Version: 1, Data: []byte(`{"s":"\ud800\u0041"}`)},
		{Entity: "t", Key: "a\x00b", Client: "c", Version: 1, Data: []byte(`{}`)},
		{Entity: "t", Key: "k", Client: "\xff", Version: 1, Data: []byte(`{}`)},
		{Entity: "t", Key: "k", Client: "c", Version: 1, Data: []byte("{\"s\":\"\xff\"}")},
		{Entity: "switchyard_ledger", Key: "k", Client: "c", Version: 1, Data: []byte(`{}`)},
	} {
		_, err := st.Apply(ctx, []stores.Write{ok, bad})
		var rej *stores.RejectError
		if !errors.As(err, &rej) || rej.Index != 1 {
			t.Fatalf("Apply(%q/%q %s): %v, want a *RejectError for write 1", bad.Entity, bad.Key, bad.Data, err)
		}
	}
	// Escaped backslashes before a u, and valid surrogate pairs, are fine.
	good := stores.Write{Entity: "t", Key: "k", Client: "c", Version: 1, Data: []byte(`{"s":"\\u0000 \ud83d\ude00 \u00e9"}`)}
	if _, err := st.Apply(ctx, []stores.Write{ok, good}); err != nil {
		t.Fatalf("Apply of storable escapes: %v", err)
	}
	rec, err := st.Get(ctx, "t", "k")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := stores.Canonical(good.Data)
	got, _ := stores.Canonical(rec.Data)
	if string(got) != string(want) {
		t.Fatalf("stored %s, want %s", got, want)
	}
}

// TestLargeIntegers keeps integers beyond 2^53 exactly (jsonb numeric), and
// versions up to the int64 maximum.
func TestLargeIntegers(t *testing.T) {
	st, _ := openFresh(t)
	ctx := context.Background()
	doc := `{"big":9223372036854775807,"neg":-9223372036854775808,"huge":123456789012345678901234567890,"exact":0.1000000000000000000001}`
	w := stores.Write{Entity: "t", Key: "k", Client: "c", Version: 1<<63 - 1, Data: []byte(doc)}
	if _, err := st.Apply(ctx, []stores.Write{w}); err != nil {
		t.Fatal(err)
	}
	rec, err := st.Get(ctx, "t", "k")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := stores.Canonical([]byte(doc))
	got, _ := stores.Canonical(rec.Data)
	if rec.Version != 1<<63-1 || string(got) != string(want) {
		t.Fatalf("Get = version %d data %s, want %s", rec.Version, got, want)
	}
	for _, s := range []string{"9223372036854775807", "-9223372036854775808", "123456789012345678901234567890"} {
		if !strings.Contains(string(rec.Data), s) {
			t.Fatalf("stored document %s lost the digits of %s", rec.Data, s)
		}
	}
}

// TestConcurrentTableCreation opens several stores on one schema and has
// them create the same new tables at the same moment: none may fail.
func TestConcurrentTableCreation(t *testing.T) {
	_, dsn := openFresh(t)
	ctx := context.Background()
	const workers = 6
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := make(chan struct{})
	for i := range workers {
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		wg.Go(func() {
			<-start
			for _, entity := range []string{"race_a", "race_b", "race_c"} {
				w := stores.Write{Entity: entity, Key: "k", Client: "c", Version: int64(i + 1), Data: []byte(`{}`)}
				if _, err := st.Apply(ctx, []stores.Write{w}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Apply creating tables: %v", err)
	}
}

// TestUnreachableIsTransient checks that a refused connection is transient,
// so workers wait for the server instead of giving up.
func TestUnreachableIsTransient(t *testing.T) {
	port := testenv.FreePort(t)
	dsn := "postgres://postgres@127.0.0.1:" + strconv.Itoa(port) + "/test?sslmode=disable&connect_timeout=2"
	_, err := postgres.Open(context.Background(), dsn)
	if !errors.Is(err, stores.ErrTransient) {
		t.Fatalf("Open on a closed port: %v, want ErrTransient", err)
	}
}

// TestServerErrorIsTransient terminates the store's connections from the
// server side; the next Apply either succeeds on a fresh connection or fails
// transient, never with a permanent error, and a retry succeeds.
func TestServerErrorIsTransient(t *testing.T) {
	dsn := testenv.Postgres(t)
	app := "switchyard_test_" + strconv.Itoa(testenv.FreePort(t))
	st, err := postgres.Open(context.Background(), dsn+"&application_name="+app)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	w := stores.Write{Entity: "t", Key: "k", Client: "c", Version: 1, Data: []byte(`{}`)}
	if _, err := st.Apply(ctx, []stores.Write{w}); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var killed int
	if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&killed); err != nil || killed == 0 {
		t.Fatalf("terminate the store's connections: %d, %v", killed, err)
	}
	w.Version = 2
	var lastErr error
	// Every pooled connection may be dead: each failed attempt discards one.
	for range 10 {
		_, lastErr = st.Apply(ctx, []stores.Write{w})
		if lastErr == nil {
			break
		}
		if !errors.Is(lastErr, stores.ErrTransient) {
			t.Fatalf("Apply after the server dropped the connection: %v, want success or ErrTransient", lastErr)
		}
	}
	if lastErr != nil {
		t.Fatalf("Apply kept failing: %v", lastErr)
	}
	rec, err := st.Get(ctx, "t", "k")
	if err != nil || rec.Version != 2 {
		t.Fatalf("Get = %+v, %v", rec, err)
	}
}

// TestApplyIsAtomic makes the last statement of an Apply fail on the server
// and checks that the earlier statements and the ledger entries of the call
// were rolled back with it.
func TestApplyIsAtomic(t *testing.T) {
	st, _ := openFresh(t)
	ctx := context.Background()
	if _, err := st.Pool().Exec(ctx, `CREATE TABLE zz (key text COLLATE "C" PRIMARY KEY, client text NOT NULL,
  version bigint NOT NULL CHECK (version < 100), deleted boolean NOT NULL, data jsonb, updated_at timestamptz NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	writes := []stores.Write{
		{Entity: "aa", Key: "k", Client: "c", Version: 1, Data: []byte(`{}`), EventID: "ev-aa"},
		{Entity: "zz", Key: "k", Client: "c", Version: 500, Data: []byte(`{}`), EventID: "ev-zz"},
	}
	if _, err := st.Apply(ctx, writes); err == nil {
		t.Fatal("Apply violating a CHECK constraint succeeded")
	} else if errors.Is(err, stores.ErrTransient) || errors.Is(err, stores.ErrRejected) {
		t.Fatalf("a constraint violation is neither transient nor a rejection: %v", err)
	}
	if _, err := st.Get(ctx, "aa", "k"); !errors.Is(err, stores.ErrNotFound) {
		t.Fatalf("the failed call left aa/k behind: %v", err)
	}
	if _, err := st.Pool().Exec(ctx, `ALTER TABLE zz DROP CONSTRAINT zz_version_check`); err != nil {
		t.Fatal(err)
	}
	res, err := st.Apply(ctx, writes)
	if err != nil || res != (stores.ApplyResult{Applied: 2}) {
		t.Fatalf("Apply after the fix = %+v, %v; want both applied (no ledger entry left by the failed call)", res, err)
	}
}

// TestBackfillFallsBackOnConflict makes the COPY path of a pure backfill meet
// existing keys (as when a live write commits between the lookup and the
// COPY): the call must still insert only into empty keys, through the
// INSERT ... ON CONFLICT path.
func TestBackfillFallsBackOnConflict(t *testing.T) {
	st, _ := openFresh(t)
	ctx := context.Background()
	if _, err := st.Apply(ctx, []stores.Write{
		{Entity: "t", Key: "b", Client: "c", Version: 5, Data: []byte(`{"live":true}`)},
		{Entity: "t", Key: "d", Client: "c", Version: 6, Deleted: true},
	}); err != nil {
		t.Fatal(err)
	}
	restore := postgres.SetLookupExisting(false)
	defer restore()
	var fill []stores.Write
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		fill = append(fill, stores.Write{Entity: "t", Key: k, Client: "c", Version: 9, Data: []byte(`{"backfill":true}`), IfAbsent: true})
	}
	res, err := st.Apply(ctx, fill)
	if err != nil || res != (stores.ApplyResult{Applied: 3, Skipped: 2}) {
		t.Fatalf("backfill meeting existing keys = %+v, %v; want 3 applied, 2 skipped", res, err)
	}
	recs, err := st.Scan(ctx, "t", stores.Range{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "backfill", "b": "live", "c": "backfill", "d": "tombstone", "e": "backfill"}
	for _, r := range recs {
		got := "backfill"
		switch {
		case r.Deleted:
			got = "tombstone"
		case strings.Contains(string(r.Data), "live"):
			got = "live"
		}
		if want[r.Key] != got {
			t.Fatalf("key %s holds %s, want %s", r.Key, got, want[r.Key])
		}
		delete(want, r.Key)
	}
	if len(want) != 0 {
		t.Fatalf("keys missing: %v", want)
	}
}

// TestEntitiesSkipsOtherTables keeps the ledger, application tables, views
// and tables that merely share a few column names out of Entities.
func TestEntitiesSkipsOtherTables(t *testing.T) {
	st, _ := openFresh(t)
	ctx := context.Background()
	if _, err := st.Apply(ctx, []stores.Write{{Entity: "task", Key: "k", Client: "c", Version: 1, Data: []byte(`{}`), EventID: "e"}}); err != nil {
		t.Fatal(err)
	}
	for _, ddl := range []string{
		`CREATE TABLE notes (id serial PRIMARY KEY, body text)`,
		`CREATE TABLE half (key text PRIMARY KEY, client text, version bigint)`,
		`CREATE VIEW task_view AS SELECT * FROM task`,
	} {
		if _, err := st.Pool().Exec(ctx, ddl); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.Entities(ctx)
	if err != nil || len(got) != 1 || got[0] != "task" {
		t.Fatalf("Entities = %q, %v; want [task]", got, err)
	}
}
