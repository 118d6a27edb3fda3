package main

import (
	"context"
	"strings"
	"testing"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores/rethinkdb"
	"github.com/switchyard/switchyard/subscriptions"
)

// TestPreflightRethinkDBToPostgres runs switchyard preflight as a migration
// from a real RethinkDB to PostgreSQL would: it passes on a clean setup and
// fails, naming the reason, on each planted problem.
func TestPreflightRethinkDBToPostgres(t *testing.T) {
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	ctx := context.Background()
	if _, err := subscriptions.Ensure(ctx, js, subscriptions.StreamSpec{Name: "EVENTS", Subjects: []string{"events.>"}, Memory: true},
		subscriptions.ConsumerSpec{Stream: "EVENTS", Name: "legacy", Role: "legacy"}); err != nil {
		t.Fatal(err)
	}
	// The application's documents: its own version and deleted fields
	// (an optimistic-lock counter, a soft-delete flag) and non-ASCII keys
	// are part of a clean setup.
	clean := []map[string]any{
		{"id": "t-1", "client": "acme", "title": "Ship it", "version": 7, "deleted": false},
		{"id": "t-2 éé", "client": "acme", "title": "Soft-deleted", "version": 3, "deleted": true},
		{"id": "t-3 鍵", "client": "globex", "title": "Plain"},
	}
	cases := []struct {
		name string
		// plant adds documents to the clean ones.
		plant []map[string]any
		// readOnlyTarget connects to the target as a role that may only read.
		readOnlyTarget bool
		// want: a failing row of this check (any check when empty) whose
		// line names every reason.
		check   string
		reasons []string
	}{
		{name: "clean"},
		{name: "read-only target credentials", readOnlyTarget: true, check: "permissions", reasons: []string{"lacks CREATE on schema"}},
		// The adapter refuses such a source at open (row "open") and its
		// SampleSource reports it (rows scoped to the entity): either way
		// a failing row names the field.
		{name: "bookkeeping field collision", plant: []map[string]any{
			{"id": "t-9", "client": "acme", rethinkdb.DefaultVersionField: 4, rethinkdb.DefaultDeletedField: true},
		}, reasons: []string{rethinkdb.DefaultVersionField}},
		{name: "non-string key", plant: []map[string]any{{"id": 42, "client": "acme"}}, reasons: []string{"string"}},
		// RethinkDB refuses primary keys above 127 bytes, so a legacy
		// RethinkDB cannot hold a 300-byte key; a 300-byte client breaks the
		// same identifier rule (a 300-byte key is planted in SQLite and
		// PostgreSQL sources in the preflight package's tests).
		{name: "300-byte client", plant: []map[string]any{{"id": "t-8", "client": strings.Repeat("c", 300)}},
			check: "sample_keys", reasons: []string{"is 300 bytes, above the limit of 255"}},
		{name: "trailing-space key", plant: []map[string]any{{"id": "t-7 ", "client": "acme"}},
			check: "sample_keys", reasons: []string{"ends with a space"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr, db := testenv.RethinkDB(t)
			session := testenv.RethinkDBAdmin(t, addr)
			if err := r.DBCreate(db).Exec(session); err != nil {
				t.Fatal(err)
			}
			if err := r.DB(db).TableCreate("task").Exec(session); err != nil {
				t.Fatal(err)
			}
			if _, err := r.DB(db).Table("task").Insert(append(append([]map[string]any{}, clean...), c.plant...)).RunWrite(session); err != nil {
				t.Fatal(err)
			}
			target := testenv.Postgres(t)
			if c.readOnlyTarget {
				target = testenv.PostgresReadOnly(t, target)
			}
			code, out, errOut := runCmd(t, "preflight", "--nats", srv.URL, "--consumer", "legacy,target",
				"--source", "rethinkdb://"+addr+"/"+db, "--target", target)
			if c.name == "clean" {
				if code != 0 {
					t.Fatalf("clean setup: exit %d\n%s%s", code, out, errOut)
				}
				return
			}
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
			}
			for _, line := range strings.Split(out, "\n") {
				fields := strings.Fields(line)
				if len(fields) < 2 || fields[0] != "FAIL" || (c.check != "" && fields[1] != c.check) {
					continue
				}
				named := true
				for _, reason := range c.reasons {
					named = named && strings.Contains(strings.ToLower(line), strings.ToLower(reason))
				}
				if named {
					t.Logf("%s: %s", c.name, line)
					return
				}
			}
			t.Fatalf("no failing %s row names %q:\n%s", c.check, c.reasons, out)
		})
	}
}
