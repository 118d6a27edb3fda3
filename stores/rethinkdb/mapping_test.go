package rethinkdb

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/stores"
)

func testConfig(t *testing.T) Config {
	t.Helper()
	cfg, err := Config{Database: "app"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestRoundTripKeepsData writes documents through writeDocument, reads the
// result back through readRecord (after a JSON trip, as over the wire) and
// expects the written data, canonically equal.
func TestRoundTripKeepsData(t *testing.T) {
	cfg := testConfig(t)
	docs := []string{
		`{}`,
		`{"id":"k","client":"c","title":"both fields present"}`,
		`{"id":"k","title":"key only"}`,
		`{"nested":{"a":{"b":[1,[2,{"c":null}]]}},"empty":{},"list":[]}`,
		`{"floats":[0.1,-0.5,1e-7,1.5e10,2.5e-300,3.141592653589793],"ints":[0,-42,9007199254740992,-9007199254740992]}`,
		`{"whole_float":1.0,"exp":1e21,"neg_zero":-0}`,
		`{"unicode":"日本語 😀","escapes":"\"\\\n\u0001","html":"<a>&</a>"}`,
		`{"looks_like_time":"2026-01-02T03:04:05Z","bools":[true,false]}`,
		// An application's own optimistic-lock counter and soft-delete flag
		// are data: the bookkeeping fields are namespaced.
		`{"version":7,"deleted":true,"title":"soft-deleted by the application"}`,
	}
	for _, d := range docs {
		w := stores.Write{Entity: "task", Key: "k", Client: "c", Version: 5, Data: json.RawMessage(d)}
		written, reason := cfg.writeDocument(w)
		if reason != "" {
			t.Fatalf("writeDocument(%s): %s", d, reason)
		}
		wire, err := json.Marshal(written)
		if err != nil {
			t.Fatal(err)
		}
		var read any
		dec := json.NewDecoder(strings.NewReader(string(wire)))
		dec.UseNumber()
		if err := dec.Decode(&read); err != nil {
			t.Fatal(err)
		}
		rec, err := cfg.readRecord(read)
		if err != nil {
			t.Fatalf("readRecord(%s): %v", wire, err)
		}
		want, _ := stores.Canonical([]byte(d))
		got, err := stores.Canonical(rec.Data)
		if err != nil || string(got) != string(want) || rec.Key != "k" || rec.Client != "c" || rec.Version != 5 {
			t.Fatalf("round trip of %s gave %+v data %s, want %s", d, rec, got, want)
		}
	}
}

func TestTombstoneDocument(t *testing.T) {
	cfg := testConfig(t)
	doc, reason := cfg.writeDocument(stores.Write{Entity: "task", Key: "k", Client: "c", Version: 3, Deleted: true})
	if reason != "" {
		t.Fatal(reason)
	}
	got, _ := json.Marshal(doc)
	if string(got) != `{"_switchyard_deleted":true,"_switchyard_version":3,"client":"c","id":"k"}` {
		t.Fatalf("tombstone = %s", got)
	}
}

func TestCustomFields(t *testing.T) {
	cfg, err := Config{Database: "app", KeyField: "uuid", ClientField: "tenant", VersionField: "_v", DeletedField: "_gone", AddedField: "_added"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	doc, reason := cfg.writeDocument(stores.Write{Entity: "task", Key: "k", Client: "c", Version: 2, Data: json.RawMessage(`{"version":"app's own"}`)})
	if reason != "" {
		t.Fatal(reason)
	}
	got, _ := json.Marshal(doc)
	if string(got) != `{"_added":["uuid","tenant"],"_v":2,"tenant":"c","uuid":"k","version":"app's own"}` {
		t.Fatalf("document = %s", got)
	}
	if _, err := (Config{Database: "app", KeyField: "id", ClientField: "id"}).withDefaults(); !errors.Is(err, ErrBadDSN) {
		t.Fatalf("duplicate field names: %v", err)
	}
}

func TestReadRecordRefusesBadBookkeeping(t *testing.T) {
	cfg := testConfig(t)
	for _, doc := range []map[string]any{
		{"id": 5.0},
		{"id": "k", "client": 1.0},
		{"id": "k", "_switchyard_version": 1.5},
		{"id": "k", "_switchyard_version": "3"},
		{"id": "k", "_switchyard_updated_at": "yesterday"},
		{"id": "k", "t": map[string]any{"$reql_type$": "GROUPED_DATA"}},
		{"id": "k", "t": map[string]any{"$reql_type$": "TIME", "epoch_time": 1.0, "timezone": "nowhere"}},
	} {
		if _, err := cfg.readRecord(doc); err == nil {
			t.Errorf("readRecord(%v) succeeded", doc)
		}
	}
}
