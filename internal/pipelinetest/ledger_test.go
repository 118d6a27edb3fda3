package pipelinetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/testenv"
)

// TestLateProducerRetry shows why stores keep a ledger of applied event ids
// under stream-sequence versions: a producer's retry that reaches the stream
// after the duplicate window is stored again under a new, higher sequence.
// Without the ledger it would overwrite the newer state with the old one;
// with it the retry is dropped.
func TestLateProducerRetry(t *testing.T) {
	t.Parallel()
	forEachSink(t, func(t *testing.T, dsn string) {
		p := newPipeline(t, 100*time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		w := p.startWorker("worker", dsn)

		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		first := events.Event{ID: "retried", Type: "task.saved", Entity: entity, Key: "k1", Client: "c", Op: events.OpUpsert,
			OccurredAt: at, Data: json.RawMessage(`{"title":"old"}`)}
		second := first
		second.ID, second.OccurredAt, second.Data = "newer", at.Add(time.Second), json.RawMessage(`{"title":"new"}`)
		if err := p.publish(ctx, []events.Event{first, second}, 2); err != nil {
			t.Fatal(err)
		}
		// The producer retries the first event until the stream no longer
		// recognises it as a duplicate: its window has passed.
		var lateSeq uint64
		testenv.Eventually(t, 10*time.Second, func() (bool, string) {
			ack, err := p.pub.Publish(ctx, first)
			if err != nil {
				return false, err.Error()
			}
			lateSeq = ack.Sequence
			return !ack.Duplicate, fmt.Sprintf("duplicate of seq %d", ack.Sequence)
		}, "a late retry stored as a new message")
		if lateSeq != 3 {
			t.Fatalf("late retry stored at seq %d, want 3", lateSeq)
		}
		p.waitCommitted(30 * time.Second)
		w.stop(15 * time.Second)

		row := readRow(t, dsn, "k1")
		if row.Version != 2 || !sameJSON(row.Data, json.RawMessage(`{"title":"new"}`)) {
			t.Fatalf("row k1: version %d data %s; the late retry (seq 3) overwrote the newer state", row.Version, row.Data)
		}
		model, _ := streamModel(t, p.js, streamName, 0)
		assertTable(t, dsn, model)
	})
}
