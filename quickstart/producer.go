package quickstart

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/lifecycle"
)

// DemoClients are the tenants the to-do producer writes for.
var DemoClients = []string{"acme", "globex", "initech", "umbrella", "hooli"}

// TaskEntity is the entity the to-do producer writes.
const TaskEntity = "task"

// task is the producer's own view of one to-do item.
type task struct {
	Key    string `json:"id"`
	Client string `json:"client"`
	Title  string `json:"title"`
	Done   bool   `json:"done"`
}

var titles = []string{
	"call the supplier", "renew the certificate", "review the invoice",
	"plan the offsite", "update the runbook", "answer the ticket",
	"rotate the keys", "book the venue", "fix the flaky test", "ship the release",
}

// producer is the to-do application: it creates tasks, renames them, marks
// them done and deletes them, publishing one event per change.
type producer struct {
	pub   *events.Publisher
	rng   *mrand.Rand
	run   string // distinguishes keys and event ids across runs
	seq   int
	live  []*task
	count atomic.Int64
}

func newProducer(pub *events.Publisher) *producer {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return &producer{pub: pub, rng: mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 7)), run: hex.EncodeToString(b[:])}
}

// Published returns how many events the producer has published.
func (p *producer) Published() int64 { return p.count.Load() }

// run publishes about rate events per second until ctx ends. A publish that
// fails (the broker is busy or stopping) is retried with the same event id,
// so it is stored once.
func (p *producer) loop(ctx context.Context, rate int) error {
	tick := time.NewTicker(time.Second / time.Duration(max(rate, 1)))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		ev := p.next()
		if err := lifecycle.Retry(ctx, publishRetry, func() error {
			_, err := p.pub.Publish(ctx, ev)
			return err
		}); err != nil {
			return nil // only the end of ctx stops the retries
		}
		p.count.Add(1)
	}
}

// publishRetry retries a failed publish every 200 ms until ctx ends.
var publishRetry = lifecycle.Policy{Backoff: lifecycle.Backoff{Min: 200 * time.Millisecond, Max: 200 * time.Millisecond}}

// next picks the next change: mostly creates while there are few tasks,
// then a mix of renames, completions and deletes.
func (p *producer) next() events.Event {
	p.seq++
	now := time.Now().UTC()
	ev := events.Event{ID: fmt.Sprintf("dev-%s-%d", p.run, p.seq), Entity: TaskEntity, OccurredAt: now}
	roll := p.rng.IntN(100)
	switch {
	case len(p.live) < 20 || roll < 35:
		client := DemoClients[p.rng.IntN(len(DemoClients))]
		t := &task{
			Key:    fmt.Sprintf("%s-%s-%05d", client, p.run, p.seq),
			Client: client,
			Title:  titles[p.rng.IntN(len(titles))],
		}
		p.live = append(p.live, t)
		return p.upsert(ev, "task.created", t)
	case roll < 65:
		t := p.live[p.rng.IntN(len(p.live))]
		t.Title = titles[p.rng.IntN(len(titles))] + " (" + now.Format("15:04:05") + ")"
		return p.upsert(ev, "task.renamed", t)
	case roll < 88:
		t := p.live[p.rng.IntN(len(p.live))]
		t.Done = !t.Done
		return p.upsert(ev, "task.completed", t)
	default:
		i := p.rng.IntN(len(p.live))
		t := p.live[i]
		p.live = append(p.live[:i], p.live[i+1:]...)
		ev.Type, ev.Key, ev.Client, ev.Op = "task.deleted", t.Key, t.Client, events.OpDelete
		return ev
	}
}

func (p *producer) upsert(ev events.Event, typ string, t *task) events.Event {
	data, _ := json.Marshal(t) // a struct of strings and a bool always encodes
	ev.Type, ev.Key, ev.Client, ev.Op, ev.Data = typ, t.Key, t.Client, events.OpUpsert, data
	return ev
}
