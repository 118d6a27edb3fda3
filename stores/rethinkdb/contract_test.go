package rethinkdb

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/storetest"
)

// TestContract runs the shared store contract suite against the real
// RethinkDB of SWITCHYARD_TEST_RETHINKDB, each subtest in a database of its
// own that is dropped afterwards.
func TestContract(t *testing.T) {
	testenv.RethinkDB(t) // skips, or fails under SWITCHYARD_REQUIRE_RETHINKDB=1, without a server
	storetest.Run(t, func(t *testing.T) stores.Store {
		return openTest(t, "?chunk=7")
	})
}

// openTest opens a writer on a fresh database of the test server.
func openTest(t *testing.T, params string) *Store {
	t.Helper()
	addr, database := testenv.RethinkDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := Open(ctx, "rethinkdb://"+addr+"/"+database+params)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
