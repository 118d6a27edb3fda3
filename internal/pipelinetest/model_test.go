package pipelinetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
)

const entity = "tasks"

// genEvents returns n events over keys keys, ids starting at first: about
// four upserts (full state) for every delete, like a to-do list.
func genEvents(seed uint64, first, n, keys int) []events.Event {
	rng := rand.New(rand.NewPCG(seed, uint64(first)))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]events.Event, n)
	for i := range out {
		id := first + i
		key := fmt.Sprintf("k%03d", rng.IntN(keys))
		ev := events.Event{
			ID:         fmt.Sprintf("ev-%07d", id),
			Type:       "task.saved",
			Entity:     entity,
			Key:        key,
			Client:     fmt.Sprintf("client-%d", len(key)%3+rng.IntN(2)),
			Op:         events.OpUpsert,
			OccurredAt: base.Add(time.Duration(id) * time.Millisecond),
		}
		if rng.IntN(5) == 0 {
			ev.Op, ev.Type = events.OpDelete, "task.deleted"
		} else {
			ev.Data = json.RawMessage(fmt.Sprintf(`{"title":"task %s rev %d","done":%t,"rev":%d}`, key, id, id%2 == 0, id))
		}
		out[i] = ev
	}
	return out
}

// modelRow is what the table must hold for one key.
type modelRow struct {
	Version int64
	Deleted bool
	Client  string
	Data    json.RawMessage
}

// streamModel folds the stream, in sequence order, into the table the store
// must end up with under stream-sequence versions: for each key the last
// valid event wins, and an event id seen before is a producer retry the
// ledger drops. Poison (anything a decoder with maxEventBytes refuses; zero
// means the default limit) is left out.
func streamModel(t *testing.T, js jetstream.JetStream, stream string, maxEventBytes int) (map[string]modelRow, uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := info.State.LastSeq
	model := map[string]modelRow{}
	if last == 0 {
		return model, 0
	}
	c, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	decoder := events.Decoder{MaxEventBytes: maxEventBytes}
	seen := map[string]bool{}
	unanswered := 0 // pull requests in a row that found no responder
	for done := false; !done; {
		batch, err := c.Fetch(500, jetstream.FetchMaxWait(5*time.Second))
		if errors.Is(err, nats.ErrNoResponders) && unanswered < 100 {
			unanswered++ // see below
			t.Logf("read stream: %v; asking again", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatalf("read stream: %v", err)
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			md, err := msg.Metadata()
			if err != nil {
				t.Fatal(err)
			}
			if md.Sequence.Stream >= last {
				done = true
			}
			ev, err := decoder.Decode(msg.Data())
			if err != nil || events.CheckSubject("", msg.Subject(), ev) != nil || ev.Version != 0 {
				continue
			}
			if seen[ev.ID] {
				continue
			}
			seen[ev.ID] = true
			row := modelRow{Version: int64(md.Sequence.Stream), Client: ev.Client, Deleted: ev.Op == events.OpDelete}
			if !row.Deleted {
				row.Data = ev.Data
			}
			model[ev.Key] = row
		}
		err = batch.Error()
		if n == 0 && errors.Is(err, nats.ErrNoResponders) && unanswered < 100 {
			// On a cluster the pull request can reach the client's node
			// before the new ordered consumer's interest has: ask again.
			unanswered++
			t.Logf("read stream: %v; asking again", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		unanswered = 0
		if err != nil {
			t.Fatalf("read stream: %v", err)
		}
		if n == 0 {
			t.Fatalf("stream %s: nothing delivered before sequence %d", stream, last)
		}
	}
	return model, last
}

// assertTable checks that the store holds exactly the model's rows.
func assertTable(t *testing.T, dsn string, model map[string]modelRow) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := all.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open %s: %v", stores.Redact(dsn), err)
	}
	defer st.Close()
	rows, err := st.Scan(ctx, entity, stores.Range{})
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	got := map[string]stores.Record{}
	for _, r := range rows {
		got[r.Key] = r
	}
	var problems []string
	for key, want := range model {
		r, ok := got[key]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s: missing (want version %d deleted=%v)", key, want.Version, want.Deleted))
		case r.Version != want.Version || r.Deleted != want.Deleted:
			problems = append(problems, fmt.Sprintf("%s: version %d deleted=%v, want version %d deleted=%v", key, r.Version, r.Deleted, want.Version, want.Deleted))
		case !want.Deleted && (r.Client != want.Client || !sameJSON(r.Data, want.Data)):
			problems = append(problems, fmt.Sprintf("%s: client %s data %s, want client %s data %s", key, r.Client, r.Data, want.Client, want.Data))
		}
	}
	for key := range got {
		if _, ok := model[key]; !ok {
			problems = append(problems, fmt.Sprintf("%s: in the table but never published", key))
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		if len(problems) > 20 {
			problems = append(problems[:20], fmt.Sprintf("... and %d more", len(problems)-20))
		}
		t.Fatalf("the table differs from the model in %d rows:\n%s", len(problems), joinLines(problems))
	}
	if len(model) == 0 {
		t.Fatal("the model is empty: the test published nothing")
	}
}

func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func joinLines(lines []string) string {
	out := ""
	for _, l := range lines {
		out += "  " + l + "\n"
	}
	return out
}
