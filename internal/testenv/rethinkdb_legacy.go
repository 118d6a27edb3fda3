package testenv

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// RethinkDBReader creates a RethinkDB user that may read database and
// nothing else (no write, no config), as the credentials an operator hands
// to the backfill, verify and the read router for the legacy database, and
// removes the user when the test ends. admin is a session from
// RethinkDBAdmin. Build a DSN with
// "rethinkdb://"+reader.String()+"@"+addr+"/"+database.
func RethinkDBReader(t testing.TB, admin *r.Session, database string) *url.Userinfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name, password := database+"_reader", "réad only"
	users := r.DB("rethinkdb").Table("users")
	if _, err := users.Insert(map[string]any{"id": name, "password": password}).RunWrite(admin, r.RunOpts{Context: ctx}); err != nil {
		t.Fatalf("create RethinkDB user %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := users.Get(name).Delete().RunWrite(admin, r.RunOpts{Context: ctx}); err != nil {
			t.Errorf("remove RethinkDB user %s: %v", name, err)
		}
	})
	grant := map[string]any{"read": true, "write": false, "config": false}
	if _, err := r.DB(database).Grant(name, grant).RunWrite(admin, r.RunOpts{Context: ctx}); err != nil {
		t.Fatalf("grant read on %s to %s: %v", database, name, err)
	}
	return url.UserPassword(name, password)
}

// RethinkDBTables lists the tables of database, sorted, so a test can show
// that a store opened read-only created none.
func RethinkDBTables(t testing.TB, admin *r.Session, database string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var tables []string
	cur, err := r.DB(database).TableList().Run(admin, r.RunOpts{Context: ctx})
	if err == nil {
		err = cur.All(&tables)
	}
	if err != nil {
		t.Fatalf("list the tables of %s: %v", database, err)
	}
	slices.Sort(tables)
	return tables
}
