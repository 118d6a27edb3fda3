package subscriptions_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/subscriptions"
)

func TestInspect(t *testing.T) {
	_, js := eventsStream(t)
	ctx := testCtx(t)
	publishN(t, js, "events.tasks.upsert", 10)
	c, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{
		Stream: "EVENTS", Name: "target", Role: "target", AckWait: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := subscriptions.Inspect(ctx, js, "EVENTS", "target")
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != 10 || st.AckPending != 0 || st.AckFloor != 0 || st.Lag != 10 || st.StartSeq != 1 || st.Role != "target" {
		t.Fatalf("fresh consumer: %+v", st)
	}
	// Ack 1..4, leave 5 and 6 unacknowledged.
	batch, err := c.Fetch(6, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for msg := range batch.Messages() {
		n++
		if n <= 4 {
			if err := msg.Ack(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n != 6 {
		t.Fatalf("fetched %d", n)
	}
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		st, err = subscriptions.Inspect(ctx, js, "EVENTS", "target")
		return err == nil && st.AckFloor == 4, fmt.Sprintf("%+v", st)
	}, "ack floor at 4")
	if st.Pending != 4 || st.AckPending != 2 || st.Delivered != 6 || st.Lag != 6 {
		t.Fatalf("after acking 4 of 6: %+v", st)
	}
	// After the ack wait, 5 and 6 come back: redeliveries.
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		batch, err := c.Fetch(2, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return false, err.Error()
		}
		for range batch.Messages() {
		}
		st, err = subscriptions.Inspect(ctx, js, "EVENTS", "target")
		return err == nil && st.Redelivered == 2, fmt.Sprintf("%+v", st)
	}, "two redelivered messages")

	if _, err := subscriptions.Inspect(ctx, js, "EVENTS", "nobody"); !errors.Is(err, subscriptions.ErrNotFound) {
		t.Fatalf("missing consumer: %v", err)
	}
	if _, err := subscriptions.Inspect(ctx, js, "NOPE", "target"); !errors.Is(err, subscriptions.ErrNotFound) {
		t.Fatalf("missing stream: %v", err)
	}
}

func TestListAndDeadLetterDepth(t *testing.T) {
	_, js := eventsStream(t)
	ctx := testCtx(t)
	for _, name := range []string{"target", "legacy"} {
		if _, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{Stream: "EVENTS", Name: name, Role: name}); err != nil {
			t.Fatal(err)
		}
	}
	publishN(t, js, subscriptions.DLQSubject("EVENTS", "target"), 3)
	publishN(t, js, subscriptions.DLQSubject("EVENTS", "legacy"), 1)
	all, err := subscriptions.List(ctx, js, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Consumer != "legacy" || all[1].Consumer != "target" {
		t.Fatalf("List: %+v", all)
	}
	if all[0].DeadLetters != 1 || all[1].DeadLetters != 3 {
		t.Fatalf("dead letters: legacy %d, target %d", all[0].DeadLetters, all[1].DeadLetters)
	}
	if _, err := subscriptions.List(ctx, js, "NOPE"); !errors.Is(err, subscriptions.ErrNotFound) {
		t.Fatalf("List on a missing stream: %v", err)
	}
}

func TestDeadLetterDepthWithoutDLQ(t *testing.T) {
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	n, err := subscriptions.DeadLetterDepth(testCtx(t), js, "EVENTS", "target")
	if err != nil || n != 0 {
		t.Fatalf("DeadLetterDepth without a DLQ stream = %d, %v", n, err)
	}
}

func TestStatusProcessed(t *testing.T) {
	cases := []struct {
		name string
		st   subscriptions.Status
		seq  uint64
		want bool
	}{
		{"start at the beginning", subscriptions.Status{}, 1, true},
		{"zero", subscriptions.Status{}, 0, true},
		{"ack floor reached", subscriptions.Status{AckFloor: 99}, 100, true},
		{"ack floor past", subscriptions.Status{AckFloor: 150, Pending: 5}, 100, true},
		{"ack floor short, work outstanding", subscriptions.Status{AckFloor: 50, AckPending: 3, Delivered: 120}, 100, false},
		{"ack floor short, backlog below", subscriptions.Status{AckFloor: 50, Delivered: 60, Pending: 40}, 100, false},
		{"filtered: floor short, cursor past, nothing outstanding", subscriptions.Status{AckFloor: 50, Delivered: 99}, 100, true},
		{"filtered: nothing left to deliver", subscriptions.Status{AckFloor: 10, Delivered: 10, Pending: 0}, 100, true},
		{"fresh consumer with backlog", subscriptions.Status{Pending: 10}, 5, false},
	}
	for _, tc := range cases {
		if got := tc.st.Processed(tc.seq); got != tc.want {
			t.Errorf("%s: Processed(%d) = %v, want %v", tc.name, tc.seq, got, tc.want)
		}
	}
}
