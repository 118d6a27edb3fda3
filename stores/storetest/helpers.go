package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchyard/switchyard/stores"
)

// testTimeout bounds every store call of the suite, so a hung store fails
// the test instead of stalling it.
const testTimeout = 60 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func upsert(entity, key string, version int64, doc string) stores.Write {
	return stores.Write{Entity: entity, Key: key, Client: "c1", Version: version, Data: json.RawMessage(doc)}
}

func remove(entity, key string, version int64) stores.Write {
	return stores.Write{Entity: entity, Key: key, Client: "c1", Version: version, Deleted: true}
}

func backfill(entity, key string, version int64, doc string) stores.Write {
	w := upsert(entity, key, version, doc)
	w.IfAbsent = true
	return w
}

func withID(w stores.Write, id string) stores.Write {
	w.EventID = id
	return w
}

func withClient(w stores.Write, client string) stores.Write {
	w.Client = client
	return w
}

// apply applies writes and fails the test on error. It also checks that the
// result accounts for every write.
func apply(t *testing.T, st stores.Store, writes ...stores.Write) stores.ApplyResult {
	t.Helper()
	res, err := st.Apply(testContext(t), writes)
	if err != nil {
		t.Fatalf("Apply(%d writes): %v", len(writes), err)
	}
	if got := res.Applied + res.Skipped + res.Duplicates; got != len(writes) {
		t.Fatalf("Apply(%d writes) = %+v: accounts for %d writes", len(writes), res, got)
	}
	return res
}

func wantResult(t *testing.T, what string, got, want stores.ApplyResult) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: result %+v, want %+v", what, got, want)
	}
}

// get reads a row and fails the test on error.
func get(t *testing.T, st stores.Store, entity, key string) stores.Record {
	t.Helper()
	rec, err := st.Get(testContext(t), entity, key)
	if err != nil {
		t.Fatalf("Get(%s, %q): %v", entity, key, err)
	}
	return rec
}

// wantRow checks a row's version, tombstone flag and (for live rows) its
// document, compared canonically.
func wantRow(t *testing.T, st stores.Store, entity, key string, version int64, deleted bool, doc string) {
	t.Helper()
	rec := get(t, st, entity, key)
	if rec.Key != key || rec.Version != version || rec.Deleted != deleted {
		t.Fatalf("Get(%s, %q) = key %q version %d deleted %v, want version %d deleted %v",
			entity, key, rec.Key, rec.Version, rec.Deleted, version, deleted)
	}
	if deleted {
		if rec.Data != nil {
			t.Fatalf("Get(%s, %q): tombstone carries data %s", entity, key, rec.Data)
		}
		return
	}
	if err := sameJSON(rec.Data, []byte(doc)); err != nil {
		t.Fatalf("Get(%s, %q): %v", entity, key, err)
	}
}

func wantNotFound(t *testing.T, st stores.Store, entity, key string) {
	t.Helper()
	rec, err := st.Get(testContext(t), entity, key)
	if !errors.Is(err, stores.ErrNotFound) {
		t.Fatalf("Get(%s, %q) = %+v, %v; want an error matching ErrNotFound", entity, key, rec, err)
	}
}

// sameJSON compares two documents by their canonical form.
func sameJSON(got, want []byte) error {
	g, err := stores.Canonical(got)
	if err != nil {
		return fmt.Errorf("stored document %s: %w", got, err)
	}
	w, err := stores.Canonical(want)
	if err != nil {
		return fmt.Errorf("expected document %s: %w", want, err)
	}
	if string(g) != string(w) {
		return fmt.Errorf("document %s, want %s", g, w)
	}
	return nil
}

// scanAll reads a whole range in chunks of chunk rows, checking that every
// chunk is in strictly ascending key order and within the range.
func scanAll(t *testing.T, st stores.Store, entity string, r stores.Range, chunk int) []stores.Record {
	t.Helper()
	var out []stores.Record
	cur := r
	cur.Limit = chunk
	for {
		recs, err := st.Scan(testContext(t), entity, cur)
		if err != nil {
			t.Fatalf("Scan(%s, %+v): %v", entity, cur, err)
		}
		if len(recs) > chunk {
			t.Fatalf("Scan(%s, %+v) returned %d rows, above the limit", entity, cur, len(recs))
		}
		for _, rec := range recs {
			if !r.Contains(rec.Key) {
				t.Fatalf("Scan(%s, %+v) returned key %q outside the range", entity, cur, rec.Key)
			}
			if n := len(out); n > 0 && out[n-1].Key >= rec.Key {
				t.Fatalf("Scan(%s) keys out of byte order: %q then %q", entity, out[n-1].Key, rec.Key)
			}
			if r.Client != "" && rec.Client != r.Client {
				t.Fatalf("Scan(%s, client %q) returned a row of client %q", entity, r.Client, rec.Client)
			}
			out = append(out, rec)
		}
		if len(recs) < chunk {
			return out
		}
		cur.After = recs[len(recs)-1].Key
	}
}

func keysOf(recs []stores.Record) []string {
	keys := make([]string, len(recs))
	for i, r := range recs {
		keys[i] = r.Key
	}
	return keys
}
