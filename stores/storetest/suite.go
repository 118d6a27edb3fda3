package storetest

import (
	"testing"

	"github.com/switchyard/switchyard/stores"
)

// Opener opens a fresh, empty store for one subtest and arranges for it to
// be closed when the subtest ends.
type Opener func(t *testing.T) stores.Store

// Run runs the whole conformance suite, each case as a parallel subtest on
// a store of its own, so open must be safe to call from several goroutines.
func Run(t *testing.T, open Opener) {
	cases := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"VersionFence", testVersionFence},
		{"Tombstones", testTombstones},
		{"IfAbsent", testIfAbsent},
		{"IdempotentReapply", testIdempotentReapply},
		{"VersionsInOneBatch", testVersionsInOneBatch},
		{"Ledger", testLedger},
		{"LedgerSuperseded", testLedgerSuperseded},
		{"SeveralEntities", testSeveralEntities},
		{"Rejection", testRejection},
		{"Get", testGet},
		{"Scan", testScan},
		{"Checksum", testChecksum},
		{"Documents", testDocuments},
		{"Entities", testEntities},
		{"Concurrency", testConcurrency},
		{"Model", testModel},
		{"LongEventIDs", testLongEventIDs},
		{"KeyLength", testKeyLength},
		{"LargeDocument", testLargeDocument},
		{"BigIntegers", testBigIntegers},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, open)
		})
	}
}
