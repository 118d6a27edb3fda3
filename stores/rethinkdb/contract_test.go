package rethinkdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/storetest"
)

// contractEnv names the variable that points the contract suite at a real
// RethinkDB (host:port); scripts/contract-docker.sh sets it.
const contractEnv = "SWITCHYARD_TEST_RETHINKDB"

// TestContract runs the shared store contract suite against a real
// RethinkDB, each subtest in a database of its own that is dropped
// afterwards.
func TestContract(t *testing.T) {
	addr := os.Getenv(contractEnv)
	if addr == "" {
		t.Skip(contractEnv + " is not set: skipping the store contract suite on RethinkDB (set it to host:port, or run scripts/contract-docker.sh)")
	}
	storetest.Run(t, func(t *testing.T) stores.Store {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		b := make([]byte, 6)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		database := "sy_" + hex.EncodeToString(b)
		st, err := Open(ctx, "rethinkdb://"+addr+"/"+database+"?chunk=7")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := st.exec(ctx, r.DBDrop(database)); err != nil {
				t.Errorf("drop database %s: %v", database, err)
			}
		})
		return st
	})
}
