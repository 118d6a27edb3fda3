package rethinkdb

import (
	"encoding/json"
	"errors"
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

// TestDuplicateTableIsMergedIntoTheKeptOne: copies that hold documents
// (written before the other copy became visible), left renamed by a
// drain that did not finish, are found by the next resolve and merged by
// the writes' rule: the higher version wins, tombstones included, and an
// equal version keeps the kept table's document; the ledger keeps every
// id. They are dropped once empty, and nothing in them is lost.
func TestDuplicateTableIsMergedIntoTheKeptOne(t *testing.T) {
	st, _, database, admin := openWriter(t)
	ctx := testCtx(t)
	tombstone := func(key string, version int64, event string) stores.Write {
		return stores.Write{Entity: "task", Key: key, Client: "c", Version: version, Deleted: true, EventID: event}
	}
	kept := []stores.Write{taskWrite("k1", 1, "ev-kept-1"), taskWrite("k2", 3, "ev-kept-2"),
		tombstone("k5", 4, "ev-kept-5"), taskWrite("k6", 2, "ev-kept-6")}
	copied := []stores.Write{taskWrite("k1", 2, "ev-copy-1"), taskWrite("k2", 2, "ev-copy-2"), taskWrite("k3", 1, "ev-copy-3"),
		tombstone("k4", 5, "ev-copy-4"), taskWrite("k5", 6, "ev-copy-5"), taskWrite("k6", 2, "ev-copy-6")}
	copied[5].Data = json.RawMessage(`{"side":"copy"}`)
	for i := range copied {
		copied[i].Entity = "copy"
	}
	for _, ws := range [][]stores.Write{kept, copied} {
		if _, err := st.Apply(ctx, ws); err != nil {
			t.Fatalf("Apply: %v", err)
		}
	}
	db := r.DB(database)
	if _, err := db.Table("copy").Config().Update(map[string]any{"name": duplicateName("task", "0123abcd-ffff")}).RunWrite(admin); err != nil {
		t.Fatal(err)
	}
	// A copy of the ledger holds an id the kept ledger lacks, and one it has.
	ledgerCopy := duplicateName(ledgerTable, "0badc0de-ffff")
	if _, err := db.TableCreate(ledgerCopy).RunWrite(admin); err != nil {
		t.Fatal(err)
	}
	var rows []any
	for _, id := range []string{"ev-only-in-copy", "ev-kept-1"} {
		rows = append(rows, map[string]any{ledgerKey: ledgerDigest(id), ledgerIDField: id, ledgerTimeField: r.Now()})
	}
	if _, err := db.Table(ledgerCopy).Insert(rows).RunWrite(admin); err != nil {
		t.Fatal(err)
	}

	for _, table := range []string{"task", ledgerTable} {
		if found, err := st.resolveDuplicateTable(ctx, table); err != nil || !found {
			t.Fatalf("resolve %s: found %v, %v; want the renamed copy found and drained", table, found, err)
		}
	}

	if got := strings.Join(tableNames(t, admin, database), ","); got != "switchyard_ledger,task" {
		t.Fatalf("tables = %s, want the copies dropped", got)
	}
	want := map[string]struct {
		version int64
		deleted bool
		data    string
	}{"k1": {2, false, `{"v":2}`}, "k2": {3, false, `{"v":3}`}, "k3": {1, false, `{"v":1}`}, "k4": {5, true, ""},
		"k5": {6, false, `{"v":6}`}, "k6": {2, false, `{"v":2}`}}
	for key, w := range want {
		rec, err := st.Get(ctx, "task", key)
		if err != nil || rec.Version != w.version || rec.Deleted != w.deleted || !jsonHas(rec.Data, w.data) {
			t.Errorf("%s = version %d deleted %v data %s (%v), want version %d deleted %v data %s", key, rec.Version, rec.Deleted, rec.Data, err, w.version, w.deleted, w.data)
		}
	}
	ids := []string{"ev-only-in-copy", "ev-kept-1", "ev-copy-4", "ev-kept-5"}
	if seen, err := st.seenEventIDs(ctx, ids); err != nil || len(seen) != len(ids) {
		t.Fatalf("ledger holds %v (%v), want all of %v", seen, err, ids)
	}
}

// jsonHas reports whether data holds every field of want (a JSON object;
// "" wants no data).
func jsonHas(data json.RawMessage, want string) bool {
	if want == "" {
		return data == nil
	}
	var got, fields map[string]any
	if json.Unmarshal(data, &got) != nil || json.Unmarshal([]byte(want), &fields) != nil {
		return false
	}
	for k, v := range fields {
		if fmt.Sprint(got[k]) != fmt.Sprint(v) {
			return false
		}
	}
	return true
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

// TestCopyIsKeptWhenItsDocumentsCannotBeMerged: a document whose merge
// fails (here the kept table is keyed on another field) stays in the
// copy, which is left renamed and reported, never dropped.
func TestCopyIsKeptWhenItsDocumentsCannotBeMerged(t *testing.T) {
	st, _, database, admin := openWriter(t)
	ctx := testCtx(t)
	db := r.DB(database)
	if _, err := db.TableCreate("task", r.TableCreateOpts{PrimaryKey: "uuid"}).RunWrite(admin); err != nil {
		t.Fatal(err)
	}
	copyName := duplicateName("task", "0123abcd-ffff")
	res, err := db.TableCreate(copyName).RunWrite(admin)
	if err != nil || len(res.ConfigChanges) != 1 {
		t.Fatalf("create the copy: %+v, %v", res, err)
	}
	copyID, _ := res.ConfigChanges[0].NewValue.(map[string]any)["id"].(string)
	if _, err := db.Table(copyName).Insert(map[string]any{"id": "k1", "_switchyard_version": 1}).RunWrite(admin); err != nil {
		t.Fatal(err)
	}
	err = st.drainDuplicate(ctx, "task", copyName, copyID)
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("drain = %v, want ErrDuplicate", err)
	}
	var n int
	if err := db.Table(copyName).Count().ReadOne(&n, admin); err != nil || n != 1 {
		t.Fatalf("the copy holds %d documents (%v), want its 1 kept", n, err)
	}
}
