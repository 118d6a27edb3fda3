package subscriptions_test

import (
	"errors"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/subscriptions"
)

// deadLetter publishes a dead letter as a worker would; upsertJSON is an
// event's payload.
var (
	deadLetter = testenv.DeadLetter
	upsertJSON = testenv.UpsertJSON
)

func TestListAndShowDeadLetters(t *testing.T) {
	_, js := eventsStream(t)
	ctx := testCtx(t)
	a := deadLetter(t, js, "target", "decode", "invalid event: not JSON", "events.tasks.upsert", 7, `{"id":`)
	deadLetter(t, js, "legacy", "invalid", "other consumer", "events.tasks.upsert", 8, `{}`)
	b := deadLetter(t, js, "target", "too-large", "payload is 900 bytes", "events.tasks.upsert", 9, upsertJSON("e9", "k", 0, "x"))

	all, err := subscriptions.ListDeadLetters(ctx, js, "EVENTS", "target", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Seq != a || all[1].Seq != b {
		t.Fatalf("listed %+v, want seqs %d and %d", all, a, b)
	}
	first := all[0]
	if first.Kind != "decode" || first.Reason != "invalid event: not JSON" || first.OriginalSubject != "events.tasks.upsert" ||
		first.OriginalSeq != 7 || first.OriginalMsgID != "orig-7" || first.Deliveries != 1 || first.Consumer != "target" ||
		!first.FailedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) || string(first.Payload) != `{"id":` {
		t.Fatalf("parsed %+v", first)
	}
	page, err := subscriptions.ListDeadLetters(ctx, js, "EVENTS", "target", a, 1)
	if err != nil || len(page) != 1 || page[0].Seq != b {
		t.Fatalf("page after %d: %+v, %v", a, page, err)
	}
	limited, err := subscriptions.ListDeadLetters(ctx, js, "EVENTS", "target", 0, 1)
	if err != nil || len(limited) != 1 || limited[0].Seq != a {
		t.Fatalf("limit 1: %+v, %v", limited, err)
	}

	got, err := subscriptions.GetDeadLetter(ctx, js, "EVENTS", "target", b)
	if err != nil || got.Kind != "too-large" || got.Header.Get(subscriptions.HeaderStream) != "EVENTS" {
		t.Fatalf("GetDeadLetter: %+v, %v", got, err)
	}
	if _, err := subscriptions.GetDeadLetter(ctx, js, "EVENTS", "target", a+1); !errors.Is(err, subscriptions.ErrNotFound) {
		t.Fatalf("another consumer's dead letter: %v, want ErrNotFound", err)
	}
	if _, err := subscriptions.GetDeadLetter(ctx, js, "EVENTS", "target", 999); !errors.Is(err, subscriptions.ErrNotFound) {
		t.Fatalf("missing dead letter: %v, want ErrNotFound", err)
	}

	n, err := subscriptions.PurgeDeadLetters(ctx, js, "EVENTS", "target")
	if err != nil || n != 2 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	if d, _ := subscriptions.DeadLetterDepth(ctx, js, "EVENTS", "target"); d != 0 {
		t.Fatalf("depth after purge %d", d)
	}
	if d, _ := subscriptions.DeadLetterDepth(ctx, js, "EVENTS", "legacy"); d != 1 {
		t.Fatalf("purge touched another consumer: legacy depth %d", d)
	}
}

func TestDeadLettersWithoutDLQStream(t *testing.T) {
	_, js := publisherlessServer(t)
	ctx := testCtx(t)
	if list, err := subscriptions.ListDeadLetters(ctx, js, "EVENTS", "target", 0, 0); err != nil || len(list) != 0 {
		t.Fatalf("list: %v, %v", list, err)
	}
	if n, err := subscriptions.PurgeDeadLetters(ctx, js, "EVENTS", "target"); err != nil || n != 0 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	if _, err := subscriptions.GetDeadLetter(ctx, js, "EVENTS", "target", 1); !errors.Is(err, subscriptions.ErrNotFound) {
		t.Fatalf("show: %v, want ErrNotFound", err)
	}
}
