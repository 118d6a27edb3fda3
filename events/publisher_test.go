package events_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/testenv"
)

func publisherEnv(t *testing.T) (jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "EVENTS", Subjects: []string{"events.>"}, Storage: jetstream.MemoryStorage, Duplicates: time.Minute,
	})
	if err != nil {
		t.Fatalf("create stream: %v", err)
	}
	return js, stream
}

func TestPublisherMessage(t *testing.T) {
	p := events.NewPublisher(nil, "")
	msg, err := p.Message(sampleEvent())
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject != "events.tasks.upsert" {
		t.Errorf("subject = %s", msg.Subject)
	}
	if got := msg.Header.Get(jetstream.MsgIDHeader); got != "01J0-abc" {
		t.Errorf("Nats-Msg-Id = %q", got)
	}
	if _, err := events.Decode(msg.Data); err != nil {
		t.Errorf("payload does not decode: %v", err)
	}
	bad := sampleEvent()
	bad.Key = ""
	if _, err := p.Message(bad); !errors.Is(err, events.ErrInvalid) {
		t.Errorf("invalid event: %v", err)
	}
}

func TestPublishDeduplicatesInsideTheWindow(t *testing.T) {
	js, stream := publisherEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := events.NewPublisher(js, "")
	ev := sampleEvent()
	first, err := p.Publish(ctx, ev)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if first.Duplicate {
		t.Fatal("first publish reported as a duplicate")
	}
	second, err := p.Publish(ctx, ev)
	if err != nil {
		t.Fatalf("second Publish: %v", err)
	}
	if !second.Duplicate || second.Sequence != first.Sequence {
		t.Fatalf("retry: duplicate=%v seq=%d, want duplicate of seq %d", second.Duplicate, second.Sequence, first.Sequence)
	}
	msg, err := stream.GetMsg(ctx, first.Sequence)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get(jetstream.MsgIDHeader) != ev.ID {
		t.Fatalf("stored Nats-Msg-Id = %q", msg.Header.Get(jetstream.MsgIDHeader))
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("stream holds %d messages, want 1", info.State.Msgs)
	}
}

func TestPublishWithoutStream(t *testing.T) {
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := events.NewPublisher(js, "nowhere").Publish(ctx, sampleEvent())
	if err == nil || errors.Is(err, events.ErrInvalid) {
		t.Fatalf("publish with no stream: %v", err)
	}
}

func TestPublishAll(t *testing.T) {
	js, stream := publisherEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := events.NewPublisher(js, "")
	evs := make([]events.Event, 500)
	for i := range evs {
		evs[i] = sampleEvent()
		evs[i].ID = fmt.Sprintf("ev-%d", i)
		evs[i].Key = fmt.Sprintf("k-%d", i%50)
	}
	if err := p.PublishAll(ctx, evs); err != nil {
		t.Fatalf("PublishAll: %v", err)
	}
	// Publishing the lot again is safe: every id deduplicates.
	if err := p.PublishAll(ctx, evs); err != nil {
		t.Fatalf("PublishAll again: %v", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 500 {
		t.Fatalf("stream holds %d messages, want 500", info.State.Msgs)
	}
	// Order is kept: sequence i+1 carries event i.
	for _, i := range []int{0, 250, 499} {
		msg, err := stream.GetMsg(ctx, uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		if got := msg.Header.Get(jetstream.MsgIDHeader); got != evs[i].ID {
			t.Fatalf("seq %d carries %s, want %s", i+1, got, evs[i].ID)
		}
	}
}

func TestPublishAllValidatesFirst(t *testing.T) {
	js, stream := publisherEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	evs := []events.Event{sampleEvent(), sampleEvent()}
	evs[1].ID, evs[1].Entity = "other", "Bad"
	err := events.NewPublisher(js, "").PublishAll(ctx, evs)
	if !errors.Is(err, events.ErrInvalid) {
		t.Fatalf("PublishAll: %v, want ErrInvalid", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 0 {
		t.Fatalf("%d events were sent although one was invalid", info.State.Msgs)
	}
}
