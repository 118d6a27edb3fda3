package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/switchyard/switchyard/stores"
)

func testGet(t *testing.T, open Opener) {
	st := open(t)
	ctx := testContext(t)
	if _, err := st.Get(ctx, "task", "k"); !errors.Is(err, stores.ErrNoEntity) {
		t.Fatalf("Get on an entity without a table: %v, want ErrNoEntity", err)
	}
	if _, err := st.Get(ctx, "Not-An-Entity", "k"); !errors.Is(err, stores.ErrNoEntity) {
		t.Fatalf("Get on an invalid entity name: %v, want ErrNoEntity", err)
	}
	apply(t, st, withClient(upsert("task", "k", 3, `{"title":"a"}`), "acme"), remove("task", "gone", 2))
	wantNotFound(t, st, "task", "missing")
	rec := get(t, st, "task", "k")
	if rec.Client != "acme" || rec.Version != 3 || rec.Deleted {
		t.Fatalf("Get(task, k) = %+v", rec)
	}
	tomb := get(t, st, "task", "gone")
	if !tomb.Deleted || tomb.Version != 2 || tomb.Data != nil {
		t.Fatalf("Get(task, gone) = %+v, want a tombstone at version 2 without data", tomb)
	}
	// Scans and checksums of an entity without a table are empty, not errors.
	recs, err := st.Scan(ctx, "nothing", stores.Range{})
	if err != nil || len(recs) != 0 {
		t.Fatalf("Scan of an entity without a table = %d rows, %v", len(recs), err)
	}
	sum, err := st.Checksum(ctx, "nothing", stores.Range{})
	if err != nil || sum.Count != 0 || sum.LastKey != "" {
		t.Fatalf("Checksum of an entity without a table = %+v, %v", sum, err)
	}
	// A verify compares a missing table on one side with an empty range on
	// the other: both must sum to the same empty checksum.
	empty, err := st.Checksum(ctx, "task", stores.Range{After: "zzz"})
	if err != nil || !empty.Equal(sum) {
		t.Fatalf("Checksum of an empty range = %+v, %v; want %+v like an entity without a table", empty, err, sum)
	}
}

// scanKeys are keys whose byte order differs from case-insensitive,
// locale and UTF-16 orders: upper before lower case, digits before letters,
// a supplementary-plane character after U+FF21 (UTF-16 would put it before).
var scanKeys = []string{
	"A", "B", "Z", "a", "a b", "a-b", "a/b", "aa", "ab", "b", "z", "~",
	"0", "1", "10", "2", "9",
	"é", "ü", "Ω", "ж", "日本", "中", "\uff21", "\U0001F600", "\U0001F601x",
	"key with spaces", "\u00e9t\u00e9",
}

func testScan(t *testing.T, open Opener) {
	st := open(t)
	ctx := testContext(t)
	var writes []stores.Write
	for i, k := range scanKeys {
		w := upsert("scan", k, int64(i+1), fmt.Sprintf(`{"i":%d}`, i))
		if i%3 == 0 {
			w.Client = "other"
		}
		if i%5 == 4 {
			w = remove("scan", k, int64(i+1))
		}
		writes = append(writes, w)
	}
	apply(t, st, writes...)
	want := slices.Clone(scanKeys)
	sort.Strings(want) // Go compares strings by bytes: the store order

	for _, chunk := range []int{1, 3, 7, len(want), len(want) + 5} {
		got := keysOf(scanAll(t, st, "scan", stores.Range{}, chunk))
		if !slices.Equal(got, want) {
			t.Fatalf("scan in chunks of %d:\n got %q\nwant %q", chunk, got, want)
		}
	}
	all, err := st.Scan(ctx, "scan", stores.Range{})
	if err != nil || !slices.Equal(keysOf(all), want) {
		t.Fatalf("Scan without a limit = %q, %v; want %q", keysOf(all), err, want)
	}
	tombstones := 0
	for _, r := range all {
		if r.Deleted {
			tombstones++
			if r.Data != nil {
				t.Fatalf("scanned tombstone %q carries data", r.Key)
			}
		}
	}
	if tombstones == 0 {
		t.Fatal("Scan left out the tombstones")
	}

	bounds := []stores.Range{
		{After: "a"},
		{After: "a", Through: "z"},
		{Through: "B"},
		{After: "Z", Through: "\uff21"},
		{After: "\uff21"},
		{After: "é", Through: "é"},
		{After: "0", Through: "1"},
		{After: "\U0001F600"},
		{Client: "other"},
		{After: "a", Client: "c1"},
		{Through: "zz", Client: "nobody"},
	}
	for _, r := range bounds {
		var expect []string
		for _, w := range writes {
			if r.Contains(w.Key) && (r.Client == "" || r.Client == w.Client) {
				expect = append(expect, w.Key)
			}
		}
		sort.Strings(expect)
		for _, chunk := range []int{2, 100} {
			got := keysOf(scanAll(t, st, "scan", r, chunk))
			if !slices.Equal(got, expect) {
				t.Fatalf("scan %+v in chunks of %d:\n got %q\nwant %q", r, chunk, got, expect)
			}
		}
	}
	// Limit alone returns the first keys.
	first, err := st.Scan(ctx, "scan", stores.Range{Limit: 4})
	if err != nil || !slices.Equal(keysOf(first), want[:4]) {
		t.Fatalf("Scan(limit 4) = %q, %v; want %q", keysOf(first), err, want[:4])
	}
}

func testEntities(t *testing.T, open Opener) {
	st := open(t)
	ctx := testContext(t)
	got, err := st.Entities(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("Entities of an empty store = %q, %v", got, err)
	}
	apply(t, st,
		withID(upsert("zeta", "1", 1, `{}`), "ev-1"),
		upsert("alpha", "1", 1, `{}`),
		remove("mid_dle", "1", 1),
	)
	got, err = st.Entities(ctx)
	if want := []string{"alpha", "mid_dle", "zeta"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("Entities = %q, %v; want %q (no ledger or other tables)", got, err, want)
	}
}
