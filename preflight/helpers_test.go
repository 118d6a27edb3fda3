package preflight_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/preflight"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
)

// run runs preflight and fails the test on a configuration error.
func run(t *testing.T, cfg preflight.Config) preflight.Report {
	t.Helper()
	rep, err := preflight.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep
}

// find returns the rows of one check (and scope, when given).
func find(rep preflight.Report, check, scope string) []preflight.Result {
	var out []preflight.Result
	for _, r := range rep.Results {
		if r.Check == check && (scope == "" || r.Scope == scope) {
			out = append(out, r)
		}
	}
	return out
}

// want asserts that a check has one row with the status, whose detail
// names every given reason.
func want(t *testing.T, rep preflight.Report, check, scope string, status stores.CheckStatus, reasons ...string) preflight.Result {
	t.Helper()
	rows := find(rep, check, scope)
	if len(rows) != 1 {
		t.Fatalf("check %s (scope %q): %d rows, want 1\n%s", check, scope, len(rows), table(rep))
	}
	r := rows[0]
	if r.Status != status {
		t.Fatalf("check %s (scope %q) = %s (%s), want %s\n%s", check, scope, r.Status, r.Detail, status, table(rep))
	}
	for _, reason := range reasons {
		if !strings.Contains(r.Detail, reason) {
			t.Fatalf("check %s detail %q does not name %q", check, r.Detail, reason)
		}
	}
	return r
}

// allPass asserts that no check failed or warned.
func allPass(t *testing.T, rep preflight.Report) {
	t.Helper()
	if !rep.Passed || rep.Warnings > 0 {
		t.Fatalf("want every check to pass:\n%s", table(rep))
	}
}

func table(rep preflight.Report) string {
	var b strings.Builder
	_ = rep.WriteTable(&b)
	return b.String()
}

// sqliteFile returns the DSN of a SQLite file in a test folder and a raw
// connection to it, for planting what the adapter itself would refuse.
func sqliteFile(t *testing.T, name string) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	dsn := "sqlite:" + path
	st, err := all.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return dsn, raw
}
