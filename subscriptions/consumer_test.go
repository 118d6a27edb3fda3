package subscriptions_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/switchyard/switchyard/subscriptions"
)

func TestParseStart(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	good := map[string]subscriptions.StartPosition{
		"":                          {Kind: subscriptions.StartAll},
		"all":                       {Kind: subscriptions.StartAll},
		"new":                       {Kind: subscriptions.StartNew},
		"seq:42":                    {Kind: subscriptions.StartSequence, Sequence: 42},
		"time:2026-01-02T03:04:05Z": {Kind: subscriptions.StartTime, Time: ts},
	}
	for in, want := range good {
		got, err := subscriptions.ParseStart(in)
		if err != nil || got.Kind != want.Kind || got.Sequence != want.Sequence || !got.Time.Equal(want.Time) {
			t.Errorf("ParseStart(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"seq:0", "seq:-1", "seq:x", "seq:", "time:yesterday", "time:", "first", "ALL"} {
		if _, err := subscriptions.ParseStart(bad); err == nil {
			t.Errorf("ParseStart(%q) accepted", bad)
		}
	}
}

func startSeq(t *testing.T, meta map[string]string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(meta[subscriptions.MetaStartSeq], 10, 64)
	if err != nil {
		t.Fatalf("metadata %v has no start sequence", meta)
	}
	return n
}

func TestEnsureConsumerStartPositions(t *testing.T) {
	_, js := eventsStream(t)
	ctx := testCtx(t)
	publishN(t, js, "events.tasks.upsert", 5)
	cases := []struct {
		name  string
		start subscriptions.StartPosition
		want  uint64
	}{
		{"all", subscriptions.StartPosition{Kind: subscriptions.StartAll}, 1},
		{"new", subscriptions.StartPosition{Kind: subscriptions.StartNew}, 6},
		{"seq", subscriptions.StartPosition{Kind: subscriptions.StartSequence, Sequence: 3}, 3},
	}
	for _, tc := range cases {
		c, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{Stream: "EVENTS", Name: tc.name, Start: tc.start})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := startSeq(t, c.CachedInfo().Config.Metadata); got != tc.want {
			t.Errorf("%s: start seq %d, want %d", tc.name, got, tc.want)
		}
	}
	// A "new" consumer is pinned: events published after its creation are
	// delivered from the recorded sequence, not from whenever a worker
	// first pulls.
	publishN(t, js, "events.tasks.upsert", 2)
	c, err := js.Consumer(ctx, "EVENTS", "new")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := c.Next()
	if err != nil {
		t.Fatal(err)
	}
	md, err := msg.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	if md.Sequence.Stream != 6 {
		t.Fatalf("first delivery of the new consumer is seq %d, want 6", md.Sequence.Stream)
	}
}

func TestEnsureConsumerStartTime(t *testing.T) {
	_, js := eventsStream(t)
	ctx := testCtx(t)
	publishN(t, js, "events.tasks.upsert", 3)
	// JetStream stores times with nanoseconds; a cut just after the third
	// message's timestamp puts the start at 4.
	stream, err := js.Stream(ctx, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	third, err := stream.GetMsg(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	cut := third.Time.Add(time.Nanosecond)
	publishN(t, js, "events.tasks.upsert", 2)
	c, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{
		Stream: "EVENTS", Name: "bytime", Start: subscriptions.StartPosition{Kind: subscriptions.StartTime, Time: cut},
	})
	if err != nil {
		t.Fatal(err)
	}
	fourth, err := stream.GetMsg(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	if !fourth.Time.After(third.Time) {
		t.Fatalf("messages 3 and 4 share the timestamp %v", third.Time)
	}
	if got := startSeq(t, c.CachedInfo().Config.Metadata); got != 4 {
		t.Fatalf("start seq %d, want 4", got)
	}
}

func TestEnsureConsumerUpdatesAndKeepsStart(t *testing.T) {
	_, js := eventsStream(t)
	ctx := testCtx(t)
	publishN(t, js, "events.tasks.upsert", 4)
	spec := subscriptions.ConsumerSpec{
		Stream: "EVENTS", Name: "target", Role: "target", VersionSource: "stream",
		Start: subscriptions.StartPosition{Kind: subscriptions.StartNew},
	}
	c, err := subscriptions.EnsureConsumer(ctx, js, spec)
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.CachedInfo().Config
	if cfg.AckWait != 30*time.Second || cfg.MaxDeliver != -1 || cfg.MaxAckPending != 10_000 {
		t.Fatalf("defaults: ack wait %v, max deliver %d, max ack pending %d", cfg.AckWait, cfg.MaxDeliver, cfg.MaxAckPending)
	}
	if cfg.Metadata[subscriptions.MetaRole] != "target" || cfg.Metadata[subscriptions.MetaVersionSource] != "stream" {
		t.Fatalf("metadata: %v", cfg.Metadata)
	}
	publishN(t, js, "events.tasks.upsert", 3)

	spec.Start = subscriptions.StartPosition{Kind: subscriptions.StartAll} // ignored: creation only
	spec.AckWait = 5 * time.Second
	spec.MaxDeliver = 20
	spec.MaxAckPending = 500
	spec.FilterSubjects = []string{"events.tasks.>"}
	c, err = subscriptions.EnsureConsumer(ctx, js, spec)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	cfg = c.CachedInfo().Config
	if cfg.AckWait != 5*time.Second || cfg.MaxDeliver != 20 || cfg.MaxAckPending != 500 {
		t.Fatalf("not updated: %+v", cfg)
	}
	// With a backoff, JetStream uses its first step as the ack wait.
	spec.Backoff = []time.Duration{time.Second, 2 * time.Second}
	if c, err = subscriptions.EnsureConsumer(ctx, js, spec); err != nil {
		t.Fatalf("update backoff: %v", err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg = info.Config
	if len(cfg.BackOff) != 2 || cfg.AckWait != time.Second || cfg.MaxDeliver != 20 {
		t.Fatalf("backoff not updated: %+v", cfg)
	}
	if len(cfg.FilterSubjects) != 1 || cfg.FilterSubjects[0] != "events.tasks.>" {
		t.Fatalf("filters: %v", cfg.FilterSubjects)
	}
	if got := startSeq(t, cfg.Metadata); got != 5 {
		t.Fatalf("start seq moved to %d, want 5", got)
	}
	if cfg.OptStartSeq != 5 {
		t.Fatalf("delivery start moved to %d", cfg.OptStartSeq)
	}
	if info.NumPending != 3 {
		t.Fatalf("pending %d, want 3", info.NumPending)
	}
}

func TestEnsureConsumerErrors(t *testing.T) {
	_, js := eventsStream(t)
	ctx := testCtx(t)
	if _, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{Stream: "EVENTS"}); err == nil {
		t.Error("a spec without a name was accepted")
	}
	_, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{Stream: "NOPE", Name: "c"})
	if !errors.Is(err, subscriptions.ErrNotFound) {
		t.Errorf("missing stream: %v, want ErrNotFound", err)
	}
	_, err = subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{Stream: "EVENTS", Name: "c", Start: subscriptions.StartPosition{Kind: "later"}})
	if err == nil {
		t.Error("an unknown start kind was accepted")
	}
}

func TestDeleteConsumer(t *testing.T) {
	_, js := eventsStream(t)
	ctx := testCtx(t)
	if _, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{Stream: "EVENTS", Name: "legacy"}); err != nil {
		t.Fatal(err)
	}
	if err := subscriptions.DeleteConsumer(ctx, js, "EVENTS", "legacy"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := subscriptions.Inspect(ctx, js, "EVENTS", "legacy"); !errors.Is(err, subscriptions.ErrNotFound) {
		t.Fatalf("inspect after delete: %v", err)
	}
	if err := subscriptions.DeleteConsumer(ctx, js, "EVENTS", "legacy"); !errors.Is(err, subscriptions.ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
	if err := subscriptions.DeleteConsumer(ctx, js, "NOPE", "legacy"); !errors.Is(err, subscriptions.ErrNotFound) {
		t.Fatalf("delete on a missing stream: %v, want ErrNotFound", err)
	}
}

func TestEnsureDeclaresStreamDeadLetterStreamAndConsumer(t *testing.T) {
	_, js := publisherlessServer(t)
	ctx := testCtx(t)
	stream := subscriptions.StreamSpec{Name: "ORDERS", Subjects: []string{"orders.>"}}
	d, err := subscriptions.Ensure(ctx, js, stream, subscriptions.ConsumerSpec{Name: "target", Role: "target"})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Stream.Created || !d.DeadLetters.Created {
		t.Errorf("reports %+v %+v: want both created", d.Stream, d.DeadLetters)
	}
	if info := d.Consumer.CachedInfo(); info.Stream != "ORDERS" || info.Config.Metadata[subscriptions.MetaRole] != "target" {
		t.Errorf("consumer %s on %s, metadata %v", info.Name, info.Stream, info.Config.Metadata)
	}
	if _, err := js.Stream(ctx, subscriptions.DLQStreamName("ORDERS")); err != nil {
		t.Errorf("dead-letter stream: %v", err)
	}
	if _, err := subscriptions.Ensure(ctx, js, stream, subscriptions.ConsumerSpec{Name: "target", Role: "target"}); err != nil {
		t.Errorf("a second Ensure: %v", err)
	}
	if _, err := subscriptions.Ensure(ctx, js, stream, subscriptions.ConsumerSpec{Stream: "OTHER", Name: "x"}); err == nil {
		t.Error("Ensure accepted a consumer for another stream")
	}
}
