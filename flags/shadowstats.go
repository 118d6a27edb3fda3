package flags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/switchyard/switchyard/internal/gate"
	"github.com/switchyard/switchyard/internal/jsdeclare"
	"github.com/switchyard/switchyard/internal/textlimit"
)

// ShadowCounts are one client's read counters.
type ShadowCounts struct {
	// Matches, Mismatches and Errors count compared shadow reads: both
	// stores answered and agreed, disagreed, or the secondary failed.
	Matches    int64 `json:"matches"`
	Mismatches int64 `json:"mismatches"`
	Errors     int64 `json:"errors"`
	// Settled counts the matches that differed at first and agreed when
	// the differing keys were read again (events in flight); they are
	// included in Matches.
	Settled int64 `json:"settled"`
	// Unsettled counts shadow reads whose differing keys kept changing
	// until the re-checks ran out: neither a match nor a mismatch, and not
	// compared, so they neither open nor close the shadow gate.
	Unsettled int64 `json:"unsettled"`
	// Dropped counts shadow reads skipped because too many comparisons
	// were already running.
	Dropped int64 `json:"dropped"`
	// TargetReads and TargetErrors count reads answered by the target store
	// (stages target and target-shadow) and how many of them failed.
	TargetReads  int64 `json:"target_reads"`
	TargetErrors int64 `json:"target_errors"`
	// Keys is how many distinct keys the compared reads covered: exact up
	// to MaxShadowKeys, where counting stops. Reading one key a hundred
	// times covers one key. Counts recorded by hand (Record with Keys set
	// but no reads observed) carry no key hashes; summed with others they
	// count as a lower bound, the largest of the parts.
	Keys int `json:"distinct_keys"`
	// FirstCompared and LastCompared are the times of the first and the
	// last compared read; Span is the time between them.
	FirstCompared time.Time `json:"first_compared,omitzero"`
	LastCompared  time.Time `json:"last_compared,omitzero"`
	// UpdatedAt is when the counters last changed.
	UpdatedAt time.Time `json:"updated_at,omitzero"`

	// keys holds the hashes of the distinct keys, sorted, at most
	// MaxShadowKeys; Keys is at least its length.
	keys []uint64
}

// MaxShadowKeys is how many distinct keys are tracked per client and
// router; the shadow gate's distinct-key threshold cannot exceed it.
const MaxShadowKeys = 256

// Span returns the time from the first to the last compared read.
func (c ShadowCounts) Span() time.Duration {
	if c.FirstCompared.IsZero() || c.LastCompared.IsZero() {
		return 0
	}
	return c.LastCompared.Sub(c.FirstCompared)
}

// shadowKeyHash identifies one key of one entity in the distinct-key set:
// FNV-1a (64 bit) of entity, a zero byte and key, the same in every
// process.
func shadowKeyHash(entity, key string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(entity); i++ {
		h ^= uint64(entity[i])
		h *= prime
	}
	h *= prime // the zero byte
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= prime
	}
	return h
}

// keySet turns hashes into a set: sorted, without duplicates, the smallest
// MaxShadowKeys. It sorts hs in place.
func keySet(hs []uint64) []uint64 {
	slices.Sort(hs)
	hs = slices.Compact(hs)
	return hs[:min(len(hs), MaxShadowKeys)]
}

// unionKeys merges two sorted hash sets into a new one, keeping at most
// MaxShadowKeys (the smallest hashes, so every process keeps the same
// ones).
func unionKeys(a, b []uint64) []uint64 {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := make([]uint64, 0, min(len(a)+len(b), MaxShadowKeys))
	i, j := 0, 0
	for len(out) < MaxShadowKeys && (i < len(a) || j < len(b)) {
		switch {
		case j == len(b) || i < len(a) && a[i] < b[j]:
			out = append(out, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}

// Compared returns the shadow reads that were compared (unsettled ones are
// not).
func (c ShadowCounts) Compared() int64 { return c.Matches + c.Mismatches }

// MismatchRate returns Mismatches / Compared, 0 when nothing was compared.
func (c ShadowCounts) MismatchRate() float64 {
	if c.Compared() == 0 {
		return 0
	}
	return float64(c.Mismatches) / float64(c.Compared())
}

// Add accumulates o into c.
func (c *ShadowCounts) Add(o ShadowCounts) {
	c.Matches += o.Matches
	c.Mismatches += o.Mismatches
	c.Errors += o.Errors
	c.Settled += o.Settled
	c.Unsettled += o.Unsettled
	c.Dropped += o.Dropped
	c.TargetReads += o.TargetReads
	c.TargetErrors += o.TargetErrors
	// A set is never shared: unionKeys returns a fresh slice or one of
	// its inputs, which nobody mutates.
	c.keys = unionKeys(c.keys, o.keys)
	c.Keys = max(c.Keys, o.Keys, len(c.keys))
	if !o.FirstCompared.IsZero() && (c.FirstCompared.IsZero() || o.FirstCompared.Before(c.FirstCompared)) {
		c.FirstCompared = o.FirstCompared
	}
	if o.LastCompared.After(c.LastCompared) {
		c.LastCompared = o.LastCompared
	}
	if o.UpdatedAt.After(c.UpdatedAt) {
		c.UpdatedAt = o.UpdatedAt
	}
}

// storedCounts is the bucket's form of ShadowCounts: with the key hashes,
// which readers union across routers.
type storedCounts struct {
	ShadowCounts
	KeyHashes []uint64 `json:"key_hashes,omitempty"`
}

func encodeCounts(c ShadowCounts) []byte {
	b, _ := json.Marshal(storedCounts{ShadowCounts: c, KeyHashes: c.keys})
	return b
}

// decodeCounts reads stored counters; a malformed value reads as zero.
func decodeCounts(b []byte) (ShadowCounts, bool) {
	var s storedCounts
	if json.Unmarshal(b, &s) != nil {
		return ShadowCounts{}, false
	}
	c := s.ShadowCounts
	c.keys = keySet(s.KeyHashes)
	c.Keys = max(c.Keys, len(c.keys))
	return c, true
}

func (c ShadowCounts) isZero() bool {
	return c.Matches == 0 && c.Mismatches == 0 && c.Errors == 0 && c.Settled == 0 && c.Unsettled == 0 && c.Dropped == 0 && c.TargetReads == 0 && c.TargetErrors == 0
}

// ShadowStatsConfig configures the shared shadow counters.
type ShadowStatsConfig struct {
	// Bucket is the key-value bucket; default "switchyard_shadow".
	Bucket string
	// RouterID names this process's keys; default a random unique id. Each
	// router writes only its own key per client, "<client>.<router>", and
	// readers sum every router's key, so several routers never contend.
	RouterID string
	// FlushInterval is how often counters are written; default 5 s.
	FlushInterval time.Duration
	// MaxAge, when set, expires counters not updated for that long.
	MaxAge time.Duration
	// MaxPending bounds the clients with unwritten counters; beyond it new
	// clients' counters are dropped until the next flush. Default 100000.
	MaxPending int
	// Replicas of the bucket when it is created; default 1.
	Replicas int
	// MustExist opens an existing bucket only: a missing one fails with an
	// error matching jsdeclare.ErrMissing instead of being created
	// (read-only commands). An existing one is never changed.
	MustExist bool
	Logger    *slog.Logger
}

func (c ShadowStatsConfig) withDefaults() ShadowStatsConfig {
	if c.Bucket == "" {
		c.Bucket = "switchyard_shadow"
	}
	if c.RouterID == "" {
		c.RouterID = nuid.Next()
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

// ShadowStats keeps per-client shadow counters in a key-value bucket shared
// by every router, the gates and the console. A router records in memory
// (ObserveRead) and a background loop (Start) adds its deltas to its own
// keys; readers (ClientStats, All) sum over routers. It is safe for
// concurrent use.
type ShadowStats struct {
	kv  jetstream.KeyValue
	cfg ShadowStatsConfig

	mu      sync.Mutex
	pending map[string]ShadowCounts
	dropped atomic.Int64

	flusher flushLoop
}

// OpenShadowStats opens the bucket, creating it if needed (unless
// cfg.MustExist). MaxAge applies when the bucket is created. It fails with an error
// matching ErrUnavailable when JetStream cannot be reached.
func OpenShadowStats(ctx context.Context, js jetstream.JetStream, cfg ShadowStatsConfig) (*ShadowStats, error) {
	cfg = cfg.withDefaults()
	if !textlimit.IsName(cfg.RouterID) {
		return nil, invalid("router id", "%q may hold only letters, digits, '-' and '_'", truncate(cfg.RouterID, 64))
	}
	kv, err := jsdeclare.KeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket:      cfg.Bucket,
		Description: "Switchyard: per-client shadow read counters, one key per client and router",
		History:     1,
		TTL:         cfg.MaxAge,
		Replicas:    cfg.Replicas,
	}, declareMode(cfg.MustExist))
	if err != nil {
		return nil, openError("shadow stats bucket", cfg.Bucket, err)
	}
	return &ShadowStats{kv: kv, cfg: cfg, pending: map[string]ShadowCounts{}}, nil
}

// Record adds delta to client's unwritten counters. It never blocks on the
// network.
func (s *ShadowStats) Record(client string, delta ShadowCounts) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.pending[client]
	if !ok && len(s.pending) >= s.cfg.MaxPending {
		s.dropped.Add(1)
		return
	}
	c.Add(delta)
	s.pending[client] = c
}

// Dropped returns how many recordings were dropped because MaxPending
// clients were already waiting to be written.
func (s *ShadowStats) Dropped() int64 { return s.dropped.Load() }

// ObserveRead implements ClientObserver.
func (s *ShadowStats) ObserveRead(client string, o ReadObservation) {
	if o.Abandoned {
		return // the caller went away: the read tells nothing
	}
	var d ShadowCounts
	now := time.Now().UTC()
	switch o.Shadow {
	case ShadowMatch:
		d.Matches = 1
		if o.Settled {
			d.Settled = 1
		}
		d.compared(now, o.Entity, o.Keys)
	case ShadowMismatch:
		d.Mismatches = 1
		d.compared(now, o.Entity, o.Keys)
	case ShadowUnsettled:
		d.Unsettled = 1
	case ShadowError:
		d.Errors = 1
	case ShadowDropped:
		d.Dropped = 1
	}
	if o.Served == StoreTarget {
		d.TargetReads = 1
		if o.ServedErr {
			d.TargetErrors = 1
		}
	}
	if d.isZero() {
		return
	}
	d.UpdatedAt = now
	s.Record(client, d)
}

// compared notes one compared read at now covering keys of entity.
func (c *ShadowCounts) compared(now time.Time, entity string, keys []string) {
	c.FirstCompared, c.LastCompared = now, now
	if len(keys) == 0 {
		return
	}
	hs := make([]uint64, 0, len(keys))
	for _, k := range keys {
		hs = append(hs, shadowKeyHash(entity, k))
	}
	c.keys = keySet(hs)
	c.Keys = len(c.keys)
}

// Start runs the flush loop until Close.
func (s *ShadowStats) Start() {
	s.flusher.start(s.cfg.FlushInterval, s.Flush, s.cfg.Logger, "shadow stats")
}

// Close stops the flush loop and writes what is pending, within ctx.
func (s *ShadowStats) Close(ctx context.Context) error {
	s.flusher.stop()
	return s.Flush(ctx)
}

// Flush adds the unwritten counters to this router's keys. Counters that
// fail to be written stay pending for the next flush.
func (s *ShadowStats) Flush(ctx context.Context) error {
	s.mu.Lock()
	batch := s.pending
	s.pending = make(map[string]ShadowCounts, len(batch))
	s.mu.Unlock()
	var failed int
	var firstErr error
	for client, delta := range batch {
		if err := s.add(ctx, client, delta); err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
			s.Record(client, delta)
		}
	}
	if failed > 0 {
		return fmt.Errorf("shadow stats: %d of %d clients not written: %w", failed, len(batch), firstErr)
	}
	return nil
}

func (s *ShadowStats) key(client string) string { return encodeClient(client) + "." + s.cfg.RouterID }

// add adds delta to the stored counters with a compare-and-set. Only this
// router writes the key; a conflict means a Reset deleted it meanwhile, so
// one retry starts from the fresh value.
func (s *ShadowStats) add(ctx context.Context, client string, delta ShadowCounts) error {
	key := s.key(client)
	for attempt := 0; ; attempt++ {
		var cur ShadowCounts
		var rev uint64
		e, err := s.kv.Get(ctx, key)
		switch {
		case err == nil:
			rev = e.Revision()
			cur, _ = decodeCounts(e.Value())
		case errors.Is(err, jetstream.ErrKeyNotFound):
		default:
			return err
		}
		cur.Add(delta)
		b := encodeCounts(cur)
		if rev == 0 {
			_, err = s.kv.Create(ctx, key, b)
		} else {
			_, err = s.kv.Update(ctx, key, b, rev)
		}
		if err == nil || attempt > 0 || !(errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch)) {
			return err
		}
	}
}

// ClientStats returns client's counters summed over every router. A client
// without counters has zero counts.
func (s *ShadowStats) ClientStats(ctx context.Context, client string) (ShadowCounts, error) {
	if err := ValidateClient(client); err != nil {
		return ShadowCounts{}, err
	}
	var sum ShadowCounts
	w, err := s.kv.Watch(ctx, encodeClient(client)+".*", jetstream.IgnoreDeletes())
	if err != nil {
		return ShadowCounts{}, fmt.Errorf("shadow stats %s: %w: %w", s.cfg.Bucket, ErrUnavailable, err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return ShadowCounts{}, ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return ShadowCounts{}, fmt.Errorf("shadow stats %s: %w: watch closed", s.cfg.Bucket, ErrUnavailable)
			}
			if e == nil {
				return sum, nil
			}
			if c, ok := decodeCounts(e.Value()); ok {
				sum.Add(c)
			}
		}
	}
}

// All returns every client's counters summed over routers.
func (s *ShadowStats) All(ctx context.Context) (map[string]ShadowCounts, error) {
	out := map[string]ShadowCounts{}
	err := eachEntry(ctx, s.kv, func(e jetstream.KeyValueEntry) {
		enc, _, ok := strings.Cut(e.Key(), ".")
		if !ok {
			return
		}
		client, ok := decodeClient(enc)
		if !ok {
			return
		}
		if c, ok := decodeCounts(e.Value()); ok {
			sum := out[client]
			sum.Add(c)
			out[client] = sum
		}
	})
	if err != nil {
		return nil, fmt.Errorf("shadow stats %s: %w", s.cfg.Bucket, err)
	}
	return out, nil
}

// Reset forgets client's counters in every router, for instance after its
// mismatches were repaired, so the shadow gate counts from zero again.
func (s *ShadowStats) Reset(ctx context.Context, client string) error {
	if err := ValidateClient(client); err != nil {
		return err
	}
	lister, err := s.kv.ListKeysFiltered(ctx, encodeClient(client)+".*")
	if err != nil {
		return fmt.Errorf("shadow stats %s: %w: %w", s.cfg.Bucket, ErrUnavailable, err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	for _, k := range keys {
		if err := s.kv.Purge(ctx, k); err != nil {
			return fmt.Errorf("shadow stats %s: reset %s: %w", s.cfg.Bucket, gate.QuoteClient(client), err)
		}
	}
	s.mu.Lock()
	delete(s.pending, client)
	s.mu.Unlock()
	return nil
}
