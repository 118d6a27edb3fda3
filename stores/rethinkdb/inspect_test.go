package rethinkdb

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
)

func checkMap(checks []stores.Check) map[string]stores.Check {
	out := map[string]stores.Check{}
	for _, c := range checks {
		out[c.Name] = c
	}
	return out
}

func wantCheck(t *testing.T, checks []stores.Check, name string, status stores.CheckStatus, detail string) {
	t.Helper()
	c, ok := checkMap(checks)[name]
	if !ok || c.Status != status || !strings.Contains(c.Detail, detail) {
		t.Fatalf("check %s = %+v, want %s mentioning %q (all: %+v)", name, c, status, detail, checks)
	}
}

// TestInspect runs the cheap checks against the real server: an admin
// writer on a fresh database, a read-only user as a source and as a
// writer, an admin as a source, and a table keyed on another field.
func TestInspect(t *testing.T) {
	addr, database := testenv.RethinkDB(t)
	admin := testenv.RethinkDBAdmin(t, addr)
	ctx := testCtx(t)

	fresh, err := Open(ctx, "rethinkdb://"+addr+"/"+database+"_fresh")
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	defer r.DBDrop(database + "_fresh").RunWrite(admin)
	checks := fresh.Inspect(ctx, stores.RoleTarget)
	for _, c := range checks {
		if c.Status != stores.CheckPass {
			t.Fatalf("admin writer: %+v", checks)
		}
	}
	wantCheck(t, checks, CheckServerVersion, stores.CheckPass, "RethinkDB 2.4")

	legacyDB(t, admin, database, map[string][]map[string]any{"task": {{"id": "a"}}})
	user, password := readOnlyUser(t, admin, database)
	asReader := fmt.Sprintf("rethinkdb://%s:%s@%s/%s", user, password, addr, database)
	src, err := OpenRole(ctx, asReader, stores.RoleSource)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	checks = src.Inspect(ctx, stores.RoleSource)
	wantCheck(t, checks, CheckServerVersion, stores.CheckPass, "bit_and answers")
	wantCheck(t, checks, CheckPermissions, stores.CheckPass, "may read all 1 tables")
	wantCheck(t, checks, CheckTableShape, stores.CheckPass, `keyed on "id"`)
	// The same read-only credentials as a writer's: refused, naming config.
	checks = src.Inspect(ctx, stores.RoleTarget)
	wantCheck(t, checks, CheckPermissions, stores.CheckFail, "config")

	adminSource, err := OpenRole(ctx, "rethinkdb://"+addr+"/"+database, stores.RoleSource)
	if err != nil {
		t.Fatal(err)
	}
	defer adminSource.Close()
	wantCheck(t, adminSource.Inspect(ctx, stores.RoleSource), CheckPermissions, stores.CheckWarn, "may also write")

	if _, err := r.DB(database).TableCreate("keyed", r.TableCreateOpts{PrimaryKey: "uuid"}).RunWrite(admin); err != nil {
		t.Fatal(err)
	}
	wantCheck(t, adminSource.Inspect(ctx, stores.RoleSource), CheckTableShape, stores.CheckFail, `keyed is keyed on "uuid"`)

	missing, err := Open(ctx, "rethinkdb://"+addr+"/"+database)
	if err != nil {
		t.Fatal(err)
	}
	defer missing.Close()
	bad, _ := ParseDSN("rethinkdb://" + addr + "/" + database + "_absent")
	none := &Store{session: missing.session, cfg: bad.Config, tables: tableSet{ready: map[string]bool{}}}
	wantCheck(t, none.Inspect(ctx, stores.RoleSource), CheckDatabase, stores.CheckFail, "does not exist")
}

// TestSampleSource plants each problem a sample reports in a table of its
// own, and a clean table.
func TestSampleSource(t *testing.T) {
	addr, database := testenv.RethinkDB(t)
	admin := testenv.RethinkDBAdmin(t, addr)
	legacyDB(t, admin, database, map[string][]map[string]any{
		"clean":     {{"id": "a", "title": "x"}},
		"collide":   {{"id": "a", "_switchyard_version": 3}},
		"legacy":    {{"id": "a", "version": 3, "deleted": true}},
		"nonstring": {{"id": "a"}, {"id": 7}, {"id": 8}},
	})
	ctx := testCtx(t)
	// A writer's view: a source would refuse to open on "collide".
	st, err := Open(ctx, "rethinkdb://"+addr+"/"+database)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sample := func(entity string) []stores.Check {
		checks, err := st.SampleSource(ctx, entity, 100)
		if err != nil {
			t.Fatalf("SampleSource(%s): %v", entity, err)
		}
		return checks
	}
	for _, c := range sample("clean") {
		if c.Status != stores.CheckPass {
			t.Fatalf("clean: %+v", c)
		}
	}
	wantCheck(t, sample("collide"), CheckBookkeepingFields, stores.CheckFail, "_switchyard_version")
	wantCheck(t, sample("legacy"), CheckLegacyFieldNames, stores.CheckWarn, "deleted, version")
	wantCheck(t, sample("nonstring"), CheckNonStringKeys, stores.CheckFail, "2 documents")
	if _, err := st.SampleSource(ctx, "absent", 10); err == nil {
		t.Fatal("SampleSource of a missing table succeeded")
	}
}

// TestDropScratch: only scratch entities are dropped, with their ledger
// rows; other entities and ledger rows stay.
func TestDropScratch(t *testing.T) {
	st := openTest(t, "")
	ctx := testCtx(t)
	scratch := stores.ScratchPrefix + "x1"
	apply := func(entity, id string) {
		t.Helper()
		w := stores.Write{Entity: entity, Key: "k", Client: "c", Version: 1, Data: json.RawMessage(`{}`), EventID: id}
		if _, err := st.Apply(ctx, []stores.Write{w}); err != nil {
			t.Fatal(err)
		}
	}
	apply(scratch, scratch+"-"+strings.Repeat("e", 200))
	apply("task", "app-event")
	if err := st.DropScratch(ctx, "task"); err == nil {
		t.Fatal("DropScratch(task) was not refused")
	}
	if err := st.DropScratch(ctx, scratch); err != nil {
		t.Fatalf("DropScratch: %v", err)
	}
	if err := st.DropScratch(ctx, scratch); err != nil {
		t.Fatalf("DropScratch again: %v", err)
	}
	if ents, err := st.Entities(ctx); err != nil || strings.Join(ents, ",") != "task" {
		t.Fatalf("Entities = %v, %v", ents, err)
	}
	var ids []string
	if err := r.DB(st.cfg.Database).Table(ledgerTable).Field(ledgerIDField).ReadAll(&ids, st.session); err != nil || strings.Join(ids, ",") != "app-event" {
		t.Fatalf("ledger ids = %v, %v; want only app-event", ids, err)
	}
}
