package preflight_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchyard/switchyard/preflight"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	"github.com/switchyard/switchyard/stores/sqlite"
)

// faultyStore is a SQLite store with one contract violation, so each
// self-test step is seen to fail on the store it exists to catch.
type faultyStore struct {
	*sqlite.Store
	fault string
	calls atomic.Int64
}

// withFaulty is the adapter table of every store and of faulty:<fault>:<path>.
var withFaulty = append(stores.Adapters{{Scheme: "faulty", Open: func(ctx context.Context, dsn string, _ stores.Role) (stores.Store, error) {
	fault, path, _ := strings.Cut(strings.TrimPrefix(dsn, "faulty:"), ":")
	st, err := sqlite.Open(ctx, "sqlite:"+path)
	if err != nil {
		return nil, err
	}
	return &faultyStore{Store: st, fault: fault}, nil
}}}, all.Adapters...)

func (f *faultyStore) Apply(ctx context.Context, writes []stores.Write) (stores.ApplyResult, error) {
	call := f.calls.Add(1)
	ws := append([]stores.Write(nil), writes...)
	for i := range ws {
		w := &ws[i]
		switch f.fault {
		case "merge-trailing-space": // accepts the value and stores it trimmed
			w.Key, w.Client, w.EventID = strings.TrimRight(w.Key, " "), strings.TrimRight(w.Client, " "), strings.TrimRight(w.EventID, " ")
		case "truncate-keys":
			if len(w.Key) > 200 {
				w.Key = w.Key[:200]
			}
		case "forget-ledger":
			w.EventID = ""
		case "ignore-fence": // the latest call always wins
			w.Version = call
		case "upsert-deletes": // a delete that removes nothing
			w.Deleted, w.Data = false, []byte(`{}`)
		case "overwrite-if-absent":
			w.IfAbsent = false
			w.Version += 1000
		case "cancel":
			if w.Key == "fence" {
				(*cancelRun.Load())()
			}
		case "cut-large":
			if len(w.Data) > 1<<16 {
				w.Data = []byte(`{"cut":true}`)
			}
		}
	}
	return f.Store.Apply(ctx, ws)
}

func (f *faultyStore) Checksum(ctx context.Context, entity string, r stores.Range) (stores.Checksum, error) {
	sum, err := f.Store.Checksum(ctx, entity, r)
	if f.fault == "checksum" && sum.Count > 0 {
		sum.Digest = strings.Repeat("0", len(sum.Digest))
	}
	return sum, err
}

var errDropRefused = errors.New("drop refused")

func (f *faultyStore) DropScratch(ctx context.Context, entity string) error {
	if f.fault == "drop-fails" {
		return errDropRefused
	}
	return f.Store.DropScratch(ctx, entity)
}

// TestSelfTestCatchesEachViolation runs the self-test on stores that break
// one rule each: the step that exists for the rule fails, naming it, and the
// scratch entity is dropped all the same.
func TestSelfTestCatchesEachViolation(t *testing.T) {
	cases := []struct{ fault, step, reason string }{
		{"merge-trailing-space", "selftest_trailing_space", "ending in a space was accepted"},
		{"truncate-keys", "selftest_identifiers", "record not found"},
		{"forget-ledger", "selftest_ledger", "duplicates 0"},
		{"ignore-fence", "selftest_fence", "stale version 1: applied 1"},
		{"upsert-deletes", "selftest_tombstone", "deleted=false, want true"},
		{"overwrite-if-absent", "selftest_if_absent", "insert-only writes: applied 3"},
		{"cut-large", "selftest_large_document", "read back different"},
		{"checksum", "selftest_checksum", "SQLite"},
		{"drop-fails", "selftest_cleanup", "drop refused"},
	}
	for _, c := range cases {
		t.Run(c.fault, func(t *testing.T) {
			dsn, raw := sqliteFile(t, "target.db")
			path := strings.TrimPrefix(dsn, "sqlite:")
			rep := run(t, preflight.Config{Stores: []preflight.StoreSpec{{DSN: "faulty:" + c.fault + ":" + path, Role: stores.RoleTarget}}, Adapters: withFaulty})
			want(t, rep, c.step, "", stores.CheckFail, c.reason)
			if rep.Passed || rep.Failures == 0 {
				t.Fatalf("report passed with a failing step:\n%s", table(rep))
			}
			if c.fault == "drop-fails" {
				return
			}
			want(t, rep, "selftest_cleanup", "", stores.CheckPass)
			assertNoScratch(t, raw)
		})
	}
}

// cancelRun is cancelled by the "cancel" fault during the fence step.
var cancelRun atomic.Pointer[context.CancelFunc]

// TestSelfTestCleansUpOnCancel cancels the caller's context during a step:
// the self-test stops, and the scratch entity is dropped all the same.
func TestSelfTestCleansUpOnCancel(t *testing.T) {
	dsn, raw := sqliteFile(t, "target.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelRun.Store(&cancel)
	path := strings.TrimPrefix(dsn, "sqlite:")
	rep, err := preflight.Run(ctx, preflight.Config{Stores: []preflight.StoreSpec{{DSN: "faulty:cancel:" + path, Role: stores.RoleTarget}}, Adapters: withFaulty})
	if err != nil {
		t.Fatal(err)
	}
	want(t, rep, "selftest_cleanup", "", stores.CheckPass)
	if len(find(rep, "selftest_checksum", "")) != 0 {
		t.Fatalf("the self-test went on after the context ended:\n%s", table(rep))
	}
	assertNoScratch(t, raw)
}

func assertNoScratch(t *testing.T, raw *sql.DB) {
	t.Helper()
	var tables, ledger int
	if err := raw.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name LIKE 'switchyard_preflight_%'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRow(`SELECT count(*) FROM switchyard_ledger`).Scan(&ledger); err != nil {
		t.Fatal(err)
	}
	if tables != 0 || ledger != 0 {
		t.Fatalf("the self-test left %d scratch tables or indexes and %d ledger entries behind", tables, ledger)
	}
}
