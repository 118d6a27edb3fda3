package workers_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/sqlite"
	"github.com/switchyard/switchyard/subscriptions"
)

// modelRow is what the table must hold for a key.
type modelRow struct {
	deleted bool
	data    string
}

func openSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "target.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// checkModel compares the store's tasks table with the model.
func checkModel(t *testing.T, st stores.Reader, model map[string]modelRow) {
	t.Helper()
	recs, err := st.Scan(context.Background(), "tasks", stores.Range{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]modelRow{}
	for _, r := range recs {
		got[r.Key] = modelRow{deleted: r.Deleted, data: string(r.Data)}
	}
	if len(got) != len(model) {
		t.Errorf("store holds %d keys, model %d", len(got), len(model))
	}
	for k, want := range model {
		if g, ok := got[k]; !ok || g.deleted != want.deleted || (!want.deleted && g.data != want.data) {
			t.Errorf("key %s: store %+v (present %v), model %+v", k, g, ok, want)
		}
	}
}

// TestTwoWorkersShareOneConsumer runs two workers on one durable consumer
// into one SQLite file, with stream-sequence versions: the last event of a
// key in stream order wins and deletes stay deleted.
func TestTwoWorkersShareOneConsumer(t *testing.T) {
	e := newEnv(t)
	st := openSQLite(t)
	rng := rand.New(rand.NewPCG(1, 2))
	const n, keys = 1500, 100
	model := map[string]modelRow{}
	evs := make([]events.Event, n)
	for i := range evs {
		key := fmt.Sprintf("k%03d", rng.IntN(keys))
		id := fmt.Sprintf("ev-%d", i)
		if rng.IntN(5) == 0 {
			evs[i] = deletion(id, key)
			model[key] = modelRow{deleted: true}
		} else {
			data := fmt.Sprintf(`{"i":%d}`, i)
			evs[i] = upsert(id, key, data)
			model[key] = modelRow{data: data}
		}
	}
	cfg := testConfig()
	cfg.BatchSize = 50
	a, b := e.worker(st, cfg), e.worker(st, cfg)
	e.run(a)
	e.run(b)
	for i := 0; i < n; i += 300 {
		e.publish(evs[i:min(i+300, n)]...)
	}
	e.waitAcked(n)
	checkModel(t, st, model)
	sa, sb := a.Stats(), b.Stats()
	if sa.Batches == 0 || sb.Batches == 0 {
		t.Errorf("one worker did nothing: %+v / %+v", sa, sb)
	}
	if total := sa.Applied + sa.Skipped + sb.Applied + sb.Skipped; total != n {
		t.Errorf("applied+skipped = %d, want %d", total, n)
	}
}

// TestProducerVersionsUnderReorderingAndDuplicates publishes producer
// versions shuffled, with duplicates under new ids: the highest version of
// each key wins.
func TestProducerVersionsUnderReorderingAndDuplicates(t *testing.T) {
	e := newEnv(t)
	if _, err := subscriptions.EnsureConsumer(context.Background(), e.js, subscriptions.ConsumerSpec{
		Stream: testStream, Name: "versioned", VersionSource: string(events.VersionFromProducer),
	}); err != nil {
		t.Fatal(err)
	}
	st := openSQLite(t)
	rng := rand.New(rand.NewPCG(3, 4))
	const keys = 50
	var evs []events.Event
	model := map[string]modelRow{}
	for k := range keys {
		key := fmt.Sprintf("k%03d", k)
		versions := 1 + rng.IntN(8)
		for v := 1; v <= versions; v++ {
			id := fmt.Sprintf("%s-v%d", key, v)
			var ev events.Event
			if v == versions && rng.IntN(3) == 0 {
				ev = deletion(id, key)
				model[key] = modelRow{deleted: true}
			} else {
				data := fmt.Sprintf(`{"v":%d}`, v)
				ev = upsert(id, key, data)
				model[key] = modelRow{data: data}
			}
			ev.Version = int64(v)
			evs = append(evs, ev)
			if rng.IntN(4) == 0 { // a duplicate delivery under another id
				dup := ev
				dup.ID += "-again"
				evs = append(evs, dup)
			}
		}
	}
	rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	cfg := testConfig()
	cfg.Consumer = "versioned"
	cfg.VersionSource = events.VersionFromProducer
	cfg.BatchSize = 20
	w := e.worker(st, cfg)
	e.run(w)
	e.publish(evs...)
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		s := w.Stats()
		return s.Applied+s.Skipped+s.Duplicates == uint64(len(evs)), fmt.Sprintf("%+v", s)
	}, "every event handled")
	checkModel(t, st, model)
}
