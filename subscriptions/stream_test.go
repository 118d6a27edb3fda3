package subscriptions_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/subscriptions"
)

func TestEnsureStreamIsIdempotent(t *testing.T) {
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	ctx := testCtx(t)
	spec := subscriptions.StreamSpec{Name: "EVENTS", Subjects: []string{"events.>"}, DuplicateWindow: time.Minute}
	if _, err := subscriptions.EnsureStream(ctx, js, spec); err != nil {
		t.Fatalf("create: %v", err)
	}
	publishN(t, js, "events.tasks.upsert", 3)
	spec.DuplicateWindow = 5 * time.Minute
	spec.MaxAge = 24 * time.Hour
	spec.Memory = true // ignored for an existing stream: storage cannot change
	st, err := subscriptions.EnsureStream(ctx, js, spec)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Duplicates != 5*time.Minute || info.Config.MaxAge != 24*time.Hour {
		t.Fatalf("limits not updated: duplicates %v, max age %v", info.Config.Duplicates, info.Config.MaxAge)
	}
	if info.Config.Storage != jetstream.FileStorage {
		t.Fatalf("storage changed to %v", info.Config.Storage)
	}
	if info.State.Msgs != 3 {
		t.Fatalf("update lost messages: %d left", info.State.Msgs)
	}
}

func TestEnsureStreamRejectsIncompleteSpec(t *testing.T) {
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	for _, spec := range []subscriptions.StreamSpec{{Subjects: []string{"a.>"}}, {Name: "X"}} {
		if _, err := subscriptions.EnsureStream(testCtx(t), js, spec); err == nil {
			t.Errorf("EnsureStream(%+v) accepted", spec)
		}
	}
}

func TestEnsureDLQ(t *testing.T) {
	_, js := eventsStream(t)
	ctx := testCtx(t)
	// Twice: idempotent.
	st, err := subscriptions.EnsureDLQ(ctx, js, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	info := st.CachedInfo()
	if info.Config.Name != "EVENTS_DLQ" || len(info.Config.Subjects) != 1 || info.Config.Subjects[0] != "switchyard.dlq.EVENTS.>" {
		t.Fatalf("DLQ config: %+v", info.Config)
	}
	if info.Config.MaxAge != 0 {
		t.Fatalf("dead letters expire after %v", info.Config.MaxAge)
	}
	if got := subscriptions.DLQSubject("EVENTS", "target"); got != "switchyard.dlq.EVENTS.target" {
		t.Fatalf("DLQSubject = %s", got)
	}
}
