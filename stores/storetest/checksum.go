package storetest

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/switchyard/switchyard/stores"
)

// goldenRows is fixed content whose checksum every store must reproduce
// exactly (goldenDigest), so checksums agree across stores.
var goldenRows = []stores.Write{
	withClient(upsert("golden", "a", 1, `{"name":"Ada","n":1,"tags":["x","y"]}`), "c1"),
	withClient(upsert("golden", "b", 7, `{"nested":{"z":1.5,"a":null},"ok":true}`), "c2"),
	withClient(upsert("golden", "é", 3, `{"text":"h\u00e9llo \"q\"","big":9007199254740991}`), "c1"),
	withClient(remove("golden", "gone", 4), "c1"),
	withClient(upsert("golden", "\U0001F600", 2, `{}`), "c3"),
}

// goldenDigest is the checksum of the live rows of goldenRows.
const (
	goldenCount  = 4
	goldenDigest = "1d67beb0ff5cba4a6bc4529a7e218fe3"
)

func testChecksum(t *testing.T, open Opener) {
	st := open(t)
	ctx := testContext(t)
	apply(t, st, goldenRows...)
	sum, err := st.Checksum(ctx, "golden", stores.Range{})
	if err != nil {
		t.Fatalf("Checksum: %v", err)
	}
	if sum.Count != goldenCount || sum.Digest != goldenDigest || sum.LastKey != "\U0001F600" {
		t.Fatalf("Checksum(golden) = %+v, want count %d digest %s last key 😀", sum, goldenCount, goldenDigest)
	}
	recs := scanAll(t, st, "golden", stores.Range{}, 2)
	fromScan, err := stores.ChecksumRecords(recs)
	if err != nil || !fromScan.Equal(sum) {
		t.Fatalf("checksum of the scanned rows = %+v, %v; want %+v", fromScan, err, sum)
	}

	// Different spellings of the same documents sum alike.
	spellings := [][2]string{
		{`{"a":1,"b":2}`, `{ "b" : 2 ,  "a" : 1 }`},
		{`{"n":1.0,"m":1e2,"f":0.5}`, `{"n":1,"m":100,"f":5e-1}`},
		{`{"s":"\u00e9\/x"}`, `{"s":"é/x"}`},
		{`{"deep":{"y":[1,{"b":true,"a":false}],"x":null}}`, "{\n\t\"deep\": {\"x\": null, \"y\": [1.00, {\"a\": false, \"b\": true}]}\n}"},
	}
	var one, other []stores.Write
	for i, s := range spellings {
		key := fmt.Sprintf("k%d", i)
		one = append(one, upsert("spell_one", key, 1, s[0]))
		other = append(other, upsert("spell_other", key, 1, s[1]))
	}
	apply(t, st, one...)
	apply(t, st, other...)
	a, errA := st.Checksum(ctx, "spell_one", stores.Range{})
	b, errB := st.Checksum(ctx, "spell_other", stores.Range{})
	if errA != nil || errB != nil || !a.Equal(b) || a.Count != int64(len(spellings)) {
		t.Fatalf("checksums of equal documents spelled differently: %+v (%v) vs %+v (%v)", a, errA, b, errB)
	}
	apply(t, st, upsert("spell_other", "k0", 2, `{"a":1,"b":3}`))
	if c, err := st.Checksum(ctx, "spell_other", stores.Range{}); err != nil || c.Equal(a) {
		t.Fatalf("checksum did not change with the content: %+v, %v", c, err)
	}

	// Tombstones are not summed; deleting a row removes it from the sum.
	apply(t, st, remove("spell_one", "zz-tomb", 1))
	if c, err := st.Checksum(ctx, "spell_one", stores.Range{}); err != nil || !c.Equal(a) {
		t.Fatalf("a new tombstone changed the checksum: %+v, %v; want %+v", c, err, a)
	}
	apply(t, st, remove("spell_one", "k3", 2))
	apply(t, st, remove("spell_other", "k3", 2), upsert("spell_other", "k0", 3, `{"a":1,"b":2}`))
	a, errA = st.Checksum(ctx, "spell_one", stores.Range{})
	b, errB = st.Checksum(ctx, "spell_other", stores.Range{})
	if errA != nil || errB != nil || !a.Equal(b) || a.Count != int64(len(spellings)-1) {
		t.Fatalf("checksums after deleting k3: %+v (%v) vs %+v (%v)", a, errA, b, errB)
	}

	testChecksumChunks(t, st)
}

// testChecksumChunks checks that Limit counts live rows and that chunks
// chained by LastKey add up to the checksum of the whole range.
func testChecksumChunks(t *testing.T, st stores.Store) {
	ctx := testContext(t)
	var writes []stores.Write
	for i, k := range scanKeys {
		w := withClient(upsert("chunks", k, 1, fmt.Sprintf(`{"i":%d,"k":%q}`, i, k)), fmt.Sprintf("c%d", i%2))
		if i%4 == 1 {
			w = remove("chunks", k, 1)
		}
		writes = append(writes, w)
	}
	apply(t, st, writes...)
	for _, client := range []string{"", "c0"} {
		whole, err := st.Checksum(ctx, "chunks", stores.Range{Client: client})
		if err != nil {
			t.Fatalf("Checksum: %v", err)
		}
		for _, limit := range []int{1, 3, 5} {
			var count int64
			var hi, lo uint64
			r := stores.Range{Limit: limit, Client: client}
			for {
				c, err := st.Checksum(ctx, "chunks", r)
				if err != nil {
					t.Fatalf("Checksum(%+v): %v", r, err)
				}
				if c.Count > int64(limit) {
					t.Fatalf("Checksum(%+v) summed %d rows", r, c.Count)
				}
				if c.Count == 0 {
					break
				}
				h, l := digestParts(t, c.Digest)
				hi, lo, count = hi+h, lo+l, count+c.Count
				if c.Count < int64(limit) {
					break
				}
				r.After = c.LastKey
			}
			wh, wl := digestParts(t, whole.Digest)
			if count != whole.Count || hi != wh || lo != wl {
				t.Fatalf("client %q, chunks of %d live rows: count %d digest %016x%016x; whole range %+v",
					client, limit, count, hi, lo, whole)
			}
		}
	}
}

// digestParts splits a digest into the two 64-bit sums it is made of, so
// chunk digests can be added up.
func digestParts(t *testing.T, digest string) (uint64, uint64) {
	t.Helper()
	b, err := hex.DecodeString(digest)
	if err != nil || len(b) != 16 {
		t.Fatalf("digest %q is not 32 hex digits", digest)
	}
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}
