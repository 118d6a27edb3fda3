package storetest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/switchyard/switchyard/stores"
)

// modelSeedEnv replays a model test run: set it to the seed a failure logged.
const modelSeedEnv = "SWITCHYARD_MODEL_SEED"

// modelRounds runs independent histories (one entity each), so one test
// run covers several random schedules.
const modelRounds = 3

// testModel delivers random histories of upserts and deletes over 100 keys
// with duplicates, reordering and redeliveries, interleaved with backfill
// (IfAbsent) batches, and checks after every Apply that the store changed
// exactly the rows a model says, and at the end that the store holds the
// model's table.
func testModel(t *testing.T, open Opener) {
	seed := rand.Uint64()
	if s := os.Getenv(modelSeedEnv); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q is not a seed", modelSeedEnv, s)
		}
		seed = v
	}
	t.Logf("model seed %d (replay with %s=%d)", seed, modelSeedEnv, seed)
	st := open(t)
	for round := range modelRounds {
		entity := fmt.Sprintf("model_%d", round)
		rng := rand.New(rand.NewPCG(seed, uint64(round)))
		batches := modelDeliveries(rng, entity)
		m := model{}
		for i, batch := range batches {
			wantApplied := m.apply(batch)
			res := apply(t, st, batch...)
			if res.Applied != wantApplied {
				t.Fatalf("seed %d, %s, batch %d of %d: applied %d writes, the model %d (result %+v)",
					seed, entity, i+1, len(batches), res.Applied, wantApplied, res)
			}
		}
		m.check(t, st, entity, seed)
	}
}

// modelRow is the state of one key in the model.
type modelRow struct {
	client  string
	version int64
	deleted bool
	data    json.RawMessage
}

// model is what a store must hold after the batches applied so far.
type model map[string]modelRow

// apply applies one batch to the model with the store rules and returns how
// many rows it changed: per key, the highest ordinary write applies if its
// version beats the stored one; with no ordinary write of the key in the
// batch, the highest IfAbsent write applies if the key has no row and no
// tombstone.
func (m model) apply(batch []stores.Write) int {
	live := map[string]stores.Write{}
	absent := map[string]stores.Write{}
	for _, w := range batch {
		pick := live
		if w.IfAbsent {
			pick = absent
		}
		if cur, ok := pick[w.Key]; !ok || w.Version > cur.Version {
			pick[w.Key] = w
		}
	}
	changed := 0
	set := func(w stores.Write) {
		row := modelRow{client: w.Client, version: w.Version, deleted: w.Deleted}
		if !w.Deleted {
			row.data = w.Data
		}
		m[w.Key] = row
		changed++
	}
	for key, w := range live {
		if cur, ok := m[key]; !ok || w.Version > cur.version {
			set(w)
		}
	}
	for key, w := range absent {
		if _, ok := live[key]; ok {
			continue
		}
		if _, ok := m[key]; !ok {
			set(w)
		}
	}
	return changed
}

// check compares the store's table with the model, row by row and by
// checksum.
func (m model) check(t *testing.T, st stores.Store, entity string, seed uint64) {
	t.Helper()
	recs := scanAll(t, st, entity, stores.Range{}, 17)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if got := keysOf(recs); !slices.Equal(got, keys) {
		t.Fatalf("seed %d, %s: store has keys %q, the model %q", seed, entity, got, keys)
	}
	var live []stores.Record
	for i, rec := range recs {
		want := m[keys[i]]
		if rec.Version != want.version || rec.Deleted != want.deleted || rec.Client != want.client {
			t.Fatalf("seed %d, %s/%s: store has version %d deleted %v client %q, the model version %d deleted %v client %q",
				seed, entity, rec.Key, rec.Version, rec.Deleted, rec.Client, want.version, want.deleted, want.client)
		}
		if want.deleted {
			continue
		}
		if err := sameJSON(rec.Data, want.data); err != nil {
			t.Fatalf("seed %d, %s/%s: %v", seed, entity, rec.Key, err)
		}
		live = append(live, stores.Record{Key: rec.Key, Client: want.client, Data: want.data})
	}
	want, err := stores.ChecksumRecords(live)
	if err != nil {
		t.Fatalf("checksum of the model: %v", err)
	}
	got, err := st.Checksum(testContext(t), entity, stores.Range{})
	if err != nil || !got.Equal(want) {
		t.Fatalf("seed %d, %s: checksum %+v, %v; the model's %+v", seed, entity, got, err, want)
	}
}

// modelDeliveries builds the batches of one history: every key but a few
// gets a run of upserts and deletes with increasing versions, each event
// with an id; the events are shuffled, some are duplicated, some batches
// are delivered again later (a crash between commit and ack), and backfill
// batches for most keys (with versions below, at and above the live ones)
// are interleaved.
func modelDeliveries(rng *rand.Rand, entity string) [][]stores.Write {
	const keys = 100
	var events []stores.Write
	maxVersion := make([]int64, keys)
	for k := range keys {
		key := fmt.Sprintf("key-%03d", k)
		if k%5 == 4 {
			continue // backfill only
		}
		var v int64
		for n := 1 + rng.IntN(10); n > 0; n-- {
			v += 1 + rng.Int64N(3)
			w := stores.Write{
				Entity: entity, Key: key, Client: fmt.Sprintf("client-%d", k%4), Version: v,
				EventID: fmt.Sprintf("%s-%s-v%d", entity, key, v),
			}
			if rng.IntN(10) < 3 {
				w.Deleted = true
			} else {
				w.Data = json.RawMessage(fmt.Sprintf(`{"key":%q,"v":%d,"r":%d,"tags":["t%d"]}`, key, v, rng.IntN(1000), v%3))
			}
			events = append(events, w)
		}
		maxVersion[k] = v
	}
	rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	// Duplicates: a fifth of the events are delivered a second time,
	// somewhere later in the stream.
	stream := slices.Clone(events)
	for _, ev := range events {
		if rng.IntN(5) == 0 {
			at := rng.IntN(len(stream) + 1)
			stream = slices.Insert(stream, at, ev)
		}
	}
	var batches [][]stores.Write
	for len(stream) > 0 {
		n := min(len(stream), 1+rng.IntN(40))
		batches = append(batches, stream[:n:n])
		stream = stream[n:]
		// Redelivery: an earlier batch comes again, shuffled.
		if rng.IntN(6) == 0 {
			again := slices.Clone(batches[rng.IntN(len(batches))])
			rng.Shuffle(len(again), func(i, j int) { again[i], again[j] = again[j], again[i] })
			batches = append(batches, again)
		}
	}
	// Backfill: most keys, in batches slotted in anywhere, some twice.
	var fill []stores.Write
	for k := range keys {
		if rng.IntN(10) < 3 {
			continue
		}
		key := fmt.Sprintf("key-%03d", k)
		for n := 1 + rng.IntN(2); n > 0; n-- {
			v := rng.Int64N(maxVersion[k] + 3)
			fill = append(fill, stores.Write{
				Entity: entity, Key: key, Client: fmt.Sprintf("client-%d", k%4), Version: v, IfAbsent: true,
				Data: json.RawMessage(fmt.Sprintf(`{"key":%q,"v":%d,"backfill":true}`, key, v)),
			})
		}
	}
	rng.Shuffle(len(fill), func(i, j int) { fill[i], fill[j] = fill[j], fill[i] })
	for len(fill) > 0 {
		n := min(len(fill), 1+rng.IntN(25))
		at := rng.IntN(len(batches) + 1)
		chunk := fill[:n:n]
		// Some backfill rides in the same call as live writes.
		if at < len(batches) && rng.IntN(3) == 0 {
			batches[at] = append(slices.Clone(batches[at]), chunk...)
		} else {
			batches = slices.Insert(batches, at, chunk)
		}
		fill = fill[n:]
	}
	return batches
}
