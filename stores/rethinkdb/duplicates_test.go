package rethinkdb

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
)

// These tests run against the real server: copies of one table name are
// what concurrent tableCreate calls leave, and only a server shows how
// queries behave then.

// openWriter opens a writer on a fresh database and returns it with the
// server's address, the database's name and an administrator session.
func openWriter(t *testing.T) (st *Store, addr, database string, admin *r.Session) {
	t.Helper()
	addr, database = testenv.RethinkDB(t)
	admin = testenv.RethinkDBAdmin(t, addr)
	st, err := Open(testCtx(t), "rethinkdb://"+addr+"/"+database)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st, addr, database, admin
}

func tableCopies(t *testing.T, admin *r.Session, database, table string) int {
	t.Helper()
	var n int
	err := r.DB("rethinkdb").Table("table_config").Filter(map[string]any{"db": database, "name": table}).Count().
		ReadOne(&n, admin, r.RunOpts{Context: testCtx(t)})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// createCopies makes the server hold at least two tables named table, the
// way a fleet does: by creating it from several connections at once,
// dropping every copy and trying again until two creations overlapped.
func createCopies(t *testing.T, addr, database, table string) {
	t.Helper()
	ctx := testCtx(t)
	const creators, attempts = 8, 40
	sessions := make([]*r.Session, creators)
	for i := range sessions {
		sessions[i] = testenv.RethinkDBAdmin(t, addr)
	}
	sys := r.DB("rethinkdb").Table("table_config").Filter(map[string]any{"db": database, "name": table})
	for range attempts {
		var wg sync.WaitGroup
		for _, s := range sessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Most creations fail with "already exists"; that is the point.
				_, _ = r.DB(database).TableCreate(table).RunWrite(s, r.RunOpts{Context: ctx})
			}()
		}
		wg.Wait()
		if tableCopies(t, sessions[0], database, table) >= 2 {
			return
		}
		if _, err := sys.Delete().RunWrite(sessions[0], r.RunOpts{Context: ctx}); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("%d rounds of %d concurrent tableCreate calls never left two tables named %s", attempts, creators, table)
}

func taskWrite(key string, version int64, event string) stores.Write {
	return stores.Write{Entity: "task", Key: key, Client: "c", Version: version,
		Data: json.RawMessage(fmt.Sprintf(`{"v":%d}`, version)), EventID: event}
}

// TestDuplicateTableIsMergedIntoTheKeptOne: a copy that holds documents,
// written before the other copy became visible, is merged by the writes'
// rule (the newer version wins, tombstones included) and by the ledger's,
// and dropped once empty. Nothing in it is lost.
func TestDuplicateTableIsMergedIntoTheKeptOne(t *testing.T) {
	st, _, database, admin := openWriter(t)
	ctx := testCtx(t)
	kept := []stores.Write{taskWrite("k1", 1, "ev-kept-1"), taskWrite("k2", 3, "ev-kept-2")}
	copied := []stores.Write{taskWrite("k1", 2, "ev-copy-1"), taskWrite("k2", 2, "ev-copy-2"), taskWrite("k3", 1, "ev-copy-3"),
		{Entity: "task", Key: "k4", Client: "c", Version: 5, Deleted: true, EventID: "ev-copy-4"}}
	for i := range copied {
		copied[i].Entity = "copy"
	}
	for _, ws := range [][]stores.Write{kept, copied} {
		if _, err := st.Apply(ctx, ws); err != nil {
			t.Fatalf("Apply: %v", err)
		}
	}
	db := r.DB(database)
	renamed := duplicateName("task", "0123abcd-ffff")
	if _, err := db.Table("copy").Config().Update(map[string]any{"name": renamed}).RunWrite(admin); err != nil {
		t.Fatal(err)
	}
	// A copy of the ledger holds an id the kept ledger lacks.
	if _, err := db.TableCreate("ledger_copy").RunWrite(admin); err != nil {
		t.Fatal(err)
	}
	row := map[string]any{ledgerKey: ledgerDigest("ev-only-in-copy"), ledgerIDField: "ev-only-in-copy", ledgerTimeField: r.Now()}
	if _, err := db.Table("ledger_copy").Insert(row).RunWrite(admin); err != nil {
		t.Fatal(err)
	}

	if err := st.drainDuplicate(ctx, "task", renamed); err != nil {
		t.Fatalf("drain task: %v", err)
	}
	if err := st.drainDuplicate(ctx, ledgerTable, "ledger_copy"); err != nil {
		t.Fatalf("drain ledger: %v", err)
	}

	if got := strings.Join(tableNames(t, admin, database), ","); got != "switchyard_ledger,task" {
		t.Fatalf("tables = %s, want the copies dropped", got)
	}
	want := map[string]struct {
		version int64
		deleted bool
	}{"k1": {2, false}, "k2": {3, false}, "k3": {1, false}, "k4": {5, true}}
	for key, w := range want {
		rec, err := st.Get(ctx, "task", key)
		if err != nil || rec.Version != w.version || rec.Deleted != w.deleted {
			t.Errorf("%s = version %d deleted %v (%v), want version %d deleted %v", key, rec.Version, rec.Deleted, err, w.version, w.deleted)
		}
	}
	seen, err := st.seenEventIDs(ctx, []string{"ev-only-in-copy", "ev-kept-1", "ev-copy-4"})
	if err != nil || len(seen) != 3 {
		t.Fatalf("ledger holds %v (%v), want all three ids", seen, err)
	}
}

// TestAmbiguousTableIsResolvedByAnyWriter: a writer that did not create
// the table meets the copies on its next query, both when it opens the
// table and when it had already opened it, resolves them and applies.
func TestAmbiguousTableIsResolvedByAnyWriter(t *testing.T) {
	for _, alreadyOpen := range []bool{false, true} {
		t.Run(fmt.Sprintf("already open %v", alreadyOpen), func(t *testing.T) {
			st, addr, database, admin := openWriter(t)
			ctx := testCtx(t)
			createCopies(t, addr, database, "task")
			if alreadyOpen {
				st.tables.mu.Lock()
				st.tables.ready["task"] = true
				st.tables.mu.Unlock()
			}
			res, err := st.Apply(ctx, []stores.Write{taskWrite("k1", 1, "ev-1")})
			if err != nil || res.Applied != 1 {
				t.Fatalf("Apply = %+v, %v", res, err)
			}
			if n := tableCopies(t, admin, database, "task"); n != 1 {
				t.Fatalf("%d tables named task, want 1", n)
			}
			if got := strings.Join(tableNames(t, admin, database), ","); got != "switchyard_ledger,task" {
				t.Fatalf("tables = %s", got)
			}
			if rec, err := st.Get(ctx, "task", "k1"); err != nil || rec.Version != 1 {
				t.Fatalf("Get = %+v, %v", rec, err)
			}
		})
	}
}
