package rethinkdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
)

// These tests run against the real server, as the legacy application
// leaves its database: documents written with the application's own
// driver, not through Switchyard.

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// legacyDB creates database with one table per entry of docs, filled with
// those documents as the application would write them.
func legacyDB(t *testing.T, admin *r.Session, database string, docs map[string][]map[string]any) {
	t.Helper()
	ctx := testCtx(t)
	opts := r.RunOpts{Context: ctx}
	if _, err := r.DBCreate(database).RunWrite(admin, opts); err != nil {
		t.Fatal(err)
	}
	for table, rows := range docs {
		if _, err := r.DB(database).TableCreate(table).RunWrite(admin, opts); err != nil {
			t.Fatal(err)
		}
		if len(rows) > 0 {
			if _, err := r.DB(database).Table(table).Insert(rows).RunWrite(admin, opts); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func tableNames(t *testing.T, admin *r.Session, database string) []string {
	t.Helper()
	var names []string
	if err := r.DB(database).TableList().ReadAll(&names, admin, r.RunOpts{Context: testCtx(t)}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

// readOnlyUser creates a user that may only read database and returns its
// name and password; the user is deleted when the test ends.
func readOnlyUser(t *testing.T, admin *r.Session, database string) (string, string) {
	t.Helper()
	ctx := testCtx(t)
	user, password := database+"_reader", "pw-"+database
	users := r.DB("rethinkdb").Table("users")
	if _, err := users.Insert(map[string]any{"id": user, "password": password}).RunWrite(admin, r.RunOpts{Context: ctx}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = users.Get(user).Delete().RunWrite(admin, r.RunOpts{Context: context.Background()})
	})
	if _, err := r.DB(database).Grant(user, map[string]any{"read": true, "write": false, "config": false}).Run(admin, r.RunOpts{Context: ctx}); err != nil {
		t.Fatal(err)
	}
	return user, password
}

// TestSourceWritesNothingAndWorksReadOnly opens a legacy database as a
// source with a user that may only read it: opening, Get, Scan, Checksum
// and Entities work, nothing is created (no database, ledger or index),
// and writes fail with ErrReadOnly before reaching the server.
func TestSourceWritesNothingAndWorksReadOnly(t *testing.T) {
	addr, database := testenv.RethinkDB(t)
	admin := testenv.RethinkDBAdmin(t, addr)
	legacyDB(t, admin, database, map[string][]map[string]any{
		"task": {{"id": "a", "client": "acme", "title": "one"}, {"id": "b", "client": "acme", "title": "two"}},
	})
	user, password := readOnlyUser(t, admin, database)
	dsn := fmt.Sprintf("rethinkdb://%s:%s@%s/%s", user, password, addr, database)
	ctx := testCtx(t)

	// The writer needs more than read permission: it fails, naming config.
	if st, err := OpenRole(ctx, dsn, stores.RoleTarget); err == nil {
		st.Close()
		t.Fatal("a read-only user opened the store as a writer")
	}
	st, err := OpenRole(ctx, dsn, stores.RoleSource)
	if err != nil {
		t.Fatalf("OpenRole(source) as a read-only user: %v", err)
	}
	defer st.Close()
	recs, err := st.Scan(ctx, "task", stores.Range{})
	if err != nil || len(recs) != 2 || recs[1].Key != "b" {
		t.Fatalf("Scan = %+v, %v", recs, err)
	}
	if _, err := st.Checksum(ctx, "task", stores.Range{}); err != nil {
		t.Fatalf("Checksum: %v", err)
	}
	if rec, err := st.Get(ctx, "task", "a"); err != nil || rec.Client != "acme" {
		t.Fatalf("Get = %+v, %v", rec, err)
	}
	if ents, err := st.Entities(ctx); err != nil || strings.Join(ents, ",") != "task" {
		t.Fatalf("Entities = %v, %v", ents, err)
	}
	if _, err := st.Apply(ctx, []stores.Write{{Entity: "task", Key: "c", Client: "acme", Version: 1, Data: []byte(`{}`)}}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Apply on a source = %v, want ErrReadOnly", err)
	}
	if got := tableNames(t, admin, database); strings.Join(got, ",") != "task" {
		t.Fatalf("tables after using the source: %v, want only the application's", got)
	}

	// A source never creates its database either.
	missing := database + "_missing"
	if _, err := OpenRole(ctx, "rethinkdb://"+addr+"/"+missing, stores.RoleSource); !errors.Is(err, ErrNoDatabase) {
		t.Fatalf("OpenRole(source) of a missing database = %v, want ErrNoDatabase", err)
	}
	var exists bool
	if err := r.DBList().Contains(missing).ReadOne(&exists, admin); err != nil || exists {
		t.Fatalf("the source created database %s (%v)", missing, err)
	}
}

// TestLegacyVersionAndDeletedAreData: documents with the application's own
// version counter and soft-delete flag migrate exactly, soft-deleted ones
// as live rows, through Scan, Get and Checksum.
func TestLegacyVersionAndDeletedAreData(t *testing.T) {
	addr, database := testenv.RethinkDB(t)
	admin := testenv.RethinkDBAdmin(t, addr)
	legacyDB(t, admin, database, map[string][]map[string]any{
		"task": {
			{"id": "a", "client": "acme", "version": 12, "deleted": false, "title": "live"},
			{"id": "b", "client": "acme", "version": 3, "deleted": true, "title": "soft-deleted"},
		},
	})
	ctx := testCtx(t)
	st, err := OpenRole(ctx, "rethinkdb://"+addr+"/"+database, stores.RoleSource)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.Scan(ctx, "task", stores.Range{})
	if err != nil || len(recs) != 2 {
		t.Fatalf("Scan = %+v, %v", recs, err)
	}
	want := map[string]string{
		"a": `{"client":"acme","deleted":false,"id":"a","title":"live","version":12}`,
		"b": `{"client":"acme","deleted":true,"id":"b","title":"soft-deleted","version":3}`,
	}
	var live []stores.Record
	for _, rec := range recs {
		got, _ := stores.Canonical(rec.Data)
		if rec.Deleted || rec.Version != 0 || string(got) != want[rec.Key] {
			t.Fatalf("record %s = deleted %v version %d data %s; want live, version 0, data %s", rec.Key, rec.Deleted, rec.Version, got, want[rec.Key])
		}
		live = append(live, rec)
	}
	sum, err := st.Checksum(ctx, "task", stores.Range{})
	wantSum, _ := stores.ChecksumRecords(live)
	if err != nil || !sum.Equal(wantSum) {
		t.Fatalf("Checksum = %+v, %v; want %+v (both documents live)", sum, err, wantSum)
	}
}

// TestSourceRefusesBookkeepingCollisions: legacy documents that already
// hold a bookkeeping field left at its default name make a source refuse
// to open, with a *CollisionError naming the table, the field and a key;
// naming the fields explicitly in the DSN opens it.
func TestSourceRefusesBookkeepingCollisions(t *testing.T) {
	addr, database := testenv.RethinkDB(t)
	admin := testenv.RethinkDBAdmin(t, addr)
	legacyDB(t, admin, database, map[string][]map[string]any{
		"clean": {{"id": "x", "version": 1}},
		"task":  {{"id": "a", "_switchyard_deleted": true}, {"id": "b"}},
	})
	ctx := testCtx(t)
	base := "rethinkdb://" + addr + "/" + database
	_, err := OpenRole(ctx, base, stores.RoleSource)
	var collision *CollisionError
	if !errors.As(err, &collision) || collision.Table != "task" || strings.Join(collision.Fields, ",") != "_switchyard_deleted" ||
		collision.Count != 1 || collision.Sampled != 2 || collision.SampleKey != "a" || !errors.Is(err, stores.ErrSchemaMismatch) {
		t.Fatalf("OpenRole(source) = %v, want a CollisionError for task/_switchyard_deleted, key a, 1 of 2", err)
	}
	st, err := OpenRole(ctx, base+"?deleted_field=_switchyard_deleted", stores.RoleSource)
	if err != nil {
		t.Fatalf("with the field named explicitly: %v", err)
	}
	defer st.Close()
	if rec, err := st.Get(ctx, "task", "a"); err != nil || !rec.Deleted {
		t.Fatalf("Get(a) = %+v, %v; want the tombstone the operator declared", rec, err)
	}
}

// TestNonStringKeysFailScans: documents keyed by numbers, booleans, arrays
// or times sort before every string, where no range scan reaches them; Scan
// and Checksum fail with a *NonStringKeysError counting them instead of
// skipping them, wherever the range starts.
func TestNonStringKeysFailScans(t *testing.T) {
	addr, database := testenv.RethinkDB(t)
	admin := testenv.RethinkDBAdmin(t, addr)
	legacyDB(t, admin, database, map[string][]map[string]any{
		"task": {{"id": "a"}, {"id": 42}, {"id": true}, {"id": []any{"x", 1}}},
	})
	ctx := testCtx(t)
	st, err := OpenRole(ctx, "rethinkdb://"+addr+"/"+database, stores.RoleSource)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	check := func(what string, err error) {
		t.Helper()
		var nonString *NonStringKeysError
		if !errors.As(err, &nonString) || nonString.Table != "task" || nonString.Count != 3 || nonString.SampleKey == nil || !errors.Is(err, stores.ErrSchemaMismatch) {
			t.Fatalf("%s = %v, want a NonStringKeysError counting 3 keys", what, err)
		}
		if !strings.Contains(err.Error(), "3 documents") {
			t.Fatalf("%s: message %q does not give the count", what, err)
		}
	}
	_, err = st.Scan(ctx, "task", stores.Range{})
	check("Scan", err)
	_, err = st.Scan(ctx, "task", stores.Range{After: "a", Limit: 10})
	check("Scan after a", err)
	_, err = st.Checksum(ctx, "task", stores.Range{})
	check("Checksum", err)
}

// TestFleetCreatesConcurrently: writers starting at once on a fresh
// database all open and apply, however their creations interleave, and
// the database then holds one ledger and one entity table with every
// write in them.
func TestFleetCreatesConcurrently(t *testing.T) {
	addr, database := testenv.RethinkDB(t)
	admin := testenv.RethinkDBAdmin(t, addr)
	const fleet = 6
	ctx := testCtx(t)
	errs := make(chan error, fleet)
	var wg sync.WaitGroup
	for i := range fleet {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := Open(ctx, "rethinkdb://"+addr+"/"+database+"?wait=30s")
			if err != nil {
				errs <- fmt.Errorf("worker %d: open: %w", i, err)
				return
			}
			defer st.Close()
			w := stores.Write{Entity: "task", Key: fmt.Sprintf("k%d", i), Client: "c", Version: 1, Data: json.RawMessage(`{}`), EventID: fmt.Sprintf("ev%d", i)}
			if _, err := st.Apply(ctx, []stores.Write{w}); err != nil {
				errs <- fmt.Errorf("worker %d: apply: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := tableNames(t, admin, database); strings.Join(got, ",") != "switchyard_ledger,task" {
		t.Fatalf("tables = %v", got)
	}
	var n int
	if err := r.DB(database).Table("task").Count().ReadOne(&n, admin); err != nil || n != fleet {
		t.Fatalf("task holds %d documents (%v), want %d", n, err, fleet)
	}
	// Whichever ledger copy a worker recorded its event in, the one left
	// holds them all.
	st, err := Open(ctx, "rethinkdb://"+addr+"/"+database)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ids := make([]string, fleet)
	for i := range ids {
		ids[i] = fmt.Sprintf("ev%d", i)
	}
	if seen, err := st.seenEventIDs(ctx, ids); err != nil || len(seen) != fleet {
		t.Fatalf("the ledger holds %d of the %d event ids (%v)", len(seen), fleet, err)
	}
}
