package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/subscriptions"
)

// TestBackfillAndVerifyReadRethinkDBReadOnly runs backfill and verify with a
// RethinkDB source whose user may only read the application's database, as
// an operator hands it to the migration: both succeed, and the database
// still holds only the application's table.
func TestBackfillAndVerifyReadRethinkDBReadOnly(t *testing.T) {
	addr, database := testenv.RethinkDB(t)
	admin := testenv.RethinkDBAdmin(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := r.RunOpts{Context: ctx}
	if _, err := r.DBCreate(database).RunWrite(admin, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := r.DB(database).TableCreate("tasks").RunWrite(admin, opts); err != nil {
		t.Fatal(err)
	}
	docs := make([]any, 300)
	for i := range docs {
		docs[i] = map[string]any{"id": fmt.Sprintf("k%04d", i), "client": "acme", "title": fmt.Sprint("task ", i), "version": i % 4}
	}
	if _, err := r.DB(database).Table("tasks").Insert(docs).RunWrite(admin, opts); err != nil {
		t.Fatal(err)
	}
	source := "rethinkdb://" + testenv.RethinkDBReader(t, admin, database).String() + "@" + addr + "/" + database

	srv := testenv.NATS(t)
	_, js := srv.Connect()
	if _, err := subscriptions.EnsureStream(ctx, js, subscriptions.StreamSpec{Name: "EVENTS", Subjects: []string{"events.>"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"legacy", "target"} {
		if _, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{Stream: "EVENTS", Name: c, Role: c, Start: subscriptions.StartPosition{Kind: subscriptions.StartNew}}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	common := []string{"--nats", srv.URL, "--source", source, "--target", "sqlite:" + filepath.Join(dir, "target.db"), "--entities", "tasks"}
	code, out, errOut := runCmd(t, append([]string{"backfill", "--chunk", "100"}, common...)...)
	if code != 0 || !strings.Contains(out, "300 inserted") {
		t.Fatalf("backfill from a read-only RethinkDB source: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCmd(t, append([]string{"verify", "--chunk", "50", "--out", filepath.Join(dir, "findings.jsonl")}, common...)...)
	if code != 0 || !strings.Contains(out, "CLEAN") {
		t.Fatalf("verify against a read-only RethinkDB source: exit %d\n%s%s", code, out, errOut)
	}
	if got := testenv.RethinkDBTables(t, admin, database); !slices.Equal(got, []string{"tasks"}) {
		t.Fatalf("the legacy database holds the tables %v after backfill and verify, want only the application's [tasks]", got)
	}
}
