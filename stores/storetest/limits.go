package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/stores"
)

// testLongEventIDs: event ids of the full 255 bytes are recorded and
// deduplicated like short ones, including ids that differ only after a
// long common prefix.
func testLongEventIDs(t *testing.T, open Opener) {
	st := open(t)
	prefix := strings.Repeat("e", 250)
	idA, idB := prefix+"AAAAA", prefix+"BBBBB"
	if len(idA) != 255 {
		t.Fatalf("test id is %d bytes", len(idA))
	}
	wantResult(t, "first delivery", apply(t, st,
		withID(upsert("task", "a", 1, `{"v":1}`), idA),
		withID(upsert("task", "b", 1, `{"v":1}`), idB)), stores.ApplyResult{Applied: 2})
	wantResult(t, "redelivery", apply(t, st,
		withID(upsert("task", "a", 2, `{"v":2}`), idA),
		withID(upsert("task", "b", 2, `{"v":2}`), idB)), stores.ApplyResult{Duplicates: 2})
	wantRow(t, st, "task", "a", 1, false, `{"v":1}`)
}

// testKeyLength: a 127-byte key is held by every store; a 255-byte key is
// held byte-exact or refused with a reason, never cut or merged.
func testKeyLength(t *testing.T, open Opener) {
	st := open(t)
	ctx := testContext(t)
	k127 := strings.Repeat("k", 125) + "é" // 125 + 2 bytes
	apply(t, st, upsert("task", k127, 1, `{"v":1}`))
	wantRow(t, st, "task", k127, 1, false, `{"v":1}`)
	k255a, k255b := strings.Repeat("x", 254)+"a", strings.Repeat("x", 254)+"b"
	_, err := st.Apply(ctx, []stores.Write{upsert("task", k255a, 1, `{"v":"a"}`), upsert("task", k255b, 1, `{"v":"b"}`)})
	if errors.Is(err, stores.ErrRejected) {
		return
	}
	if err != nil {
		t.Fatalf("Apply(255-byte keys) = %v, want success or a rejection", err)
	}
	wantRow(t, st, "task", k255a, 1, false, `{"v":"a"}`)
	wantRow(t, st, "task", k255b, 1, false, `{"v":"b"}`)
}

// testLargeDocument: a document just under 1 MiB (the default largest
// event) round-trips through Get, Scan and Checksum.
func testLargeDocument(t *testing.T, open Opener) {
	st := open(t)
	ctx := testContext(t)
	filler := strings.Repeat("0123456789abcdef", (1<<20-256)/16)
	doc := fmt.Sprintf(`{"blob":%q,"n":1,"u":"é😀"}`, filler)
	apply(t, st, upsert("big", "k", 1, doc))
	wantRow(t, st, "big", "k", 1, false, doc)
	recs := scanAll(t, st, "big", stores.Range{}, 10)
	if len(recs) != 1 {
		t.Fatalf("Scan found %d rows, want 1", len(recs))
	}
	if err := sameJSON(recs[0].Data, []byte(doc)); err != nil {
		t.Fatalf("Scan: %v", err)
	}
	want, err := stores.ChecksumRecords([]stores.Record{{Key: "k", Client: "c1", Data: json.RawMessage(doc)}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := st.Checksum(ctx, "big", stores.Range{}); err != nil || !got.Equal(want) {
		t.Fatalf("Checksum = %+v, %v; want %+v", got, err, want)
	}
}

// testBigIntegers is the rule for numbers, the same in every store: a
// number is kept exactly or the write is refused with a reason, never
// rounded. Integers up to ±2^53 are kept by every store; beyond that the
// SQL stores keep the digits and RethinkDB, whose numbers are doubles,
// refuses. What is kept checksums like the written document.
func testBigIntegers(t *testing.T, open Opener) {
	st := open(t)
	ctx := testContext(t)
	exact := `{"max":9007199254740992,"min":-9007199254740992}`
	apply(t, st, upsert("nums", "exact", 1, exact))
	wantRow(t, st, "nums", "exact", 1, false, exact)
	big := `{"n":9007199254740993,"m":-9007199254740993,"huge":123456789012345678901234567890}`
	_, err := st.Apply(ctx, []stores.Write{upsert("nums", "big", 1, big)})
	stored := err == nil
	if err != nil && !errors.Is(err, stores.ErrRejected) {
		t.Fatalf("Apply(integers beyond 2^53) = %v, want success or a rejection", err)
	}
	want := []stores.Record{{Key: "exact", Client: "c1", Data: json.RawMessage(exact)}}
	if stored {
		t.Logf("integers beyond 2^53: kept exactly")
		wantRow(t, st, "nums", "big", 1, false, big)
		want = append(want, stores.Record{Key: "big", Client: "c1", Data: json.RawMessage(big)})
	} else {
		t.Logf("integers beyond 2^53: refused (%v)", err)
		wantNotFound(t, st, "nums", "big")
	}
	sum, err := stores.ChecksumRecords(want)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := st.Checksum(ctx, "nums", stores.Range{}); err != nil || !got.Equal(sum) {
		t.Fatalf("Checksum = %+v, %v; want %+v", got, err, sum)
	}
}
