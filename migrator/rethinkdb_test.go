package migrator

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	"github.com/switchyard/switchyard/stores/rethinkdb"
	"github.com/switchyard/switchyard/subscriptions"
)

// TestNonStringKeysStopBackfillAndVerify: a legacy RethinkDB table whose
// documents have numeric keys beside string ones stops the backfill and
// verify with the error naming the table, the count and a key, instead of
// copying or comparing only the string-keyed documents.
func TestNonStringKeysStopBackfillAndVerify(t *testing.T) {
	addr, database := testenv.RethinkDB(t)
	admin := testenv.RethinkDBAdmin(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := r.DBCreate(database).RunWrite(admin); err != nil {
		t.Fatal(err)
	}
	if _, err := r.DB(database).TableCreate("tasks").RunWrite(admin); err != nil {
		t.Fatal(err)
	}
	if _, err := r.DB(database).Table("tasks").Insert([]any{
		map[string]any{"id": "a", "client": "c1"}, map[string]any{"id": 17, "client": "c1"}, map[string]any{"id": 18.5, "client": "c1"},
	}).RunWrite(admin); err != nil {
		t.Fatal(err)
	}
	src, err := all.OpenRole(ctx, "rethinkdb://"+addr+"/"+database, stores.RoleSource)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, _ := sqliteStore(t, "target")

	e := newEnv(t)
	e.consumer(legacyName, "legacy", subscriptions.StartAll)
	e.consumer(targetName, "target", subscriptions.StartNew)
	wantNonString := func(what string, err error) {
		t.Helper()
		var nonString *rethinkdb.NonStringKeysError
		if !errors.As(err, &nonString) || nonString.Table != "tasks" || nonString.Count != 2 {
			t.Fatalf("%s = %v, want a NonStringKeysError counting 2 keys of tasks", what, err)
		}
	}
	_, err = Verify(ctx, e.verifyConfig(src, dst, &bytes.Buffer{}, "tasks"))
	wantNonString("Verify", err)
	_, err = Backfill(ctx, e.backfillConfig(src, dst, "tasks"))
	wantNonString("Backfill", err)
	if recs, err := dst.Scan(ctx, "tasks", stores.Range{}); err != nil || len(recs) != 0 {
		t.Fatalf("the target holds %d rows (%v); the backfill should have stopped before copying", len(recs), err)
	}
}
