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
	"golang.org/x/time/rate"

	"github.com/switchyard/switchyard/internal/jsdeclare"
)

// RegistryConfig configures the registry of clients seen by read routers.
// Only reads that found records of the client register it (clients set
// explicitly are known from their override), so reads of invented clients
// register nothing; the registry is bounded, its entries expire, and
// registration is rate-limited.
type RegistryConfig struct {
	// Bucket is the key-value bucket; default "switchyard_clients".
	Bucket string
	// TTL is how long a client stays registered after a router last served
	// it; default 30 days. It must exceed MarkInterval, which refreshes
	// active clients.
	TTL time.Duration
	// MaxClients bounds the registered clients; once the bucket holds that
	// many, new clients are not registered (counted as dropped) until old
	// ones expire, while registered ones are still refreshed. Several
	// routers may overshoot it by the marks of one flush. Default 100000.
	MaxClients int
	// RegisterRate is how many marks per second this process writes at
	// most, with bursts of RegisterBurst; marks beyond it are dropped and
	// taken again on a later read. Defaults 50 and 500.
	RegisterRate  float64
	RegisterBurst int
	// MarkInterval is how often one client's last-seen time is written at
	// most; default 10 minutes.
	MarkInterval time.Duration
	// FlushInterval is how often pending marks are written; default 5 s.
	FlushInterval time.Duration
	// MaxPending bounds the clients waiting to be written; marks beyond it
	// are dropped (and retried on a later read). Default 100000.
	MaxPending int
	// Replicas of the bucket when it is created; default 1.
	Replicas int
	// MustExist opens an existing bucket only: a missing one fails with an
	// error matching jsdeclare.ErrMissing instead of being created
	// (read-only commands). An existing one is never changed.
	MustExist bool
	Logger    *slog.Logger
}

func (c RegistryConfig) withDefaults() RegistryConfig {
	if c.Bucket == "" {
		c.Bucket = "switchyard_clients"
	}
	if c.MarkInterval <= 0 {
		c.MarkInterval = 10 * time.Minute
	}
	if c.TTL <= 0 {
		c.TTL = 30 * 24 * time.Hour
	}
	if c.MaxClients <= 0 {
		c.MaxClients = 100000
	}
	if c.RegisterRate <= 0 {
		c.RegisterRate = 50
	}
	if c.RegisterBurst <= 0 {
		c.RegisterBurst = 500
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 100000
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

// Registry records which clients read routers have found records for, so
// that clients without an override can be searched, counted and switched. Routers mark
// clients in memory; a background loop (Start) writes each client at most
// once per MarkInterval. Readers (Clients) need no loop.
type Registry struct {
	kv  jetstream.KeyValue
	cfg RegistryConfig

	mu       sync.Mutex
	pending  map[string]time.Time
	lastMark map[string]time.Time
	limiter  *rate.Limiter
	dropped  atomic.Int64

	flusher flushLoop
}

// OpenRegistry opens the bucket, creating it with cfg.TTL if needed
// (unless cfg.MustExist); an existing bucket is never changed. It fails with
// an *InvalidError when TTL does not exceed MarkInterval, and with an error
// matching ErrUnavailable when JetStream cannot be reached.
func OpenRegistry(ctx context.Context, js jetstream.JetStream, cfg RegistryConfig) (*Registry, error) {
	cfg = cfg.withDefaults()
	if cfg.TTL <= cfg.MarkInterval {
		return nil, invalid("registry ttl", "%s must exceed the mark interval %s, or active clients would expire", cfg.TTL, cfg.MarkInterval)
	}
	kv, err := jsdeclare.KeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket:      cfg.Bucket,
		Description: "Switchyard: clients read routers found records for",
		History:     1,
		TTL:         cfg.TTL,
		Replicas:    cfg.Replicas,
	}, declareMode(cfg.MustExist))
	if err != nil {
		return nil, openError("client registry bucket", cfg.Bucket, err)
	}
	return &Registry{
		kv: kv, cfg: cfg, pending: map[string]time.Time{}, lastMark: map[string]time.Time{},
		limiter: rate.NewLimiter(rate.Limit(cfg.RegisterRate), cfg.RegisterBurst),
	}, nil
}

// Mark notes that client was served now. It never blocks on the network.
// Marks beyond the registration rate or MaxPending are dropped.
func (r *Registry) Mark(client string) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if last, ok := r.lastMark[client]; ok && now.Sub(last) < r.cfg.MarkInterval {
		return
	}
	if len(r.pending) >= r.cfg.MaxPending || !r.limiter.AllowN(now, 1) {
		r.dropped.Add(1)
		return
	}
	r.lastMark[client] = now
	r.pending[client] = now
}

// ObserveRead implements ClientObserver: it marks the client when the
// serving store found records of it. Reads that found nothing, failed or
// were abandoned register nobody, so invented client ids never become
// known clients.
func (r *Registry) ObserveRead(client string, o ReadObservation) {
	if o.Served != "" && o.Found && !o.ServedErr && !o.Abandoned {
		r.Mark(client)
	}
}

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
	if len(batch) == 0 {
		return nil
	}
	status, err := r.kv.Status(ctx)
	if err != nil {
		r.keep(batch)
		return fmt.Errorf("client registry %s: %w: %w", r.cfg.Bucket, ErrUnavailable, err)
	}
	registered := status.Values()
	var errs []error
	for client, at := range batch {
		added, err := r.write(ctx, client, at, registered >= uint64(r.cfg.MaxClients))
		if added {
			registered++
		}
		if err != nil {
			errs = append(errs, err)
			r.keep(map[string]time.Time{client: at})
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

// keep puts marks back to be written by the next flush.
func (r *Registry) keep(marks map[string]time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c, at := range marks {
		r.pending[c] = at
	}
}

// write registers client as seen at at, or refreshes it. When full, only
// clients already registered are refreshed; a new one is dropped. added
// reports a new registration.
func (r *Registry) write(ctx context.Context, client string, at time.Time, full bool) (added bool, err error) {
	key := encodeClient(client)
	b, _ := json.Marshal(SeenClient{Client: client, LastSeen: at.UTC()})
	if !full {
		if _, err = r.kv.Create(ctx, key, b); err == nil {
			return true, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return false, err
		}
	} else if _, err = r.kv.Get(ctx, key); errors.Is(err, jetstream.ErrKeyNotFound) {
		r.dropped.Add(1)
		return false, nil
	} else if err != nil {
		return false, err
	}
	_, err = r.kv.Put(ctx, key, b)
	return false, err
}

// Dropped returns how many marks were dropped: beyond the registration
// rate, with too many pending, or with the registry full.
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
