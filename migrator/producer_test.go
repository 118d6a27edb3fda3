package migrator

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
	"github.com/switchyard/switchyard/workers"
)

// model is the state every record must end in: the last event published
// for its key.
type model struct {
	mu   sync.Mutex
	rows map[string]modelRow
}

type modelRow struct {
	client  string
	deleted bool
	data    json.RawMessage
}

// producer publishes events like the application does and keeps the model.
type producer struct {
	t      testing.TB
	pub    *events.Publisher
	model  *model
	entity string
	rng    *rand.Rand
	seq    int
	mu     sync.Mutex
}

func newProducer(t testing.TB, js jetstream.JetStream, entity string) *producer {
	return &producer{t: t, pub: events.NewPublisher(js, ""), model: &model{rows: map[string]modelRow{}},
		entity: entity, rng: rand.New(rand.NewPCG(1, 2))}
}

func (p *producer) event(key string, deleted bool) events.Event {
	p.seq++
	client := "c" + key[len(key)-1:]
	ev := events.Event{ID: fmt.Sprintf("ev-%d", p.seq), Type: "task.changed", Entity: p.entity, Key: key, Client: client,
		Op: events.OpUpsert, OccurredAt: time.Now().UTC()}
	if deleted {
		ev.Op = events.OpDelete
	} else {
		ev.Data = json.RawMessage(fmt.Sprintf(`{"key":%q,"rev":%d}`, key, p.seq))
	}
	return ev
}

// publish publishes evs in order and records them in the model.
func (p *producer) publish(ctx context.Context, evs []events.Event) error {
	if err := p.pub.PublishAll(ctx, evs); err != nil {
		return err
	}
	p.model.mu.Lock()
	defer p.model.mu.Unlock()
	for _, ev := range evs {
		p.model.rows[ev.Key] = modelRow{client: ev.Client, deleted: ev.Op == events.OpDelete, data: ev.Data}
	}
	return nil
}

// seed records a row that exists before any event: a document the
// application wrote into the legacy store itself.
func (m *model) seed(key, client string, data json.RawMessage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows[key] = modelRow{client: client, data: data}
}

// create publishes one upsert for each of n keys.
func (p *producer) create(n int) {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for start := 0; start < n; start += 500 {
		var evs []events.Event
		for i := start; i < min(start+500, n); i++ {
			evs = append(evs, p.event(fmt.Sprintf("t%05d", i), false))
		}
		if err := p.publish(context.Background(), evs); err != nil {
			p.t.Fatal(err)
		}
	}
}

// mutate publishes n random updates and deletes (one in five) of keys
// below keys.
func (p *producer) mutate(ctx context.Context, n, keys int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	evs := make([]events.Event, 0, n)
	for range n {
		evs = append(evs, p.event(fmt.Sprintf("t%05d", p.rng.IntN(keys)), p.rng.IntN(5) == 0))
	}
	// Stopping the producer must not abandon a batch half published: the
	// model would then miss events the stream holds.
	pubCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return p.publish(pubCtx, evs)
}

// run mutates continuously, about perTick events every 10 ms, until ctx ends.
func (p *producer) run(ctx context.Context, perTick, keys int) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if err := p.mutate(ctx, perTick, keys); err != nil {
				return err
			}
		}
	}
}

// check compares a store with the model: live rows equal, deleted rows a
// tombstone or absent.
func (m *model) check(t testing.TB, st stores.Reader, entity string) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	recs, err := st.Scan(context.Background(), entity, stores.Range{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]stores.Record{}
	for _, r := range recs {
		got[r.Key] = r
	}
	bad := 0
	for key, want := range m.rows {
		r, ok := got[key]
		switch {
		case want.deleted && (!ok || r.Deleted):
		case want.deleted:
			t.Errorf("%s: deleted in the model, live in the store (version %d)", key, r.Version)
			bad++
		case !ok || r.Deleted:
			t.Errorf("%s: live in the model, missing or deleted in the store", key)
			bad++
		default:
			same, err := sameContent(&stores.Record{Client: want.client, Data: want.data}, &r)
			if err != nil || !same {
				t.Errorf("%s: model %s, store %s (version %d)", key, want.data, r.Data, r.Version)
				bad++
			}
		}
		if bad > 10 {
			t.Fatal("too many differences")
		}
	}
	for key, r := range got {
		if _, ok := m.rows[key]; !ok && !r.Deleted {
			t.Errorf("%s: in the store, never published", key)
		}
	}
}

// startWorker runs a subscription worker into sink until the test ends or
// the returned stop is called (which waits for the drain).
func startWorker(t testing.TB, js jetstream.JetStream, consumer string, sink stores.Writer) (stop func()) {
	t.Helper()
	w, err := workers.New(js, sink, workers.Config{Stream: testStream, Consumer: consumer, MaxWait: 20 * time.Millisecond, Grace: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil && ctx.Err() == nil {
				t.Errorf("worker %s: %v", consumer, err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// drained waits until a subscription has committed everything published.
func drained(t testing.TB, js jetstream.JetStream, consumer string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		st, err := subscriptions.Inspect(context.Background(), js, testStream, consumer)
		if err != nil {
			return false, err.Error()
		}
		return st.Lag == 0, fmt.Sprintf("lag %d, %d redelivered (a batch the store keeps refusing is redelivered forever)", st.Lag, st.Redelivered)
	}, consumer+" drained")
}
