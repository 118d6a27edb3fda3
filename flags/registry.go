package flags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// RegistryConfig configures the registry of clients seen by read routers.
type RegistryConfig struct {
	// Bucket is the key-value bucket; default "switchyard_clients".
	Bucket string
	// MarkInterval is how often one client's last-seen time is written at
	// most; default 10 minutes.
	MarkInterval time.Duration
	// FlushInterval is how often pending marks are written; default 5 s.
	FlushInterval time.Duration
	// MaxPending bounds the clients waiting to be written; marks beyond it
	// are dropped (and retried on a later read). Default 100000.
	MaxPending int
	// Replicas of the bucket; default 1.
	Replicas int
	Logger   *slog.Logger
}

func (c RegistryConfig) withDefaults() RegistryConfig {
	if c.Bucket == "" {
		c.Bucket = "switchyard_clients"
	}
	if c.MarkInterval <= 0 {
		c.MarkInterval = 10 * time.Minute
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = 5 * time.Second
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 100000
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// SeenClient is a client some read router served.
type SeenClient struct {
	Client   string    `json:"client"`
	LastSeen time.Time `json:"last_seen"`
}

// Registry records which clients read routers have served, so that clients
// without an override can be searched, counted and switched. Routers mark
// clients in memory; a background loop (Start) writes each client at most
// once per MarkInterval. Readers (Clients) need no loop.
type Registry struct {
	kv  jetstream.KeyValue
	cfg RegistryConfig

	mu       sync.Mutex
	pending  map[string]time.Time
	lastMark map[string]time.Time
	dropped  atomic.Int64

	flusher flushLoop
}

// OpenRegistry creates the bucket if needed. It fails with an error
// matching ErrUnavailable when JetStream cannot be reached.
func OpenRegistry(ctx context.Context, js jetstream.JetStream, cfg RegistryConfig) (*Registry, error) {
	cfg = cfg.withDefaults()
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      cfg.Bucket,
		Description: "Switchyard: clients seen by read routers",
		History:     1,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("client registry bucket %s: %w: %w", cfg.Bucket, ErrUnavailable, err)
	}
	return &Registry{kv: kv, cfg: cfg, pending: map[string]time.Time{}, lastMark: map[string]time.Time{}}, nil
}

// Mark notes that client was served now. It never blocks on the network.
func (r *Registry) Mark(client string) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if last, ok := r.lastMark[client]; ok && now.Sub(last) < r.cfg.MarkInterval {
		return
	}
	if len(r.pending) >= r.cfg.MaxPending {
		r.dropped.Add(1)
		return
	}
	r.lastMark[client] = now
	r.pending[client] = now
}

// ObserveRead implements ClientObserver by marking the client.
func (r *Registry) ObserveRead(client string, _ ReadObservation) { r.Mark(client) }

// Start runs the flush loop until Close.
func (r *Registry) Start() {
	r.flusher.start(r.cfg.FlushInterval, r.Flush, r.cfg.Logger, "client registry")
}

// Close stops the flush loop and writes what is pending, within ctx.
func (r *Registry) Close(ctx context.Context) error {
	r.flusher.stop()
	return r.Flush(ctx)
}

// Flush writes pending marks. Marks that fail stay pending.
func (r *Registry) Flush(ctx context.Context) error {
	r.mu.Lock()
	batch := r.pending
	r.pending = make(map[string]time.Time, len(batch))
	// Forget old marks so the map of last marks stays bounded by the
	// clients active within one interval.
	for c, t := range r.lastMark {
		if time.Since(t) >= r.cfg.MarkInterval {
			delete(r.lastMark, c)
		}
	}
	r.mu.Unlock()
	var errs []error
	for client, at := range batch {
		b, _ := json.Marshal(SeenClient{Client: client, LastSeen: at.UTC()})
		if _, err := r.kv.Put(ctx, encodeClient(client), b); err != nil {
			errs = append(errs, err)
			r.mu.Lock()
			r.pending[client] = at
			r.mu.Unlock()
			if ctx.Err() != nil {
				break
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("client registry: %d writes failed: %w", len(errs), errs[0])
	}
	return nil
}

// Dropped returns how many marks were dropped because too many were pending.
func (r *Registry) Dropped() int64 { return r.dropped.Load() }

// Clients returns every registered client.
func (r *Registry) Clients(ctx context.Context) ([]SeenClient, error) {
	var out []SeenClient
	err := eachEntry(ctx, r.kv, func(e jetstream.KeyValueEntry) {
		var s SeenClient
		if json.Unmarshal(e.Value(), &s) == nil && s.Client != "" {
			out = append(out, s)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("client registry %s: %w", r.cfg.Bucket, err)
	}
	return out, nil
}

// eachEntry calls fn with the latest value of every live key of kv.
func eachEntry(ctx context.Context, kv jetstream.KeyValue, fn func(jetstream.KeyValueEntry)) error {
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("%w: watch closed", ErrUnavailable)
			}
			if e == nil {
				return nil
			}
			fn(e)
		}
	}
}

// Client returns when a read router last served client; false when none
// registered it. It reads one key, so a client page does not scan the
// bucket.
func (r *Registry) Client(ctx context.Context, client string) (SeenClient, bool, error) {
	e, err := r.kv.Get(ctx, encodeClient(client))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return SeenClient{}, false, nil
	}
	if err != nil {
		return SeenClient{}, false, fmt.Errorf("client registry %s: %w: %w", r.cfg.Bucket, ErrUnavailable, err)
	}
	var s SeenClient
	if err := json.Unmarshal(e.Value(), &s); err != nil || s.Client != client {
		return SeenClient{}, false, nil
	}
	return s, true, nil
}
