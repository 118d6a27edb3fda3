package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// DefaultRethinkDB is the address scripts/test.sh and .ci/run use for the
// test server; tests only use a RethinkDB when SWITCHYARD_TEST_RETHINKDB
// names one.
const DefaultRethinkDB = "127.0.0.1:28015"

// RequireRethinkDB reports whether RethinkDB tests must fail, not skip, when
// no server is configured or it is unreachable.
func RequireRethinkDB() bool { return os.Getenv("SWITCHYARD_REQUIRE_RETHINKDB") == "1" }

// RethinkDB returns the host:port of the real test server
// (SWITCHYARD_TEST_RETHINKDB) and a fresh database name of the form
// sytest_<12 hex digits>. The database is not created, so a test sees a
// store create it (or refuse to) exactly as in production; whatever exists
// under that name when the test ends is dropped. Build a DSN with
// "rethinkdb://"+addr+"/"+database.
//
// Without SWITCHYARD_TEST_RETHINKDB, or when the server does not answer,
// the test skips with a message naming what is missing, unless
// SWITCHYARD_REQUIRE_RETHINKDB=1 (set by .ci/run): then it fails.
func RethinkDB(t testing.TB) (addr, database string) {
	t.Helper()
	addr = os.Getenv("SWITCHYARD_TEST_RETHINKDB")
	if addr == "" {
		if RequireRethinkDB() {
			t.Fatal("RethinkDB is required (SWITCHYARD_REQUIRE_RETHINKDB=1) but SWITCHYARD_TEST_RETHINKDB is not set")
		}
		t.Skip("SKIP: SWITCHYARD_TEST_RETHINKDB is not set (host:port of a RethinkDB 2.4 server, e.g. " + DefaultRethinkDB + "; scripts/test.sh starts one when it can)")
	}
	session, err := r.Connect(r.ConnectOpts{Address: addr, Timeout: 10 * time.Second})
	if err != nil {
		if RequireRethinkDB() {
			t.Fatalf("RethinkDB is required (SWITCHYARD_REQUIRE_RETHINKDB=1) but %s is unreachable: %v", addr, err)
		}
		t.Skipf("SKIP: RethinkDB at %s is unreachable (%v); start it or unset SWITCHYARD_TEST_RETHINKDB", addr, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	database = "sytest_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		defer session.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var exists bool
		if err := r.DBList().Contains(database).ReadOne(&exists, session, r.RunOpts{Context: ctx}); err != nil {
			t.Logf("list databases to drop %s: %v", database, err)
			return
		}
		if !exists {
			return
		}
		if _, err := r.DBDrop(database).RunWrite(session, r.RunOpts{Context: ctx}); err != nil {
			t.Logf("drop database %s: %v", database, err)
		}
	})
	return addr, database
}

// RethinkDBAdmin opens an admin session to addr (as returned by RethinkDB)
// for a test's own setup, such as writing legacy documents or creating a
// read-only user; it is closed when the test ends.
func RethinkDBAdmin(t testing.TB, addr string) *r.Session {
	t.Helper()
	session, err := r.Connect(r.ConnectOpts{Address: addr, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("connect to RethinkDB at %s: %v", addr, err)
	}
	t.Cleanup(func() { session.Close() })
	return session
}
