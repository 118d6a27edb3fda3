package workers_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
	"github.com/switchyard/switchyard/workers"
)

func TestBatchIsAckedOnlyAfterCommit(t *testing.T) {
	e := newEnv(t)
	sink := newFaultStore(t)
	sink.entered = make(chan struct{}, 1)
	sink.gate = make(chan struct{})
	e.publish(manyUpserts(50, "a")...)
	w := e.worker(sink, testConfig())
	stop := e.run(w)

	select {
	case <-sink.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker never called Apply")
	}
	// Apply is blocked: the commit has not happened, so nothing is acked.
	info := e.consumerInfo()
	if info.AckFloor.Stream != 0 || info.NumAckPending == 0 {
		t.Fatalf("while Apply blocks: ack floor %d, ack pending %d; want 0 and >0", info.AckFloor.Stream, info.NumAckPending)
	}
	close(sink.gate)
	e.waitAcked(50)
	if n := sink.count("tasks"); n != 50 {
		t.Fatalf("store holds %d rows, want 50", n)
	}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	st := w.Stats()
	if st.Applied != 50 || st.Batches == 0 || st.FailedBatches != 0 {
		t.Fatalf("stats %+v: want 50 applied, no failed batch", st)
	}
}

func TestTransientStoreFailureAcksNothingUntilRecovery(t *testing.T) {
	e := newEnv(t)
	sink := newFaultStore(t)
	sink.setFail(stores.Transient(errStoreDown))
	e.publish(manyUpserts(30, "a")...)
	w := e.worker(sink, testConfig())
	e.run(w)

	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		return sink.calls.Load() >= 3, fmt.Sprintf("%d Apply calls", sink.calls.Load())
	}, "the worker retries the failing store")
	if info := e.consumerInfo(); info.AckFloor.Stream != 0 {
		t.Fatalf("ack floor %d during the outage, want 0", info.AckFloor.Stream)
	}
	if n := sink.count("tasks"); n != 0 {
		t.Fatalf("store holds %d rows during the outage", n)
	}
	sink.setFail(nil)
	e.waitAcked(30)
	if n := sink.count("tasks"); n != 30 {
		t.Fatalf("store holds %d rows after the outage, want 30", n)
	}
	st := w.Stats()
	if st.FailedBatches == 0 || st.Failed == 0 {
		t.Fatalf("stats %+v: want failed batches counted", st)
	}
	if st.DeadLettered != 0 {
		t.Fatalf("an outage dead-lettered %d events", st.DeadLettered)
	}
}

func TestPermanentStoreErrorNaksInsteadOfLosing(t *testing.T) {
	e := newEnv(t)
	sink := newFaultStore(t)
	sink.setFail(errors.New("permission denied for table tasks"))
	e.publish(manyUpserts(5, "a")...)
	e.run(e.worker(sink, testConfig()))
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		return sink.calls.Load() >= 2, fmt.Sprintf("%d Apply calls", sink.calls.Load())
	}, "the worker retries")
	if info := e.consumerInfo(); info.AckFloor.Stream != 0 {
		t.Fatalf("ack floor %d with a failing store", info.AckFloor.Stream)
	}
	sink.setFail(nil)
	e.waitAcked(5)
}

func TestPanicInApplyIsRecovered(t *testing.T) {
	e := newEnv(t)
	sink := newFaultStore(t)
	sink.panics.Store(2)
	e.publish(manyUpserts(20, "a")...)
	w := e.worker(sink, testConfig())
	e.run(w)
	e.waitAcked(20)
	if n := sink.count("tasks"); n != 20 {
		t.Fatalf("store holds %d rows, want 20", n)
	}
	if st := w.Stats(); st.FailedBatches < 2 {
		t.Fatalf("stats %+v: want the two panicking batches counted as failed", st)
	}
}

func TestDrainFinishesAndAcksTheBatchInFlight(t *testing.T) {
	e := newEnv(t)
	sink := newFaultStore(t)
	sink.entered = make(chan struct{}, 1)
	sink.gate = make(chan struct{})
	e.publish(manyUpserts(40, "a")...)
	w := e.worker(sink, testConfig())
	stop := e.run(w)
	select {
	case <-sink.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker never called Apply")
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// Run must not return while its batch is in the store.
	select {
	case err := <-stopped:
		t.Fatalf("Run returned %v before the batch in flight finished", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(sink.gate)
	if err := <-stopped; err != nil {
		t.Fatalf("Run after drain: %v", err)
	}
	applied := sink.count("tasks")
	if applied == 0 {
		t.Fatal("the batch in flight was not applied")
	}
	// Everything applied was acked; the rest is waiting for redelivery.
	info := e.consumerInfo()
	if info.AckFloor.Stream < uint64(applied) {
		t.Fatalf("applied %d rows but the ack floor is %d", applied, info.AckFloor.Stream)
	}
	// A second worker picks up what the first returned, without waiting
	// for the ack wait.
	sink.gate = nil
	e.run(e.worker(sink, testConfig()))
	e.waitAcked(40)
	if n := sink.count("tasks"); n != 40 {
		t.Fatalf("store holds %d rows, want 40", n)
	}
}

func TestDrainReturnsPrefetchedMessagesForRedeliveryAtOnce(t *testing.T) {
	e := newEnv(t)
	sink := newFaultStore(t)
	sink.entered = make(chan struct{}, 1)
	sink.gate = make(chan struct{})
	e.publish(manyUpserts(100, "a")...)
	cfg := testConfig()
	cfg.BatchSize, cfg.Concurrency, cfg.Prefetch = 10, 1, 50
	stop := e.run(e.worker(sink, cfg))
	select {
	case <-sink.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker never called Apply")
	}
	// One batch is in the store, the next one waits for it, and the rest
	// of the prefetch sits in the client: all pulled, none acked.
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		info := e.consumerInfo()
		return info.NumAckPending > 20, fmt.Sprintf("%d messages delivered and unacknowledged", info.NumAckPending)
	}, "the worker prefetched past its batches")
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	close(sink.gate)
	if err := <-stopped; err != nil {
		t.Fatalf("Run after drain: %v", err)
	}
	// What the worker pulled but did not apply is redelivered well within
	// the ack wait (30 s), so another worker finishes the backlog.
	sink.gate = nil
	e.run(e.worker(sink, cfg))
	e.waitAcked(100)
	if n := sink.count("tasks"); n != 100 {
		t.Fatalf("store holds %d rows, want 100", n)
	}
}

func TestGraceExpiryLeavesTheBatchUnacked(t *testing.T) {
	e := newEnv(t)
	sink := newFaultStore(t)
	sink.entered = make(chan struct{}, 1)
	sink.gate = make(chan struct{}) // never opened: Apply returns only on ctx
	e.publish(manyUpserts(10, "a")...)
	cfg := testConfig()
	cfg.Grace = 200 * time.Millisecond
	w := e.worker(sink, cfg)
	stop := e.run(w)
	select {
	case <-sink.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker never called Apply")
	}
	if err := stop(); !errors.Is(err, workers.ErrGraceExpired) {
		t.Fatalf("Run: %v, want ErrGraceExpired", err)
	}
	if info := e.consumerInfo(); info.AckFloor.Stream != 0 {
		t.Fatalf("ack floor %d after the grace period cut the batch, want 0", info.AckFloor.Stream)
	}
	if n := sink.count("tasks"); n != 0 {
		t.Fatalf("store holds %d rows", n)
	}
}

func TestRunRefusesMissingConsumerAndWrongVersionSource(t *testing.T) {
	e := newEnv(t)
	cfg := testConfig()
	cfg.Consumer = "nobody"
	w := e.worker(newFaultStore(t), cfg)
	if err := w.Run(context.Background()); !errors.Is(err, subscriptions.ErrNotFound) {
		t.Fatalf("Run on a missing consumer: %v, want subscriptions.ErrNotFound", err)
	}

	if _, err := subscriptions.EnsureConsumer(context.Background(), e.js, subscriptions.ConsumerSpec{
		Stream: testStream, Name: "versioned", VersionSource: "producer",
	}); err != nil {
		t.Fatal(err)
	}
	cfg.Consumer = "versioned"
	w = e.worker(newFaultStore(t), cfg) // stream versions by default
	if err := w.Run(context.Background()); !errors.Is(err, workers.ErrVersionSourceMismatch) {
		t.Fatalf("Run with a contradicting version source: %v, want ErrVersionSourceMismatch", err)
	}
}

func TestRunTwiceConcurrentlyIsRefused(t *testing.T) {
	e := newEnv(t)
	w := e.worker(newFaultStore(t), testConfig())
	e.run(w)
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		return !w.Stats().LagAt.IsZero(), "no lag reading yet"
	}, "worker running")
	if err := w.Run(context.Background()); !errors.Is(err, workers.ErrRunning) {
		t.Fatalf("second Run: %v, want ErrRunning", err)
	}
}

func TestStreamVersionsDropProducerRetriesThroughTheLedger(t *testing.T) {
	e := newEnv(t)
	sink := newFaultStore(t)
	w := e.worker(sink, testConfig())
	e.run(w)
	e.publish(upsert("ev-1", "k1", `{"title":"first"}`))
	e.publish(upsert("ev-2", "k1", `{"title":"second"}`))
	// A retry of ev-1 after the duplicate window: no Nats-Msg-Id dedup, so
	// the stream stores it under a new, higher sequence.
	msg, err := e.pub.Message(upsert("ev-1", "k1", `{"title":"first"}`))
	if err != nil {
		t.Fatal(err)
	}
	msg.Header.Del("Nats-Msg-Id")
	if _, err := e.js.PublishMsg(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	e.waitAcked(3)
	rec, ok := sink.get("tasks", "k1")
	if !ok || string(rec.Data) != `{"title":"second"}` {
		t.Fatalf("row k1 = %+v, want the second title: the late retry must not re-apply old state", rec)
	}
	if st := w.Stats(); st.Duplicates != 1 {
		t.Fatalf("stats %+v: want 1 duplicate", st)
	}
}
