package flags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/gate"
)

// DefaultSamplesPerClient is how many mismatching keys ShadowSamples keeps
// per client and router.
const DefaultSamplesPerClient = 10

// ShadowSamples keeps, per client, the most recent mismatching keys that
// shadow reads found, so that the console can show them although the
// routers that saw them run in other processes. A router records them in
// memory (RecordMismatch, a Router's MismatchSink) and a background loop
// (Start) writes each client's newest samples under its own key of the
// shadow statistics bucket, <client>.samples.<router id>, next to the
// counters; readers (ClientSamples) merge the routers' keys. The value is
// a JSON array, which the counters' readers skip. It is safe for
// concurrent use.
type ShadowSamples struct {
	stats     *ShadowStats
	perClient int

	mu      sync.Mutex
	pending map[string][]MismatchSample
	dropped int64

	flusher flushLoop
}

// NewShadowSamples keeps up to perClient samples per client (0 means
// DefaultSamplesPerClient) in stats' bucket.
func NewShadowSamples(stats *ShadowStats, perClient int) *ShadowSamples {
	if perClient <= 0 {
		perClient = DefaultSamplesPerClient
	}
	return &ShadowSamples{stats: stats, perClient: perClient, pending: map[string][]MismatchSample{}}
}

func (s *ShadowSamples) key(client string) string {
	return encodeClient(client) + ".samples." + s.stats.cfg.RouterID
}

// RecordMismatch notes one mismatching key. It never blocks on the
// network; beyond the shadow statistics' MaxPending clients waiting to be
// written, samples are dropped.
func (s *ShadowSamples) RecordMismatch(m MismatchSample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list, ok := s.pending[m.Client]
	if !ok && len(s.pending) >= s.stats.cfg.MaxPending {
		s.dropped++
		return
	}
	s.pending[m.Client] = newestSamples(append(list, m), s.perClient)
}

// Start runs the flush loop (at the shadow statistics' flush interval)
// until Close.
func (s *ShadowSamples) Start() {
	s.flusher.start(s.stats.cfg.FlushInterval, s.Flush, s.stats.cfg.Logger, "shadow samples")
}

// Close stops the flush loop and writes what is pending, within ctx.
func (s *ShadowSamples) Close(ctx context.Context) error {
	s.flusher.stop()
	return s.Flush(ctx)
}

// Flush writes the pending samples: each client's key gets its newest
// samples, older ones of this router included. Samples that fail to be
// written stay pending.
func (s *ShadowSamples) Flush(ctx context.Context) error {
	s.mu.Lock()
	batch := s.pending
	s.pending = make(map[string][]MismatchSample, len(batch))
	s.mu.Unlock()
	var firstErr error
	failed := 0
	for client, fresh := range batch {
		err := s.write(ctx, client, fresh)
		if err == nil {
			continue
		}
		failed++
		if firstErr == nil {
			firstErr = err
		}
		s.mu.Lock()
		s.pending[client] = newestSamples(append(s.pending[client], fresh...), s.perClient)
		s.mu.Unlock()
		if ctx.Err() != nil {
			break
		}
	}
	if firstErr != nil {
		return fmt.Errorf("shadow samples: %d clients not written: %w", failed, firstErr)
	}
	return nil
}

func (s *ShadowSamples) write(ctx context.Context, client string, fresh []MismatchSample) error {
	key := s.key(client)
	var old []MismatchSample
	e, err := s.stats.kv.Get(ctx, key)
	switch {
	case err == nil:
		_ = json.Unmarshal(e.Value(), &old) // a malformed value is replaced
	case !errors.Is(err, jetstream.ErrKeyNotFound):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	b, err := json.Marshal(newestSamples(append(old, fresh...), s.perClient))
	if err != nil {
		return err
	}
	if _, err := s.stats.kv.Put(ctx, key, b); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// ClientSamples returns client's most recent mismatching keys across every
// router, newest first, at most the per-client limit.
func (s *ShadowSamples) ClientSamples(ctx context.Context, client string) ([]MismatchSample, error) {
	if err := ValidateClient(client); err != nil {
		return nil, err
	}
	w, err := s.stats.kv.Watch(ctx, encodeClient(client)+".samples.*", jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("shadow samples: %w: %w", ErrUnavailable, err)
	}
	defer w.Stop()
	var all []MismatchSample
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("shadow samples: %w: watch closed", ErrUnavailable)
			}
			if e == nil {
				return newestSamples(all, s.perClient), nil
			}
			var list []MismatchSample
			if json.Unmarshal(e.Value(), &list) == nil {
				all = append(all, list...)
			}
		}
	}
}

// Reset forgets client's samples in every router, with its counters (see
// Store.ResetShadowStats).
func (s *ShadowSamples) Reset(ctx context.Context, client string) error {
	if err := ValidateClient(client); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.pending, client)
	s.mu.Unlock()
	lister, err := s.stats.kv.ListKeysFiltered(ctx, encodeClient(client)+".samples.*")
	if err != nil {
		return fmt.Errorf("shadow samples: %w: %w", ErrUnavailable, err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	for _, k := range keys {
		if err := s.stats.kv.Purge(ctx, k); err != nil {
			return fmt.Errorf("shadow samples: reset %s: %w", gate.QuoteClient(client), err)
		}
	}
	return nil
}

// newestSamples sorts samples newest first, keeps one sample per entity,
// key and kind, and at most n.
func newestSamples(samples []MismatchSample, n int) []MismatchSample {
	slices.SortStableFunc(samples, func(a, b MismatchSample) int { return b.Time.Compare(a.Time) })
	type id struct{ entity, key, kind string }
	seen := make(map[id]bool, len(samples))
	out := samples[:0:0]
	for _, m := range samples {
		k := id{m.Entity, m.Key, m.Kind}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, m)
		if len(out) == n {
			break
		}
	}
	return out
}
