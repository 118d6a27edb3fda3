// Package jsdeclare opens the key-value buckets and streams Switchyard keeps
// its own state in (migration state, read flags, audit log, shadow counters,
// client registry). A missing one is created with the declared settings,
// replicas included, unless the caller may only read: then it fails with a
// *MissingError. One that exists is opened as it is and never updated, so
// an operator's changes (replicas, limits) survive every run.
package jsdeclare

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrMissing matches every *MissingError.
var ErrMissing = errors.New("does not exist")

// MissingError is a bucket or stream that does not exist and that the
// caller was not allowed to create.
type MissingError struct {
	// Kind is "key-value bucket" or "stream".
	Kind string
	Name string
}

func (e *MissingError) Error() string { return fmt.Sprintf("%s %s does not exist", e.Kind, e.Name) }

// Is matches ErrMissing.
func (e *MissingError) Is(target error) bool { return target == ErrMissing }

// Mode says whether a missing bucket or stream is created.
type Mode int

const (
	// Create creates what is missing.
	Create Mode = iota
	// MustExist opens only what exists, and fails with a *MissingError
	// otherwise (read-only commands).
	MustExist
)

// KeyValue opens the bucket cfg.Bucket, creating it with cfg (replicas 0
// means 1) when it is missing and mode is Create.
func KeyValue(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig, mode Mode) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return kv, err
	}
	if mode == MustExist {
		return nil, &MissingError{Kind: "key-value bucket", Name: cfg.Bucket}
	}
	cfg.Replicas = max(cfg.Replicas, 1)
	kv, err = js.CreateKeyValue(ctx, cfg)
	if errors.Is(err, jetstream.ErrBucketExists) {
		// Another process created it in between, maybe with other
		// settings: use theirs.
		return js.KeyValue(ctx, cfg.Bucket)
	}
	return kv, err
}

// Stream opens the stream cfg.Name, creating it with cfg (replicas 0 means
// 1) when it is missing and mode is Create.
func Stream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig, mode Mode) (jetstream.Stream, error) {
	st, err := js.Stream(ctx, cfg.Name)
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return st, err
	}
	if mode == MustExist {
		return nil, &MissingError{Kind: "stream", Name: cfg.Name}
	}
	cfg.Replicas = max(cfg.Replicas, 1)
	st, err = js.CreateStream(ctx, cfg)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return js.Stream(ctx, cfg.Name)
	}
	return st, err
}
