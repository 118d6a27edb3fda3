package jsdeclare_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/jsdeclare"
	"github.com/switchyard/switchyard/internal/testenv"
)

func TestKeyValueAndStream(t *testing.T) {
	_, js := testenv.NATS(t).Connect()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	_, err := jsdeclare.KeyValue(ctx, js, jetstream.KeyValueConfig{Bucket: "b"}, jsdeclare.MustExist)
	var missing *jsdeclare.MissingError
	if !errors.Is(err, jsdeclare.ErrMissing) || !errors.As(err, &missing) || missing.Name != "b" {
		t.Fatalf("MustExist on a missing bucket: %v", err)
	}
	if _, err := jsdeclare.Stream(ctx, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}}, jsdeclare.MustExist); !errors.Is(err, jsdeclare.ErrMissing) {
		t.Fatalf("MustExist on a missing stream: %v", err)
	}
	if names := js.StreamNames(ctx); len(collect(names.Name())) != 0 {
		t.Fatal("MustExist created something")
	}

	if _, err := jsdeclare.KeyValue(ctx, js, jetstream.KeyValueConfig{Bucket: "b", History: 5}, jsdeclare.Create); err != nil {
		t.Fatal(err)
	}
	// Declared again with other settings: the existing bucket is used as it is.
	kv, err := jsdeclare.KeyValue(ctx, js, jetstream.KeyValueConfig{Bucket: "b", History: 64}, jsdeclare.Create)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := kv.Status(ctx); err != nil || st.History() != 5 {
		t.Fatalf("history %d (%v), want the existing 5", st.History(), err)
	}
	if _, err := jsdeclare.Stream(ctx, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, MaxMsgs: 10}, jsdeclare.Create); err != nil {
		t.Fatal(err)
	}
	st, err := jsdeclare.Stream(ctx, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, MaxMsgs: 99}, jsdeclare.MustExist)
	if err != nil || st.CachedInfo().Config.MaxMsgs != 10 || st.CachedInfo().Config.Replicas != 1 {
		t.Fatalf("existing stream: %+v, %v", st.CachedInfo().Config, err)
	}
}

func collect(ch <-chan string) []string {
	var out []string
	for s := range ch {
		out = append(out, s)
	}
	return out
}
