package opstest

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	"github.com/switchyard/switchyard/subscriptions"

	_ "github.com/switchyard/switchyard/stores/sqlite"
)

// TestSIGTERMDrainsABusyWorker sends SIGTERM to a worker in the middle of a
// backlog while a second worker shares its consumer. The first must exit
// within its grace period; at the end every event is applied exactly as the
// model says (what it acked was committed, what it had not acked was
// redelivered to the other worker), nothing is pending and nothing was
// dead-lettered.
func TestSIGTERMDrainsABusyWorker(t *testing.T) {
	const (
		keys   = 500
		rounds = 40 // events per key
		grace  = 5 * time.Second
	)
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	ctx := context.Background()
	if _, err := subscriptions.EnsureStream(ctx, js, subscriptions.StreamSpec{Name: "EVENTS", Subjects: []string{"events.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := subscriptions.EnsureDLQ(ctx, js, "EVENTS"); err != nil {
		t.Fatal(err)
	}
	if _, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{Stream: "EVENTS", Name: "target", AckWait: 3 * time.Second}); err != nil {
		t.Fatal(err)
	}

	// The backlog: rounds full-state upserts per key; the last round deletes
	// every seventh key. The model is the last event of each key.
	pub := events.NewPublisher(js, "")
	model := map[string]string{} // key -> last title, "" when deleted
	var batch []events.Event
	for r := 0; r < rounds; r++ {
		for k := 0; k < keys; k++ {
			key := fmt.Sprintf("k%04d", k)
			ev := events.Event{ID: fmt.Sprintf("e-%d-%d", r, k), Type: "saved", Entity: "task", Key: key, Client: "acme",
				Op: events.OpUpsert, OccurredAt: time.Now().UTC()}
			title := fmt.Sprintf("round %d", r)
			if r == rounds-1 && k%7 == 0 {
				ev.Op, ev.Type, title = events.OpDelete, "deleted", ""
			} else {
				ev.Data, _ = json.Marshal(map[string]string{"title": title})
			}
			model[key] = title
			batch = append(batch, ev)
		}
		if err := pub.PublishAll(ctx, batch); err != nil {
			t.Fatal(err)
		}
		batch = batch[:0]
	}

	sink := "sqlite:" + filepath.Join(t.TempDir(), "target.db")
	args := []string{"worker", "--stream", "EVENTS", "--consumer", "target", "--sink", sink, "--batch-size", "100",
		"--concurrency", "1", "--grace", grace.String(), "--log-format", "json"}
	env := []string{"SWITCHYARD_NATS=" + srv.URL}
	// Each worker serves its ops endpoints on a port of its own: two
	// workers on the default :9090 would collide.
	withHTTP := func() []string {
		return append(slices.Clone(args), "--http", fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)))
	}
	first, firstOut := startProcess(t, env, withHTTP()...)
	testenv.Eventually(t, 60*time.Second, func() (bool, string) {
		st, err := subscriptions.Inspect(ctx, js, "EVENTS", "target")
		if err != nil {
			return false, err.Error()
		}
		return st.AckFloor >= 2000, fmt.Sprintf("ack floor %d", st.AckFloor)
	}, "the first worker applying the backlog")
	startProcess(t, env, withHTTP()...)

	if err := first.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	exited := make(chan error, 1)
	go func() { exited <- first.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the worker exited with %v after SIGTERM\n%s", err, firstOut.String())
		}
		t.Logf("the worker exited %v after SIGTERM (grace %v)", time.Since(sent).Round(time.Millisecond), grace)
	case <-time.After(grace + 5*time.Second):
		t.Fatalf("the worker did not exit within its grace period (%v) after SIGTERM\n%s", grace, firstOut.String())
	}

	testenv.Eventually(t, 120*time.Second, func() (bool, string) {
		st, err := subscriptions.Inspect(ctx, js, "EVENTS", "target")
		if err != nil {
			return false, err.Error()
		}
		return st.Lag == 0, fmt.Sprintf("lag %d (pending %d, ack pending %d)", st.Lag, st.Pending, st.AckPending)
	}, "the second worker finishing the backlog")

	store, err := all.Open(ctx, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	recs, err := store.Scan(ctx, "task", stores.Range{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != keys {
		t.Fatalf("the table holds %d keys, want %d", len(recs), keys)
	}
	for _, r := range recs {
		want := model[r.Key]
		switch {
		case want == "" && !r.Deleted:
			t.Errorf("key %s: live %s, want a tombstone", r.Key, r.Data)
		case want != "":
			var doc struct{ Title string }
			if err := json.Unmarshal(r.Data, &doc); err != nil || r.Deleted || doc.Title != want {
				t.Errorf("key %s: deleted=%v data=%s, want title %q", r.Key, r.Deleted, r.Data, want)
			}
		}
	}
	if depth, err := subscriptions.DeadLetterDepth(ctx, js, "EVENTS", "target"); err != nil || depth != 0 {
		t.Errorf("dead letters: %d (%v), want 0", depth, err)
	}
}
