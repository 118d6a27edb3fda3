package workers_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
	"github.com/switchyard/switchyard/workers"
)

// memorySink is a stores.Writer with the version fence and the ledger, and
// a rejection rule, so replay can be checked write by write. The adapters'
// own semantics are covered by the store conformance suite and the pipeline
// tests.
type memorySink struct {
	mu      sync.Mutex
	rows    map[string]stores.Write
	ledger  map[string]bool
	calls   int
	rejectK string // a key the sink can never hold
}

func newMemorySink() *memorySink {
	return &memorySink{rows: map[string]stores.Write{}, ledger: map[string]bool{}}
}

func (s *memorySink) Apply(_ context.Context, writes []stores.Write) (stores.ApplyResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	for i, w := range writes {
		if w.Key == s.rejectK {
			return stores.ApplyResult{}, stores.Reject(i, w, "key %q cannot be stored", w.Key)
		}
	}
	var res stores.ApplyResult
	for _, w := range writes {
		if w.EventID != "" && s.ledger[w.EventID] {
			res.Duplicates++
			continue
		}
		if w.EventID != "" {
			s.ledger[w.EventID] = true
		}
		id := w.Entity + "/" + w.Key
		if old, ok := s.rows[id]; ok && old.Version >= w.Version {
			res.Skipped++
			continue
		}
		s.rows[id] = w
		res.Applied++
	}
	return res, nil
}

func (s *memorySink) row(entity, key string) (stores.Write, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.rows[entity+"/"+key]
	return w, ok
}

// deadLetter publishes a dead letter as a worker would; upsertJSON is an
// event's payload.
var (
	deadLetter = testenv.DeadLetter
	upsertJSON = testenv.UpsertJSON
)

// testCtx is a test's context for calls to the server.
var testCtx = testenv.Context

// eventsStream starts an embedded server with the EVENTS stream and its
// dead-letter stream, and no consumer.
func eventsStream(t *testing.T) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	srv := testenv.NATS(t)
	nc, js := srv.Connect()
	declareStreams(t, js)
	return nc, js
}

func TestReplayWithoutDLQStream(t *testing.T) {
	_, js := testenv.NATS(t).Connect()
	ctx := testCtx(t)
	// An unknown consumer without dead letters is a clear error, not
	// "replayed 0".
	res, err := workers.Replay{Stream: "EVENTS", Consumer: "target", Sink: newMemorySink(), All: true}.Run(ctx, js)
	if !errors.Is(err, subscriptions.ErrNotFound) || res.Replayed != 0 || !strings.Contains(err.Error(), "target") {
		t.Fatalf("replay of an unknown consumer: %+v, %v; want ErrNotFound naming it", res, err)
	}
}

func TestReplayStreamVersions(t *testing.T) {
	_, js := eventsStream(t)
	ctx := testCtx(t)
	sink := newMemorySink()
	// The row already holds version 50 for k-new.
	if _, err := sink.Apply(ctx, []stores.Write{{Entity: "tasks", Key: "k-new", Version: 50, Data: []byte(`{"title":"newer"}`)}}); err != nil {
		t.Fatal(err)
	}
	big := upsertJSON("e-big", "k-big", 0, strings.Repeat("x", 600))
	tooLarge := deadLetter(t, js, "target", "too-large", "payload too large", "events.tasks.upsert", 10, big)
	stale := deadLetter(t, js, "target", "invalid", "was invalid", "events.tasks.upsert", 20, upsertJSON("e-stale", "k-new", 0, "stale"))
	broken := deadLetter(t, js, "target", "decode", "not JSON", "events.tasks.upsert", 30, `{"id":`)
	wrongSubject := deadLetter(t, js, "target", "invalid", "subject", "events.tasks.delete", 40, upsertJSON("e-subj", "k-subj", 0, "x"))
	rejected := deadLetter(t, js, "target", "rejected", "store", "events.tasks.upsert", 50, upsertJSON("e-rej", "k-rej", 0, "x"))
	carriesVersion := deadLetter(t, js, "target", "version", "version", "events.tasks.upsert", 60, upsertJSON("e-ver", "k-ver", 3, "x"))
	other := deadLetter(t, js, "legacy", "invalid", "legacy's own", "events.tasks.upsert", 70, upsertJSON("e-leg", "k-leg", 0, "x"))
	sink.rejectK = "k-rej"

	// First with the old limit: the big event is still too large.
	replay := workers.Replay{
		Stream: "EVENTS", Consumer: "target", Sink: sink,
		VersionSource: events.VersionFromStream, Decoder: events.Decoder{MaxEventBytes: 512}, BatchSize: 2, All: true,
	}
	res, err := replay.Run(ctx, js)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	failed := map[uint64]string{}
	for _, f := range res.Failed {
		failed[f.Seq] = f.Reason
	}
	for _, seq := range []uint64{tooLarge, broken, wrongSubject, rejected, carriesVersion} {
		if failed[seq] == "" {
			t.Errorf("dead letter %d did not fail: %+v", seq, res)
		}
	}
	if !strings.Contains(failed[tooLarge], "above the limit of 512") || !strings.Contains(failed[rejected], "cannot be stored") ||
		!strings.Contains(failed[carriesVersion], "version") {
		t.Errorf("reasons: %v", failed)
	}
	if res.Replayed != 1 || res.Store.Skipped != 1 || res.Store.Applied != 0 {
		t.Fatalf("replayed %+v, want only the stale event, skipped by the fence", res)
	}
	if w, _ := sink.row("tasks", "k-new"); w.Version != 50 || string(w.Data) != `{"title":"newer"}` {
		t.Fatalf("a stale replay changed the row: %+v", w)
	}
	if _, err := subscriptions.GetDeadLetter(ctx, js, "EVENTS", "target", stale); !errors.Is(err, subscriptions.ErrNotFound) {
		t.Fatalf("the replayed dead letter is still there: %v", err)
	}
	if d, _ := subscriptions.DeadLetterDepth(ctx, js, "EVENTS", "target"); d != 5 {
		t.Fatalf("depth %d, want the 5 failures kept", d)
	}

	// After the fix (a higher limit), the big one replays with its original
	// sequence as version and its id in the ledger.
	replay.Decoder.MaxEventBytes = 4096
	replay.Seq, replay.All = tooLarge, false
	res, err = replay.Run(ctx, js)
	if err != nil || res.Replayed != 1 || res.Store.Applied != 1 || len(res.Failed) != 0 {
		t.Fatalf("replay one: %+v, %v", res, err)
	}
	w, ok := sink.row("tasks", "k-big")
	if !ok || w.Version != 10 || w.EventID != "e-big" || w.Client != "acme" || w.Deleted {
		t.Fatalf("replayed row: %+v", w)
	}
	replay.Seq = tooLarge
	if _, err := replay.Run(ctx, js); !errors.Is(err, subscriptions.ErrNotFound) {
		t.Fatalf("replaying a deleted dead letter: %v, want ErrNotFound", err)
	}
	if d, _ := subscriptions.DeadLetterDepth(ctx, js, "EVENTS", "legacy"); d != 1 {
		t.Fatalf("another consumer's dead letters were touched: depth %d (seq %d)", d, other)
	}
}

func TestReplayProducerVersions(t *testing.T) {
	_, js := eventsStream(t)
	ctx := testCtx(t)
	sink := newMemorySink()
	deadLetter(t, js, "target", "rejected", "db was strict", "events.tasks.upsert", 5, upsertJSON("p1", "k1", 12, "twelve"))
	deadLetter(t, js, "target", "version", "no version", "events.tasks.upsert", 6, upsertJSON("p2", "k2", 0, "none"))
	del := `{"id":"p3","type":"task.deleted","entity":"tasks","key":"k3","client":"acme","op":"delete","version":4,"occurred_at":"2026-01-02T03:04:05Z"}`
	deadLetter(t, js, "target", "rejected", "db was strict", "events.tasks.delete", 7, del)
	res, err := workers.Replay{
		Stream: "EVENTS", Consumer: "target", Sink: sink, VersionSource: events.VersionFromProducer, All: true,
	}.Run(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	if res.Replayed != 2 || len(res.Failed) != 1 || res.Store.Applied != 2 {
		t.Fatalf("result %+v", res)
	}
	if w, _ := sink.row("tasks", "k1"); w.Version != 12 || w.EventID != "" {
		t.Fatalf("producer-versioned row: %+v (no ledger id under producer versions)", w)
	}
	if w, _ := sink.row("tasks", "k3"); !w.Deleted || w.Version != 4 {
		t.Fatalf("replayed delete: %+v", w)
	}
	if sink.calls != 1 {
		t.Fatalf("%d Apply calls for one batch", sink.calls)
	}
}

func TestReplayNeedsOriginalSequence(t *testing.T) {
	_, js := eventsStream(t)
	ctx := testCtx(t)
	msg := nats.NewMsg(subscriptions.DLQSubject("EVENTS", "target"))
	msg.Data = []byte(upsertJSON("e1", "k1", 0, "x"))
	msg.Header.Set(subscriptions.HeaderOriginalSubject, "events.tasks.upsert")
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
	res, err := workers.Replay{Stream: "EVENTS", Consumer: "target", Sink: newMemorySink(), All: true}.Run(ctx, js)
	if err != nil || len(res.Failed) != 1 || !strings.Contains(res.Failed[0].Reason, subscriptions.HeaderOriginalSequence) {
		t.Fatalf("replay without the sequence header: %+v, %v", res, err)
	}
}

// failingSink fails every Apply with a transient error.
type failingSink struct{}

func (failingSink) Apply(context.Context, []stores.Write) (stores.ApplyResult, error) {
	return stores.ApplyResult{}, stores.Transient(errors.New("connection refused"))
}

func TestReplayKeepsDeadLettersWhenTheSinkFails(t *testing.T) {
	_, js := eventsStream(t)
	ctx := testCtx(t)
	deadLetter(t, js, "target", "rejected", "x", "events.tasks.upsert", 5, upsertJSON("e1", "k1", 0, "x"))
	_, err := workers.Replay{Stream: "EVENTS", Consumer: "target", Sink: failingSink{}, All: true}.Run(ctx, js)
	if !stores.IsTransient(err) {
		t.Fatalf("replay into a failing sink: %v, want the transient error", err)
	}
	if d, _ := subscriptions.DeadLetterDepth(ctx, js, "EVENTS", "target"); d != 1 {
		t.Fatalf("depth %d: a dead letter was deleted although nothing was applied", d)
	}
}

// TestReplayNeedsAnExplicitSelection: a zero sequence never means "all".
func TestReplayNeedsAnExplicitSelection(t *testing.T) {
	_, js := eventsStream(t)
	ctx := testCtx(t)
	deadLetter(t, js, "target", "rejected", "x", "events.tasks.upsert", 5, upsertJSON("e1", "k1", 0, "x"))
	for _, r := range []workers.Replay{
		{Stream: "EVENTS", Consumer: "target", Sink: newMemorySink()},
		{Stream: "EVENTS", Consumer: "target", Sink: newMemorySink(), Seq: 1, All: true},
	} {
		if _, err := r.Run(ctx, js); !errors.Is(err, workers.ErrReplaySelection) {
			t.Errorf("replay with Seq %d All %v: %v, want ErrReplaySelection", r.Seq, r.All, err)
		}
	}
	if d, _ := subscriptions.DeadLetterDepth(ctx, js, "EVENTS", "target"); d != 1 {
		t.Fatalf("depth %d: a refused replay touched the dead letters", d)
	}
	_, err := workers.Replay{Stream: "EVENTS", Consumer: "target", Sink: newMemorySink(), Seq: 999}.Run(ctx, js)
	if !errors.Is(err, subscriptions.ErrNotFound) || !strings.Contains(err.Error(), "999") {
		t.Fatalf("replay of an unknown sequence: %v, want ErrNotFound naming it", err)
	}
}
