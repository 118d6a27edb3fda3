package workers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

func TestWorkerSurvivesABrokerRestart(t *testing.T) {
	e := newEnv(t)
	st := openSQLite(t)
	w := e.worker(st, testConfig())
	stop := e.run(w)
	e.publish(manyUpserts(100, "a")...)
	e.waitAcked(100)
	e.srv.Restart()
	e.publish(manyUpserts(100, "b")...)
	e.waitAcked(200)
	recs, err := st.Scan(context.Background(), "tasks", stores.Range{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 100 {
		t.Fatalf("store holds %d rows, want 100", len(recs))
	}
	for _, r := range recs {
		if r.Version <= 100 {
			t.Fatalf("row %s has version %d: the events after the restart were not applied", r.Key, r.Version)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestWorkerStopsWhenItsConsumerIsDeleted(t *testing.T) {
	e := newEnv(t)
	w := e.worker(newFaultStore(t), testConfig())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(context.Background()) }()
	e.publish(manyUpserts(5, "a")...)
	e.waitAcked(5)
	if err := subscriptions.DeleteConsumer(context.Background(), e.js, testStream, testConsumer); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, subscriptions.ErrNotFound) {
			t.Fatalf("Run after the consumer was deleted: %v, want subscriptions.ErrNotFound", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after its consumer was deleted")
	}
}
