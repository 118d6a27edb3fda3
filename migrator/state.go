package migrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/jsdeclare"
)

// DefaultBucket is the key-value bucket that holds the migration state.
const DefaultBucket = "switchyard_migration"

// Keys of the state bucket. Entity names are valid key tokens; client ids
// are arbitrary text and are base64url-encoded.
const (
	keyPhase           = "phase"
	keyBackfillRun     = "backfill.run"
	keyBackfillControl = "backfill.control"
	prefixEntity       = "backfill.entity."
	keyVerifyWhole     = "verify.result"
	prefixVerifyClient = "verify.client."
	prefixVerifyCkpt   = "verify.checkpoint."
	keyCleanup         = "cleanup"
)

// casAttempts bounds the retries of one compare-and-set update. Each retry
// re-reads the value, so losing this many races in a row means something
// is rewriting the key in a loop.
const casAttempts = 64

// State is the migration state in a NATS key-value bucket. It is safe for
// concurrent use by many goroutines and processes: every read-modify-write
// is a compare-and-set on the key's revision.
type State struct {
	kv     jetstream.KeyValue
	bucket string
	now    func() time.Time
}

// OpenState opens the state bucket, creating it (file storage, history 16,
// one replica) when it does not exist. An empty bucket name means
// DefaultBucket. It fails when NATS is unreachable or JetStream is not
// enabled.
func OpenState(ctx context.Context, js jetstream.JetStream, bucket string) (*State, error) {
	return OpenStateWith(ctx, js, StateConfig{Bucket: bucket})
}

// StateConfig says which state bucket OpenStateWith opens, and how.
type StateConfig struct {
	// Bucket is the state bucket; empty means DefaultBucket.
	Bucket string
	// Replicas of the bucket when it is created; zero means 1.
	Replicas int
	// MustExist opens an existing bucket only: a missing one fails with an
	// error matching jsdeclare.ErrMissing (read-only commands).
	MustExist bool
}

// OpenStateWith opens the state bucket as cfg says. An existing bucket is
// used as it is, never changed.
func OpenStateWith(ctx context.Context, js jetstream.JetStream, cfg StateConfig) (*State, error) {
	bucket := cfg.Bucket
	if bucket == "" {
		bucket = DefaultBucket
	}
	mode := jsdeclare.Create
	if cfg.MustExist {
		mode = jsdeclare.MustExist
	}
	kv, err := jsdeclare.KeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket:      bucket,
		Description: "Switchyard migration state: phase, backfill checkpoints, verify results, cleanup",
		History:     16,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	}, mode)
	if errors.Is(err, jsdeclare.ErrMissing) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("migration state bucket %s: %w", bucket, err)
	}
	return &State{kv: kv, bucket: bucket, now: func() time.Time { return time.Now().UTC() }}, nil
}

// Bucket is the name of the state bucket.
func (s *State) Bucket() string { return s.bucket }

// getJSON reads key into a T. found is false (and the error nil) when the
// key does not exist or was deleted.
func getJSON[T any](ctx context.Context, kv jetstream.KeyValue, key string) (v T, rev uint64, found bool, err error) {
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return v, 0, false, nil
	}
	if err != nil {
		return v, 0, false, fmt.Errorf("read %s: %w", key, err)
	}
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return v, 0, false, fmt.Errorf("read %s: malformed value: %w", key, err)
	}
	return v, e.Revision(), true, nil
}

// errNoChange lets an update function leave the stored value as it is.
var errNoChange = errors.New("no change")

// updateJSON applies fn to the current value of key (the zero T and
// found=false when absent) and stores the result with a compare-and-set,
// retrying on a lost race. fn may return errNoChange to write nothing; any
// other error aborts the update and is returned.
func updateJSON[T any](ctx context.Context, kv jetstream.KeyValue, key string, fn func(v *T, found bool) error) (T, error) {
	for range casAttempts {
		v, rev, found, err := getJSON[T](ctx, kv, key)
		if err != nil {
			return v, err
		}
		if err := fn(&v, found); errors.Is(err, errNoChange) {
			return v, nil
		} else if err != nil {
			return v, err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return v, fmt.Errorf("encode %s: %w", key, err)
		}
		if found {
			_, err = kv.Update(ctx, key, b, rev)
		} else {
			_, err = kv.Create(ctx, key, b)
		}
		if err == nil {
			return v, nil
		}
		if errors.Is(err, jetstream.ErrKeyExists) || isWrongSequence(err) {
			continue // lost a race: read again
		}
		return v, fmt.Errorf("write %s: %w", key, err)
	}
	var zero T
	return zero, fmt.Errorf("write %s: %w", key, ErrConflict)
}

func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

func putJSON(ctx context.Context, kv jetstream.KeyValue, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	if _, err := kv.Put(ctx, key, b); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func jsonBytes(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return b, nil
}
