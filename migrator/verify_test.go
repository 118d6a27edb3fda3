package migrator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

func (e *env) verifyConfig(src, dst stores.Reader, out io.Writer, entities ...string) VerifyConfig {
	return VerifyConfig{
		Source: src, Target: dst, SourceName: "sqlite:source", TargetName: "sqlite:target",
		Entities: entities, ChunkRows: 100, Findings: out, State: e.state,
		JS: e.js, Stream: testStream, TargetConsumer: targetName, LegacyConsumer: legacyName,
		SettleTimeout: 5 * time.Second, Log: testLog(e.t),
	}
}

// plantDifferences gives source and target 1000 equal rows, then one key
// of every kind of difference. It returns the keys by expected kind.
func plantDifferences(t *testing.T, src, dst stores.Store) map[string]FindingKind {
	seed(t, src, "tasks", 1000)
	seed(t, dst, "tasks", 1000)
	w := func(key string, v int64, deleted bool, n int64) stores.Write {
		wr := stores.Write{Entity: "tasks", Key: key, Client: "c1", Version: v, Deleted: deleted}
		if !deleted {
			wr.Data = doc(key, n)
		}
		return wr
	}
	mustApply(t, src, w("k001000", 10, false, 1), w("k000100", 12, false, 99), w("k000200", 12, true, 0),
		w("k000300", 12, false, 7), w("k000400", 12, false, 5), w("a-first", 3, false, 1))
	mustApply(t, dst, w("k000100", 11, false, 98), w("k000200", 11, false, 98), w("k000300", 11, true, 0),
		w("k000400", 12, false, 6), w("zzz-last", 4, false, 1), w("k000500", 15, false, 77))
	return map[string]FindingKind{
		"a-first":  KindMissing,     // first key, before every chunk
		"k001000":  KindMissing,     // source live, target nothing
		"zzz-last": KindExtra,       // after the last source key: the unbounded last chunk
		"k000100":  KindDifferent,   // source newer
		"k000400":  KindDifferent,   // same version, different content: a conflict
		"k000500":  KindDifferent,   // target ahead
		"k000200":  KindResurrected, // source tombstone, target live
		"k000300":  KindResurrected, // source live, target tombstone
	}
}

func readFindingsBuf(t *testing.T, b *bytes.Buffer) []Finding {
	t.Helper()
	var out []Finding
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var f Finding
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("finding %q: %v", line, err)
		}
		out = append(out, f)
	}
	return out
}

func TestVerifyFindsEveryKindAndRepairFixes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.consumer(legacyName, "legacy", subscriptions.StartAll)
	e.consumer(targetName, "target", subscriptions.StartNew)
	src, _ := sqliteStore(t, "source")
	dst, _ := sqliteStore(t, "target")
	want := plantDifferences(t, src, dst)

	var out bytes.Buffer
	res, err := Verify(ctx, e.verifyConfig(src, dst, &out, "tasks"))
	if err != nil {
		t.Fatal(err)
	}
	findings := readFindingsBuf(t, &out)
	got := map[string]FindingKind{}
	for _, f := range findings {
		got[f.Key] = f.Kind
	}
	if len(got) != len(want) || res.Differences != int64(len(want)) {
		t.Fatalf("findings %v (result %d differences), want %v", got, res.Differences, want)
	}
	for k, kind := range want {
		if got[k] != kind {
			t.Errorf("key %s: got %q, want %q", k, got[k], kind)
		}
	}
	if res.Clean || !res.Complete || res.ByKind["missing"] != 2 || res.DirtyClients["c1"]+res.DirtyClients["c2"] != int64(len(want)) {
		t.Fatalf("result %+v", res)
	}
	if last, ok, _ := e.state.LastVerify(ctx, ""); !ok || last.Clean || last.Differences != res.Differences {
		t.Fatalf("stored result %+v", last)
	}

	// Default repair: fixes what the fence allows and leaves the rest.
	byEntity, n, err := ReadFindings(bytes.NewReader(out.Bytes()))
	if err != nil || n != len(want) {
		t.Fatalf("ReadFindings: %d, %v", n, err)
	}
	rep, err := RepairFindings(ctx, src, dst, byEntity, RepairPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[OutcomeRepaired] != 5 || rep.Counts[OutcomeConflict] != 1 || rep.Counts[OutcomeTargetAhead] != 1 || rep.Counts[OutcomeExtraKept] != 1 {
		t.Fatalf("default repair counts %v", rep.Counts)
	}
	if len(rep.Remaining) != 3 {
		t.Fatalf("remaining %v, want the conflict, the target-ahead and the extra key", rep.Remaining)
	}
	if r := mustGet(t, dst, "tasks", "k000200"); !r.Deleted || r.Version != 12 {
		t.Fatalf("resurrected key not tombstoned at the source version: %+v", r)
	}

	// The explicit policy also settles the conflict and the extra row.
	rep, err = RepairFindings(ctx, src, dst, byEntity, RepairPolicy{DeleteExtra: true, OverwriteConflicts: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Remaining) != 1 || rep.Remaining[0].Key != "k000500" {
		t.Fatalf("remaining %v, want only the target-ahead key", rep.Remaining)
	}
	if r := mustGet(t, dst, "tasks", "zzz-last"); !r.Deleted || r.Version != 5 {
		t.Fatalf("extra row not tombstoned above the target version: %+v", r)
	}
	// The legacy side catches up on the target-ahead key: everything agrees.
	mustApply(t, src, stores.Write{Entity: "tasks", Key: "k000500", Client: "c1", Version: 15, Data: doc("k000500", 77)})
	out.Reset()
	res, err = Verify(ctx, e.verifyConfig(src, dst, &out, "tasks"))
	if err != nil || !res.Clean || res.Differences != 0 || out.Len() != 0 {
		t.Fatalf("verify after repair: %+v, %v, findings %s", res, err, out.String())
	}
	if res.RowsSource != res.RowsTarget {
		t.Fatalf("rows compared: source %d, target %d", res.RowsSource, res.RowsTarget)
	}
}

func TestVerifyPerClient(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.consumer(legacyName, "legacy", subscriptions.StartAll)
	e.consumer(targetName, "target", subscriptions.StartNew)
	src, _ := sqliteStore(t, "source")
	dst, _ := sqliteStore(t, "target")
	seed(t, src, "tasks", 600)
	seed(t, dst, "tasks", 600)
	// keyOf(4) belongs to c1; change it in the target.
	mustApply(t, dst, stores.Write{Entity: "tasks", Key: keyOf(4), Client: "c1", Version: 11, Data: doc("x", 1)})
	for client, wantDiffs := range map[string]int64{"c0": 0, "c1": 1} {
		cfg := e.verifyConfig(src, dst, nil, "tasks")
		cfg.Client = client
		res, err := Verify(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.Differences != wantDiffs || res.RowsSource != 200 {
			t.Fatalf("client %s: %+v", client, res)
		}
		last, ok, err := e.state.LastVerify(ctx, client)
		if err != nil || !ok || last.Clean != (wantDiffs == 0) || last.Derived {
			t.Fatalf("client %s stored result %+v, %v", client, last, err)
		}
	}
}

// countingReader counts the row scans a verify makes: a drill-down starts
// with one.
type countingReader struct {
	stores.Store
	once    sync.Once
	scanned chan struct{} // closed on the first Scan
}

func (c *countingReader) Scan(ctx context.Context, entity string, r stores.Range) ([]stores.Record, error) {
	c.once.Do(func() { close(c.scanned) })
	return c.Store.Scan(ctx, entity, r)
}

// TestVerifySettlesInFlightEvents: a row whose event the target
// subscription has not applied yet is not reported once it is applied.
func TestVerifySettlesInFlightEvents(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.consumer(legacyName, "legacy", subscriptions.StartNew)
	e.consumer(targetName, "target", subscriptions.StartNew)
	src, _ := sqliteStore(t, "source")
	dst, _ := sqliteStore(t, "target")
	seed(t, src, "tasks", 300)
	seed(t, dst, "tasks", 300)
	// The legacy side applied an update the target subscription has not.
	if _, err := e.js.Publish(ctx, "events.tasks.upsert", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	update := stores.Write{Entity: "tasks", Key: keyOf(150), Client: "c0", Version: 11, Data: doc("new", 11)}
	mustApply(t, src, update)
	// The legacy consumer has processed it.
	ackAll(t, e.js, legacyName)

	target := &countingReader{Store: dst, scanned: make(chan struct{})}
	applied := make(chan error, 1)
	go func() {
		// The target worker: once verify drilled into the difference, apply
		// the update and acknowledge the event.
		<-target.scanned
		_, err := dst.Apply(ctx, []stores.Write{update})
		if err == nil {
			err = ackOne(e.js, targetName)
		}
		applied <- err
	}()
	res, err := Verify(ctx, e.verifyConfig(src, target, nil, "tasks"))
	if err != nil {
		t.Fatal(err)
	}
	if err := <-applied; err != nil {
		t.Fatal(err)
	}
	if res.Differences != 0 || res.Settled != 1 {
		t.Fatalf("result %+v: want the in-flight key settled, not reported", res)
	}
}

func ackOne(js jetstream.JetStream, consumer string) error {
	c, err := js.Consumer(context.Background(), testStream, consumer)
	if err != nil {
		return err
	}
	msg, err := c.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		return err
	}
	return msg.DoubleAck(context.Background())
}

func ackAll(t *testing.T, js jetstream.JetStream, consumer string) {
	t.Helper()
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		st, err := subscriptions.Inspect(context.Background(), js, testStream, consumer)
		if err != nil {
			return false, err.Error()
		}
		if st.Lag == 0 {
			return true, ""
		}
		if err := ackOne(js, consumer); err != nil {
			return false, err.Error()
		}
		return false, "acked one"
	}, "consumer "+consumer+" drained")
}

func TestVerifyResumesFromCheckpoint(t *testing.T) {
	e := newEnv(t)
	e.consumer(legacyName, "legacy", subscriptions.StartAll)
	e.consumer(targetName, "target", subscriptions.StartNew)
	src, _ := sqliteStore(t, "source")
	dst, _ := sqliteStore(t, "target")
	seed(t, src, "tasks", 2000)
	seed(t, dst, "tasks", 2000)
	mustApply(t, dst, stores.Write{Entity: "tasks", Key: keyOf(1999), Client: "c1", Version: 11, Deleted: true})

	cfg := e.verifyConfig(src, dst, nil, "tasks")
	cfg.MaxRate = 4000
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := Verify(ctx, cfg); errc <- err }()
	scope := VerifyScope(cfg.Entities, "")
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		c, ok, err := e.state.verifyCheckpoint(context.Background(), scope)
		return ok && err == nil && c.Partial.RowsSource > 0, "no checkpoint yet"
	}, "verify checkpoint")
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted verify returned %v", err)
	}
	if ok, _ := e.state.HasVerifyCheckpoint(context.Background(), scope); !ok {
		t.Fatal("no checkpoint left by the interrupted verify")
	}
	if _, found, _ := e.state.LastVerify(context.Background(), ""); found {
		t.Fatal("an interrupted verify must not store a result")
	}
	cfg.MaxRate = 0
	res, err := Verify(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.RowsSource != 2000 || res.RowsTarget != 1999 || res.Differences != 1 || res.ByKind["resurrected"] != 1 {
		t.Fatalf("resumed verify %+v: want every row compared once and one finding", res)
	}
	if ok, _ := e.state.HasVerifyCheckpoint(context.Background(), scope); ok {
		t.Fatal("checkpoint kept after a complete verify")
	}
}
