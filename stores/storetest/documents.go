package storetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/stores"
)

// roundTripDocs must come back from every store equal in canonical form.
// Integers stay within 2^53 because RethinkDB keeps numbers as doubles;
// the SQL adapters test larger ones in their own packages.
var roundTripDocs = []string{
	`{}`,
	`{"a":null,"b":true,"c":false,"d":"","e":[],"f":{}}`,
	`{"nested":{"deeper":{"deepest":{"list":[1,[2,[3,{"x":"y"}]]]}}}}`,
	`{"arr":[1,"two",3.5,null,true,{"k":"v"},[]]}`,
	`{"unicode":"héllo wörld — 日本語 😀","key_é":"ключ"}`,
	`{"escapes":"quote \" backslash \\ slash / nl \n tab \t cr \r ctl \u0001 bell \u0007"}`,
	`{"html":"<a href=\"x\">&amp;</a>"}`,
	`{"max_safe":9007199254740991,"min_safe":-9007199254740991,"zero":0,"neg":-42}`,
	`{"floats":[3.141592653589793,-0.5,1e-7,1.5e10,2.5e-300,0.1,123456.789]}`,
	`{"spaced" : [ 1 , 2 ] ,"order":{"z":1,"a":2,"m":3}}`,
	`{"long":"` + strings.Repeat("0123456789abcdef", 4096) + `"}`,
	`{"many":[` + strings.TrimSuffix(strings.Repeat(`{"i":1,"s":"x"},`, 500), ",") + `]}`,
}

func testDocuments(t *testing.T, open Opener) {
	st := open(t)
	ctx := testContext(t)
	var writes []stores.Write
	var expect []stores.Record
	for i, doc := range roundTripDocs {
		if !json.Valid([]byte(doc)) {
			t.Fatalf("test document %d is not JSON", i)
		}
		key := fmt.Sprintf("doc-%02d", i)
		writes = append(writes, upsert("docs", key, 1, doc))
		expect = append(expect, stores.Record{Key: key, Client: "c1", Data: json.RawMessage(doc)})
	}
	apply(t, st, writes...)
	for i, doc := range roundTripDocs {
		rec := get(t, st, "docs", writes[i].Key)
		if err := sameJSON(rec.Data, []byte(doc)); err != nil {
			t.Fatalf("Get(doc %d): %v", i, err)
		}
		if !json.Valid(rec.Data) {
			t.Fatalf("Get(doc %d) returned invalid JSON %s", i, rec.Data)
		}
	}
	scanned := scanAll(t, st, "docs", stores.Range{}, 5)
	if len(scanned) != len(roundTripDocs) {
		t.Fatalf("scanned %d documents, want %d", len(scanned), len(roundTripDocs))
	}
	for i, rec := range scanned {
		if err := sameJSON(rec.Data, []byte(roundTripDocs[i])); err != nil {
			t.Fatalf("Scan(doc %d): %v", i, err)
		}
	}
	want, err := stores.ChecksumRecords(expect)
	if err != nil {
		t.Fatalf("checksum of the input: %v", err)
	}
	got, err := st.Checksum(ctx, "docs", stores.Range{})
	if err != nil || !got.Equal(want) {
		t.Fatalf("Checksum(docs) = %+v, %v; want %+v (the input's)", got, err, want)
	}
}
