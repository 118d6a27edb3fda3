package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/stores"
)

func testVersionFence(t *testing.T, open Opener) {
	st := open(t)
	wantResult(t, "first write", apply(t, st, upsert("task", "k", 5, `{"v":5}`)), stores.ApplyResult{Applied: 1})
	wantRow(t, st, "task", "k", 5, false, `{"v":5}`)

	wantResult(t, "equal version", apply(t, st, upsert("task", "k", 5, `{"v":"other"}`)), stores.ApplyResult{Skipped: 1})
	wantResult(t, "lower version", apply(t, st, upsert("task", "k", 4, `{"v":4}`)), stores.ApplyResult{Skipped: 1})
	wantRow(t, st, "task", "k", 5, false, `{"v":5}`)

	wantResult(t, "higher version", apply(t, st, withClient(upsert("task", "k", 6, `{"v":6}`), "c2")), stores.ApplyResult{Applied: 1})
	wantRow(t, st, "task", "k", 6, false, `{"v":6}`)
	if rec := get(t, st, "task", "k"); rec.Client != "c2" {
		t.Fatalf("client after a higher version = %q, want c2", rec.Client)
	}
	// Version 0 is a valid version (a document without one counts as 0);
	// it applies to an empty key and loses to everything stored.
	wantResult(t, "version 0 on empty key", apply(t, st, upsert("task", "zero", 0, `{}`)), stores.ApplyResult{Applied: 1})
	wantResult(t, "version 0 again", apply(t, st, upsert("task", "zero", 0, `{"x":1}`)), stores.ApplyResult{Skipped: 1})
	wantRow(t, st, "task", "zero", 0, false, `{}`)
	if rec := get(t, st, "task", "k"); rec.UpdatedAt.IsZero() || time.Since(rec.UpdatedAt) > time.Hour || time.Until(rec.UpdatedAt) > time.Hour {
		t.Fatalf("updated_at = %v, want about now", rec.UpdatedAt)
	}
}

func testTombstones(t *testing.T, open Opener) {
	st := open(t)
	apply(t, st, upsert("task", "k", 1, `{"v":1}`))
	wantResult(t, "delete", apply(t, st, remove("task", "k", 2)), stores.ApplyResult{Applied: 1})
	wantRow(t, st, "task", "k", 2, true, "")

	wantResult(t, "stale upsert", apply(t, st, upsert("task", "k", 1, `{"v":"zombie"}`)), stores.ApplyResult{Skipped: 1})
	wantResult(t, "equal-version upsert", apply(t, st, upsert("task", "k", 2, `{"v":"zombie"}`)), stores.ApplyResult{Skipped: 1})
	wantRow(t, st, "task", "k", 2, true, "")

	// A delete of a key never seen leaves a tombstone that fences it too.
	wantResult(t, "delete unseen key", apply(t, st, remove("task", "ghost", 7)), stores.ApplyResult{Applied: 1})
	wantResult(t, "late create", apply(t, st, upsert("task", "ghost", 3, `{"v":3}`)), stores.ApplyResult{Skipped: 1})
	wantRow(t, st, "task", "ghost", 7, true, "")

	wantResult(t, "higher upsert supersedes", apply(t, st, upsert("task", "k", 3, `{"v":3}`)), stores.ApplyResult{Applied: 1})
	wantRow(t, st, "task", "k", 3, false, `{"v":3}`)

	wantResult(t, "higher delete of tombstone", apply(t, st, remove("task", "ghost", 8)), stores.ApplyResult{Applied: 1})
	wantRow(t, st, "task", "ghost", 8, true, "")
}

func testIfAbsent(t *testing.T, open Opener) {
	st := open(t)
	wantResult(t, "backfill into empty key", apply(t, st, backfill("task", "new", 3, `{"b":1}`)), stores.ApplyResult{Applied: 1})
	wantRow(t, st, "task", "new", 3, false, `{"b":1}`)

	apply(t, st, upsert("task", "live", 2, `{"live":true}`))
	wantResult(t, "backfill over a row, higher version", apply(t, st, backfill("task", "live", 9, `{"b":2}`)), stores.ApplyResult{Skipped: 1})
	wantRow(t, st, "task", "live", 2, false, `{"live":true}`)

	apply(t, st, remove("task", "gone", 4))
	wantResult(t, "backfill over a tombstone", apply(t, st, backfill("task", "gone", 9, `{"b":3}`)), stores.ApplyResult{Skipped: 1})
	wantRow(t, st, "task", "gone", 4, true, "")

	// In one call the live write wins over a backfill of the same key,
	// whatever the versions.
	res := apply(t, st, backfill("task", "both", 9, `{"b":4}`), upsert("task", "both", 1, `{"live":1}`))
	wantResult(t, "backfill and live write in one call", res, stores.ApplyResult{Applied: 1, Skipped: 1})
	wantRow(t, st, "task", "both", 1, false, `{"live":1}`)

	// A backfilled row is fenced by its version like any other.
	wantResult(t, "stale live write after backfill", apply(t, st, upsert("task", "new", 2, `{"old":1}`)), stores.ApplyResult{Skipped: 1})
	wantResult(t, "newer live write after backfill", apply(t, st, upsert("task", "new", 4, `{"new":1}`)), stores.ApplyResult{Applied: 1})
	wantRow(t, st, "task", "new", 4, false, `{"new":1}`)
}

func testIdempotentReapply(t *testing.T, open Opener) {
	st := open(t)
	batch := []stores.Write{
		upsert("task", "a", 1, `{"n":1}`),
		upsert("task", "b", 2, `{"n":2}`),
		remove("task", "c", 3),
		backfill("task", "d", 1, `{"n":4}`),
	}
	wantResult(t, "first apply", apply(t, st, batch...), stores.ApplyResult{Applied: 4})
	before := scanAll(t, st, "task", stores.Range{}, 100)
	for i := range 2 {
		wantResult(t, fmt.Sprintf("re-apply %d", i+1), apply(t, st, batch...), stores.ApplyResult{Skipped: 4})
	}
	after := scanAll(t, st, "task", stores.Range{}, 100)
	if len(before) != len(after) {
		t.Fatalf("re-apply changed the row count: %d -> %d", len(before), len(after))
	}
	for i := range before {
		b, a := before[i], after[i]
		if b.Key != a.Key || b.Version != a.Version || b.Deleted != a.Deleted || string(b.Data) != string(a.Data) || !b.UpdatedAt.Equal(a.UpdatedAt) {
			t.Fatalf("re-apply changed row %q: %+v -> %+v", b.Key, b, a)
		}
	}
}

func testVersionsInOneBatch(t *testing.T, open Opener) {
	st := open(t)
	res := apply(t, st,
		upsert("task", "k", 2, `{"v":2}`),
		upsert("task", "k", 7, `{"v":7}`),
		upsert("task", "k", 5, `{"v":5}`),
		remove("task", "d", 3),
		upsert("task", "d", 4, `{"v":4}`),
		upsert("task", "e", 4, `{"v":4}`),
		remove("task", "e", 6),
	)
	wantResult(t, "mixed batch", res, stores.ApplyResult{Applied: 3, Skipped: 4})
	wantRow(t, st, "task", "k", 7, false, `{"v":7}`)
	wantRow(t, st, "task", "d", 4, false, `{"v":4}`)
	wantRow(t, st, "task", "e", 6, true, "")

	res = apply(t, st, upsert("task", "k", 6, `{"v":6}`), upsert("task", "k", 8, `{"v":8}`), upsert("task", "k", 3, `{"v":3}`))
	wantResult(t, "batch against a stored version", res, stores.ApplyResult{Applied: 1, Skipped: 2})
	wantRow(t, st, "task", "k", 8, false, `{"v":8}`)
}

func testLedger(t *testing.T, open Opener) {
	st := open(t)
	ctx := testContext(t)
	wantResult(t, "first delivery", apply(t, st, withID(upsert("task", "k", 1, `{"v":1}`), "ev-1")), stores.ApplyResult{Applied: 1})
	// A producer retry that reached the stream after its duplicate window
	// carries the same id with a new, higher stream sequence.
	wantResult(t, "late retry with a higher version",
		apply(t, st, withID(upsert("task", "k", 9, `{"v":"retry"}`), "ev-1")), stores.ApplyResult{Duplicates: 1})
	wantRow(t, st, "task", "k", 1, false, `{"v":1}`)

	// Repeated ids within one call: the lowest version is the original.
	res := apply(t, st,
		withID(upsert("task", "m", 4, `{"v":"retry"}`), "ev-2"),
		withID(upsert("task", "m", 2, `{"v":"orig"}`), "ev-2"),
		withID(upsert("task", "n", 3, `{"v":3}`), "ev-3"),
		withID(upsert("task", "k", 10, `{"v":"dup"}`), "ev-1"),
	)
	wantResult(t, "ids repeated in one call and in the ledger", res, stores.ApplyResult{Applied: 2, Duplicates: 2})
	wantRow(t, st, "task", "m", 2, false, `{"v":"orig"}`)
	wantRow(t, st, "task", "k", 1, false, `{"v":1}`)

	// Writes without an id are never ledger duplicates.
	wantResult(t, "no id", apply(t, st, upsert("task", "k", 11, `{"v":11}`)), stores.ApplyResult{Applied: 1})

	// A call that failed (rejected) records nothing in the ledger.
	bad := []stores.Write{withID(upsert("task", "p", 1, `{"v":1}`), "ev-4"), upsert("task", "", 1, `{}`)}
	if _, err := st.Apply(ctx, bad); !errors.Is(err, stores.ErrRejected) {
		t.Fatalf("Apply with an empty key: %v, want ErrRejected", err)
	}
	wantResult(t, "id of a rejected call", apply(t, st, withID(upsert("task", "p", 1, `{"v":1}`), "ev-4")), stores.ApplyResult{Applied: 1})

	pruned, err := st.PruneLedger(ctx, time.Now().Add(-time.Hour))
	if err != nil || pruned != 0 {
		t.Fatalf("PruneLedger(an hour ago) = %d, %v; want 0, nil", pruned, err)
	}
	wantResult(t, "still in the ledger", apply(t, st, withID(upsert("task", "k", 12, `{"v":12}`), "ev-1")), stores.ApplyResult{Duplicates: 1})
	pruned, err = st.PruneLedger(ctx, time.Now().Add(time.Minute))
	if err != nil || pruned != 4 {
		t.Fatalf("PruneLedger(now) = %d, %v; want 4 (ev-1..ev-4), nil", pruned, err)
	}
	wantResult(t, "forgotten id", apply(t, st, withID(upsert("task", "k", 12, `{"v":12}`), "ev-1")), stores.ApplyResult{Applied: 1})
	wantRow(t, st, "task", "k", 12, false, `{"v":12}`)
}

func testSeveralEntities(t *testing.T, open Opener) {
	st := open(t)
	res := apply(t, st,
		upsert("task", "1", 1, `{"t":1}`),
		upsert("project", "1", 1, `{"p":1}`),
		remove("comment", "1", 2),
		upsert("task", "2", 1, `{"t":2}`),
		withID(upsert("project", "2", 1, `{"p":2}`), "ev-p2"),
	)
	wantResult(t, "three entities", res, stores.ApplyResult{Applied: 5})
	wantRow(t, st, "task", "1", 1, false, `{"t":1}`)
	wantRow(t, st, "project", "1", 1, false, `{"p":1}`)
	wantRow(t, st, "comment", "1", 2, true, "")
	// The same key in two entities is two records.
	res = apply(t, st, upsert("task", "1", 2, `{"t":"1b"}`), upsert("project", "1", 1, `{"p":"1b"}`))
	wantResult(t, "same key, two entities", res, stores.ApplyResult{Applied: 1, Skipped: 1})
	wantRow(t, st, "task", "1", 2, false, `{"t":"1b"}`)
	wantRow(t, st, "project", "1", 1, false, `{"p":1}`)
}

func testRejection(t *testing.T, open Opener) {
	st := open(t)
	ctx := testContext(t)
	apply(t, st, upsert("task", "k", 1, `{"v":1}`))
	good := func() []stores.Write {
		return []stores.Write{upsert("task", "k", 2, `{"v":2}`), upsert("other", "x", 1, `{}`)}
	}
	cases := []struct {
		name string
		bad  stores.Write
	}{
		{"bad entity", upsert("Bad-Entity", "k", 1, `{}`)},
		{"empty key", upsert("task", "", 1, `{}`)},
		{"long key", upsert("task", string(make([]byte, 256)), 1, `{}`)},
		{"negative version", upsert("task", "k2", -1, `{}`)},
		{"array data", upsert("task", "k2", 1, `[1]`)},
		{"invalid JSON", upsert("task", "k2", 1, `{"a":`)},
		{"missing data", upsert("task", "k2", 1, ``)},
		// The identifier rule (events.IdentifierProblem), in every store.
		{"key trailing space", upsert("task", "k ", 1, `{}`)},
		{"key of spaces", upsert("task", "  ", 1, `{}`)},
		{"client trailing space", withClient(upsert("task", "k2", 1, `{}`), "c1 ")},
		{"event id trailing space", withID(upsert("task", "k2", 1, `{}`), "ev ")},
		{"key NUL", upsert("task", "a\x00b", 1, `{}`)},
		{"key control character", upsert("task", "a\x01b", 1, `{}`)},
		{"client newline", withClient(upsert("task", "k2", 1, `{}`), "c\n1")},
		{"event id DEL", withID(upsert("task", "k2", 1, `{}`), "ev\x7f")},
		// The data rule (stores.Validate): U+0000 and lone surrogates.
		{"data NUL", upsert("task", "k2", 1, `{"s":"a\u0000b"}`)},
		{"data NUL in a field name", upsert("task", "k2", 1, `{"a\u0000":1}`)},
		{"data lone surrogate", upsert("task", "k2", 1, `{"s":"\ud800x"}`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			writes := append(good(), c.bad)
			_, err := st.Apply(ctx, writes)
			var rej *stores.RejectError
			if !errors.As(err, &rej) || !errors.Is(err, stores.ErrRejected) {
				t.Fatalf("Apply: %v, want a *stores.RejectError", err)
			}
			if rej.Index != 2 || rej.Entity != c.bad.Entity || rej.Key != c.bad.Key {
				t.Fatalf("RejectError names write %d (%s/%q), want 2 (%s/%q)", rej.Index, rej.Entity, rej.Key, c.bad.Entity, c.bad.Key)
			}
			if stores.IsTransient(err) {
				t.Fatalf("a rejection is not transient: %v", err)
			}
			wantRow(t, st, "task", "k", 1, false, `{"v":1}`)
			if _, err := st.Get(ctx, "other", "x"); !errors.Is(err, stores.ErrNoEntity) && !errors.Is(err, stores.ErrNotFound) {
				t.Fatalf("a rejected call wrote other/x: Get = %v", err)
			}
		})
	}
	wantResult(t, "the rest applies", apply(t, st, good()...), stores.ApplyResult{Applied: 2})
	res, err := st.Apply(ctx, nil)
	if err != nil || res != (stores.ApplyResult{}) {
		t.Fatalf("Apply(nil) = %+v, %v; want zero, nil", res, err)
	}
}

func testConcurrency(t *testing.T, open Opener) {
	st := open(t)
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	const keys, versions, writers = 20, 30, 2
	// Every (key, version) event goes to one of the writers; each writer
	// sends its share in shuffled batches. Whatever the interleaving, the
	// highest version of every key must win.
	rng := rand.New(rand.NewPCG(seed, 1))
	shares := make([][]stores.Write, writers)
	for k := range keys {
		for v := int64(1); v <= versions; v++ {
			key := fmt.Sprintf("key-%02d", k)
			w := upsert("race", key, v, fmt.Sprintf(`{"k":%d,"v":%d}`, k, v))
			if v%7 == 0 {
				w = remove("race", key, v)
			}
			i := rng.IntN(writers)
			shares[i] = append(shares[i], w)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i, share := range shares {
		r := rand.New(rand.NewPCG(seed, uint64(i)+2))
		r.Shuffle(len(share), func(a, b int) { share[a], share[b] = share[b], share[a] })
		wg.Go(func() {
			ctx := testContext(t)
			for len(share) > 0 {
				n := min(len(share), 1+r.IntN(40))
				if _, err := st.Apply(ctx, share[:n]); err != nil {
					errs <- fmt.Errorf("writer %d: %w", i, err)
					return
				}
				share = share[n:]
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for k := range keys {
		key := fmt.Sprintf("key-%02d", k)
		deleted := versions%7 == 0
		wantRow(t, st, "race", key, versions, deleted, fmt.Sprintf(`{"k":%d,"v":%d}`, k, versions))
	}
}

// testLedgerSuperseded: an event that lost to a higher version of its key
// within one call is in the ledger too, so a producer's late retry of it
// (a new, higher stream sequence) cannot bring back its older state.
func testLedgerSuperseded(t *testing.T, open Opener) {
	st := open(t)
	res := apply(t, st,
		withID(upsert("task", "k", 5, `{"state":"older"}`), "ev-older"),
		withID(upsert("task", "k", 7, `{"state":"newer"}`), "ev-newer"),
	)
	wantResult(t, "two events of one key", res, stores.ApplyResult{Applied: 1, Skipped: 1})
	res = apply(t, st, withID(upsert("task", "k", 9, `{"state":"older"}`), "ev-older"))
	wantResult(t, "late retry of the superseded event", res, stores.ApplyResult{Duplicates: 1})
	wantRow(t, st, "task", "k", 7, false, `{"state":"newer"}`)
}
