package preflight

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/sqlite"
)

// Values the self-test writes: the edges of the identifier rule.
var (
	nonASCIIKey    = "préflight-ключ-鍵-🚀"
	nonASCIIClient = "clïent-東京"
	// longKey and longClient are exactly 255 bytes, with multi-byte
	// characters up to the last byte.
	longKey    = strings.Repeat("é", 127) + "k"
	longClient = "c" + strings.Repeat("ü", 127)
)

// largeDocumentBytes is the size of the self-test's large document.
const largeDocumentBytes = 1 << 20

// selfTester runs the self-test steps against one scratch entity and
// remembers every accepted Apply call, so the same writes can be replayed
// into a reference store for the checksum step.
type selfTester struct {
	cfg     Config
	st      stores.Store
	entity  string
	applied [][]stores.Write
}

// selfTest runs the writer's live contract self-test in a scratch entity
// and drops the entity afterwards, whatever happened. Each step is one row.
func selfTest(ctx context.Context, cfg Config, st stores.Store, r *storeResults) {
	dropper, ok := st.(stores.ScratchDropper)
	if !ok {
		r.fail("selftest", "", "not run: the adapter cannot drop a scratch entity (stores.ScratchDropper), and the self-test leaves nothing behind")
		return
	}
	entity, err := scratchEntity()
	if err != nil {
		r.fail("selftest", "", err.Error())
		return
	}
	t := &selfTester{cfg: cfg, st: st, entity: entity}
	defer func() {
		// A fresh context: the scratch entity is dropped even when the
		// caller's context ended (Ctrl-C) or a step failed.
		dropCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Timeout)
		defer cancel()
		if err := dropper.DropScratch(dropCtx, entity); err != nil {
			r.fail("selftest_cleanup", entity, fmt.Sprintf("could not drop the scratch entity: %v; drop it by hand", err))
			return
		}
		r.pass("selftest_cleanup", entity, "scratch entity dropped")
	}()
	steps := []struct {
		name string
		run  func(context.Context) (string, error)
	}{
		{"selftest_identifiers", t.identifiers},
		{"selftest_trailing_space", t.trailingSpace},
		{"selftest_fence", t.fence},
		{"selftest_tombstone", t.tombstone},
		{"selftest_if_absent", t.ifAbsent},
		{"selftest_ledger", t.ledger},
		{"selftest_large_document", t.largeDocument},
		{"selftest_checksum", t.checksum},
	}
	for _, step := range steps {
		stepCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		detail, err := step.run(stepCtx)
		cancel()
		if err != nil {
			r.fail(step.name, entity, err.Error())
		} else {
			r.pass(step.name, entity, detail)
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// scratchEntity names a fresh scratch entity.
func scratchEntity() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random scratch name: %w", err)
	}
	return stores.ScratchPrefix + hex.EncodeToString(b[:]), nil
}

// eventID returns an event id of exactly n bytes that starts with the
// scratch entity's name, so DropScratch can find its ledger entries.
func (t *selfTester) eventID(tag string, n int) string {
	id := t.entity + "-" + tag + "-"
	for len(id)+len("é") <= n {
		id += "é"
	}
	return id + strings.Repeat("x", n-len(id))
}

func (t *selfTester) write(key, client string, version int64, doc string) stores.Write {
	return stores.Write{Entity: t.entity, Key: key, Client: client, Version: version, Data: []byte(doc)}
}

// apply applies writes and remembers them when the store accepted them.
func (t *selfTester) apply(ctx context.Context, writes ...stores.Write) (stores.ApplyResult, error) {
	res, err := t.st.Apply(ctx, writes)
	if err == nil {
		t.applied = append(t.applied, writes)
	}
	return res, err
}

// expect applies writes and compares the result counts.
func (t *selfTester) expect(ctx context.Context, what string, want stores.ApplyResult, writes ...stores.Write) error {
	res, err := t.apply(ctx, writes...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if res != want {
		return fmt.Errorf("%s: applied %d, skipped %d, duplicates %d; want applied %d, skipped %d, duplicates %d",
			what, res.Applied, res.Skipped, res.Duplicates, want.Applied, want.Skipped, want.Duplicates)
	}
	return nil
}

// get reads a key back and checks what every step checks: the key and
// client byte for byte, the version, the tombstone flag and the document
// (canonically: stores may reformat JSON, never change it).
func (t *selfTester) get(ctx context.Context, key, client string, version int64, deleted bool, doc string) error {
	rec, err := t.st.Get(ctx, t.entity, key)
	if err != nil {
		return fmt.Errorf("read back %s: %w", quoteShort(key), err)
	}
	switch {
	case rec.Key != key:
		return fmt.Errorf("key %s read back as %s", quoteShort(key), quoteShort(rec.Key))
	case rec.Client != client:
		return fmt.Errorf("client %s of key %s read back as %s", quoteShort(client), quoteShort(key), quoteShort(rec.Client))
	case rec.Version != version:
		return fmt.Errorf("key %s has version %d, want %d", quoteShort(key), rec.Version, version)
	case rec.Deleted != deleted:
		return fmt.Errorf("key %s has deleted=%t, want %t", quoteShort(key), rec.Deleted, deleted)
	}
	if deleted {
		return nil
	}
	return sameDocument(key, []byte(doc), rec.Data)
}

func sameDocument(key string, want, got []byte) error {
	cw, err := stores.Canonical(want)
	if err != nil {
		return fmt.Errorf("self-test document of %s: %w", quoteShort(key), err)
	}
	cg, err := stores.Canonical(got)
	if err != nil {
		return fmt.Errorf("document of %s read back as invalid JSON: %w", quoteShort(key), err)
	}
	if !bytes.Equal(cw, cg) {
		return fmt.Errorf("document of %s read back different (%d bytes written, %d read)", quoteShort(key), len(want), len(got))
	}
	return nil
}

// identifiers: non-ASCII and 255-byte keys and clients read back byte for
// byte, through Get and Scan, and Scan orders keys by bytes.
func (t *selfTester) identifiers(ctx context.Context) (string, error) {
	writes := []stores.Write{
		t.write(nonASCIIKey, nonASCIIClient, 1, `{"name":"préflight ключ 鍵 🚀"}`),
		t.write(longKey, longClient, 1, `{"long":true}`),
		t.write(" inner space", nonASCIIClient, 1, `{"spaces":"leading and inner are valid"}`),
		t.write("A-upper", "c", 1, `{}`),
	}
	if err := t.expect(ctx, "apply", stores.ApplyResult{Applied: len(writes)}, writes...); err != nil {
		return "", err
	}
	for _, w := range writes {
		if err := t.get(ctx, w.Key, w.Client, 1, false, string(w.Data)); err != nil {
			return "", err
		}
	}
	recs, err := t.st.Scan(ctx, t.entity, stores.Range{})
	if err != nil {
		return "", fmt.Errorf("scan: %w", err)
	}
	var got, want []string
	for _, rec := range recs {
		got = append(got, rec.Key)
	}
	for _, w := range writes {
		want = append(want, w.Key)
	}
	slices.Sort(want) // Go compares strings by bytes: the order every store shares
	if !slices.Equal(got, want) {
		return "", fmt.Errorf("scan returned keys %q, want %q (byte order)", got, want)
	}
	return "non-ASCII and 255-byte keys and clients read back byte for byte; scan in byte order", nil
}

// trailingSpace: a key, client or event id ending in a space is refused
// with stores.ErrRejected, and nothing of the call is written.
func (t *selfTester) trailingSpace(ctx context.Context) (string, error) {
	cases := []struct {
		field string
		w     stores.Write
	}{
		{"key", t.write("trailing ", "c", 1, `{}`)},
		{"client", t.write("trailing-client", "c ", 1, `{}`)},
		{"event id", stores.Write{Entity: t.entity, Key: "trailing-id", Client: "c", Version: 1, Data: []byte(`{}`), EventID: t.entity + "-space "}},
	}
	for _, c := range cases {
		_, err := t.apply(ctx, c.w)
		switch {
		case err == nil:
			return "", fmt.Errorf("a %s ending in a space was accepted; it must be refused with a reason (stores.ErrRejected)", c.field)
		case !errors.Is(err, stores.ErrRejected):
			return "", fmt.Errorf("a %s ending in a space failed, but not as a rejection: %w", c.field, err)
		}
		if _, err := t.st.Get(ctx, t.entity, c.w.Key); !errors.Is(err, stores.ErrNotFound) {
			return "", fmt.Errorf("a refused write with a %s ending in a space left key %q behind (%v)", c.field, c.w.Key, err)
		}
	}
	return "keys, clients and event ids ending in a space are refused as rejections", nil
}

// fence: a write applies only above the stored version.
func (t *selfTester) fence(ctx context.Context) (string, error) {
	if err := t.expect(ctx, "version 2", stores.ApplyResult{Applied: 1}, t.write("fence", "c", 2, `{"v":2}`)); err != nil {
		return "", err
	}
	if err := t.expect(ctx, "stale version 1", stores.ApplyResult{Skipped: 1}, t.write("fence", "c", 1, `{"v":1}`)); err != nil {
		return "", err
	}
	if err := t.expect(ctx, "repeated version 2", stores.ApplyResult{Skipped: 1}, t.write("fence", "c", 2, `{"v":"again"}`)); err != nil {
		return "", err
	}
	if err := t.get(ctx, "fence", "c", 2, false, `{"v":2}`); err != nil {
		return "", err
	}
	return "stale and repeated versions are skipped", nil
}

// tombstone: a delete leaves a tombstone that only a higher version
// supersedes.
func (t *selfTester) tombstone(ctx context.Context) (string, error) {
	if err := t.expect(ctx, "upsert", stores.ApplyResult{Applied: 1}, t.write("tomb", "c", 1, `{"v":1}`)); err != nil {
		return "", err
	}
	del := stores.Write{Entity: t.entity, Key: "tomb", Client: "c", Version: 2, Deleted: true}
	if err := t.expect(ctx, "delete", stores.ApplyResult{Applied: 1}, del); err != nil {
		return "", err
	}
	if err := t.expect(ctx, "stale upsert after the delete", stores.ApplyResult{Skipped: 1}, t.write("tomb", "c", 2, `{"v":"resurrected"}`)); err != nil {
		return "", err
	}
	if err := t.get(ctx, "tomb", "c", 2, true, ""); err != nil {
		return "", err
	}
	if err := t.expect(ctx, "higher version after the delete", stores.ApplyResult{Applied: 1}, t.write("tomb", "c", 3, `{"v":3}`)); err != nil {
		return "", err
	}
	if err := t.get(ctx, "tomb", "c", 3, false, `{"v":3}`); err != nil {
		return "", err
	}
	return "a delete leaves a tombstone that a stale write cannot resurrect", nil
}

// ifAbsent: the backfill's insert-only write fills only keys without row or
// tombstone.
func (t *selfTester) ifAbsent(ctx context.Context) (string, error) {
	del := stores.Write{Entity: t.entity, Key: "gone", Client: "c", Version: 5, Deleted: true}
	if err := t.expect(ctx, "delete of an absent key", stores.ApplyResult{Applied: 1}, del); err != nil {
		return "", err
	}
	absent := func(key string, version int64, doc string) stores.Write {
		w := t.write(key, "c", version, doc)
		w.IfAbsent = true
		return w
	}
	if err := t.expect(ctx, "insert-only writes", stores.ApplyResult{Applied: 1, Skipped: 2},
		absent("fence", 9, `{"v":"backfill"}`), absent("gone", 9, `{"v":"backfill"}`), absent("fresh", 1, `{"v":"backfill"}`)); err != nil {
		return "", err
	}
	if err := t.get(ctx, "fence", "c", 2, false, `{"v":2}`); err != nil {
		return "", err
	}
	if err := t.get(ctx, "gone", "c", 5, true, ""); err != nil {
		return "", err
	}
	if err := t.get(ctx, "fresh", "c", 1, false, `{"v":"backfill"}`); err != nil {
		return "", err
	}
	return "insert-only writes skip rows and tombstones and fill absent keys", nil
}

// ledger: an event id of 255 bytes is recorded, and its second delivery is
// a duplicate even at a higher version.
func (t *selfTester) ledger(ctx context.Context) (string, error) {
	id := t.eventID("ledger", events.MaxIDBytes)
	first := t.write("ledger", "c", 1, `{"v":1}`)
	first.EventID = id
	if err := t.expect(ctx, "first delivery", stores.ApplyResult{Applied: 1}, first); err != nil {
		return "", err
	}
	again := t.write("ledger", "c", 2, `{"v":"redelivered"}`)
	again.EventID = id
	if err := t.expect(ctx, "second delivery of the same event id", stores.ApplyResult{Duplicates: 1}, again); err != nil {
		return "", err
	}
	if err := t.get(ctx, "ledger", "c", 1, false, `{"v":1}`); err != nil {
		return "", err
	}
	return fmt.Sprintf("a %d-byte event id is recorded and its redelivery dropped as a duplicate", len(id)), nil
}

// largeDocument: a 1 MiB document round-trips.
func (t *selfTester) largeDocument(ctx context.Context) (string, error) {
	doc := largeDocument(largeDocumentBytes)
	if err := t.expect(ctx, "1 MiB document", stores.ApplyResult{Applied: 1}, t.write("large", "c", 1, doc)); err != nil {
		return "", err
	}
	if err := t.get(ctx, "large", "c", 1, false, doc); err != nil {
		return "", err
	}
	return fmt.Sprintf("a %d-byte document round-trips", len(doc)), nil
}

// largeDocument builds a JSON object of exactly n bytes with non-ASCII
// text, escapes and an integer beyond 2^53.
func largeDocument(n int) string {
	head := `{"big":12345678901234567890123,"escaped":"tab\tquote\"","text":"`
	tail := `"}`
	var b strings.Builder
	b.Grow(n)
	b.WriteString(head)
	unit := "préflight ключ 鍵 "
	for b.Len()+len(unit)+len(tail) <= n {
		b.WriteString(unit)
	}
	for b.Len()+len(tail) < n {
		b.WriteByte('x')
	}
	b.WriteString(tail)
	return b.String()
}

// checksumRows are documents that stores spell differently and must sum
// alike: number spellings, escapes, member order, nesting.
var checksumRows = []struct{ key, client, doc string }{
	{"sum-numbers", "c", `{"a":1.0,"b":1e2,"c":-0.5e-3,"d":9007199254740993,"e":123456789012345678901234567890}`},
	{"sum-escapes", nonASCIIClient, `{"s":"caf\u00e9 \ud83d\ude80 \"q\" \\ \/","t":"café 🚀"}`},
	{"sum-order", "c", `{"z":[3,2,1],"a":{"y":null,"x":true},"m":false}`},
	{"sum-empty", "c", `{}`},
}

// checksum: the target's chunk checksums equal those of a temporary SQLite
// store that received exactly the same writes.
func (t *selfTester) checksum(ctx context.Context) (string, error) {
	var writes []stores.Write
	for _, row := range checksumRows {
		writes = append(writes, t.write(row.key, row.client, 1, row.doc))
	}
	if err := t.expect(ctx, "checksum rows", stores.ApplyResult{Applied: len(writes)}, writes...); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "switchyard-preflight-")
	if err != nil {
		return "", fmt.Errorf("reference store: %w", err)
	}
	defer os.RemoveAll(dir)
	ref, err := sqlite.Open(ctx, "sqlite:"+filepath.Join(dir, "reference.db"))
	if err != nil {
		return "", fmt.Errorf("reference store: %w", err)
	}
	defer ref.Close()
	for _, call := range t.applied {
		if _, err := ref.Apply(ctx, call); err != nil {
			return "", fmt.Errorf("reference store: %w", err)
		}
	}
	// Two chunks and the whole range, as verify sums them.
	whole, err := t.compare(ctx, ref, stores.Range{})
	if err != nil {
		return "", err
	}
	first, err := t.compare(ctx, ref, stores.Range{Limit: int(whole.Count / 2)})
	if err != nil {
		return "", err
	}
	if _, err := t.compare(ctx, ref, stores.Range{After: first.LastKey}); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d live rows sum to %s, as in SQLite, whole and in two chunks", whole.Count, whole.Digest), nil
}

// compare sums one range in the target and in the reference.
func (t *selfTester) compare(ctx context.Context, ref stores.Store, r stores.Range) (stores.Checksum, error) {
	got, err := t.st.Checksum(ctx, t.entity, r)
	if err != nil {
		return got, fmt.Errorf("checksum: %w", err)
	}
	want, err := ref.Checksum(ctx, t.entity, r)
	if err != nil {
		return got, fmt.Errorf("reference checksum: %w", err)
	}
	if !got.Equal(want) || got.LastKey != want.LastKey {
		return got, fmt.Errorf("range after %q limit %d: the target sums %d rows to %s (last key %s), SQLite %d rows to %s (last key %s)",
			r.After, r.Limit, got.Count, got.Digest, quoteShort(got.LastKey), want.Count, want.Digest, quoteShort(want.LastKey))
	}
	return got, nil
}
