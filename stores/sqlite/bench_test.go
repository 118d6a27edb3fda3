package sqlite_test

import (
	"testing"

	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/storebench"
)

// BenchmarkApply reports rows/s of batched inserts, updates and backfill
// writes into a SQLite file (synchronous=FULL, the default).
func BenchmarkApply(b *testing.B) {
	storebench.BenchmarkApply(b, func(b *testing.B) stores.Store {
		st, _ := openTemp(b)
		return st
	}, 500)
}
