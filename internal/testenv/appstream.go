package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ApplicationStream creates the stream an application owns before
// Switchyard arrives: "EVENTS" with two subject trees (events.> and
// orders.>), a 24 h max age, 1,000,000 max messages and a 10 min duplicate
// window; mutate, when not nil, changes it first. It returns the stream's
// configuration as the server stored it, for comparing with later.
func ApplicationStream(t testing.TB, js jetstream.JetStream, mutate func(*jetstream.StreamConfig)) jetstream.StreamConfig {
	t.Helper()
	cfg := jetstream.StreamConfig{
		Name:       "EVENTS",
		Subjects:   []string{"events.>", "orders.>"},
		Storage:    jetstream.FileStorage,
		Retention:  jetstream.LimitsPolicy,
		MaxAge:     24 * time.Hour,
		MaxMsgs:    1_000_000,
		Duplicates: 10 * time.Minute,
		Replicas:   1,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.CreateStream(ctx, cfg)
	if err != nil {
		t.Fatalf("create the application's stream: %v", err)
	}
	return st.CachedInfo().Config
}

// StreamConfig returns the stored configuration of the stream name.
func StreamConfig(t testing.TB, js jetstream.JetStream, name string) jetstream.StreamConfig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	return st.CachedInfo().Config
}
