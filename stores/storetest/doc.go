// Package storetest is the conformance suite every store adapter must pass:
// the apply semantics of the stores package (version fence, tombstones,
// insert-if-absent, the event-id ledger), reads and key-order scans,
// checksums that agree across stores, documents that survive the round trip,
// the one rule for identifiers and data (trailing spaces, control characters
// and U+0000 rejected), 255-byte event ids, 1 MiB documents, integers beyond
// 2^53 kept exactly or refused, and a randomized model test of delivery with duplicates, reordering,
// redeliveries and interleaved backfill.
//
// An adapter's test calls Run with a function that opens a fresh, empty store
// for each subtest:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) stores.Store {
//			st, err := sqlite.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "s.db"))
//			...
//			t.Cleanup(func() { st.Close() })
//			return st
//		})
//	}
//
// The model test replays a failure with SWITCHYARD_MODEL_SEED=<seed>; every
// run logs its seed.
package storetest
