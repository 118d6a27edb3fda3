package flags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/gate"
	"github.com/switchyard/switchyard/internal/jsdeclare"
)

// AnyRevision as a Change's ExpectedRevision applies the change over
// whatever is stored (still atomically: a concurrent change in between the
// read and the write is reported as ErrConflict).
const AnyRevision uint64 = math.MaxUint64

// PhaseAdvancer is called after a change that moves a client (or the
// default or rollout) off legacy, so the migration enters its switching
// phase. Its failure is logged, never undoes the change.
type PhaseAdvancer func(ctx context.Context) error

// StoreConfig configures a Store.
type StoreConfig struct {
	// Bucket is the flag bucket; default "switchyard_flags".
	Bucket string
	// History is how many revisions of each key the bucket keeps; default
	// 64, the most NATS allows.
	History int
	// Replicas of the bucket when it is created; default 1.
	Replicas int
	// MustExist opens an existing bucket only: a missing one fails with an
	// error matching jsdeclare.ErrMissing instead of being created
	// (read-only commands). An existing one is never changed.
	MustExist bool
	// Audit receives every change. Required for changes: without it every
	// change fails with ErrAudit before anything is written.
	Audit *AuditLog
	// Gates guard moves onto the target store. Nil uses gates without a
	// migration source, which refuse every such move unless forced.
	Gates *Gates
	// Registry supplies clients seen by routers for ListClients and
	// CountByStage; nil means only clients with an override are known.
	Registry *Registry
	// Shadow holds the shadow counters ResetShadowStats resets; nil makes
	// it fail.
	Shadow *ShadowStats
	// OnLeaveLegacy, when set, runs after a change away from legacy.
	OnLeaveLegacy PhaseAdvancer
	Logger        *slog.Logger
}

// Store reads and changes the flag model in its key-value bucket. It is safe
// for concurrent use; it holds no model state, every read goes to the
// bucket.
type Store struct {
	kv       jetstream.KeyValue
	audit    *AuditLog
	gates    *Gates
	registry *Registry
	shadow   *ShadowStats
	advance  PhaseAdvancer
	log      *slog.Logger
}

// OpenStore opens the flag bucket, creating it if it does not exist
// (unless cfg.MustExist), and returns the store. An existing bucket is
// used as it is. It fails with an error matching ErrUnavailable when JetStream
// cannot be reached.
func OpenStore(ctx context.Context, js jetstream.JetStream, cfg StoreConfig) (*Store, error) {
	if cfg.Bucket == "" {
		cfg.Bucket = DefaultBucket
	}
	if cfg.History <= 0 {
		cfg.History = 64
	}
	if cfg.Gates == nil {
		cfg.Gates = NewGates(GatesConfig{})
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	kv, err := jsdeclare.KeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket:      cfg.Bucket,
		Description: "Switchyard: per-client read stages, default stage and rollout",
		History:     uint8(min(cfg.History, 64)),
		Replicas:    cfg.Replicas,
	}, declareMode(cfg.MustExist))
	if err != nil {
		return nil, openError("flag bucket", cfg.Bucket, err)
	}
	return &Store{kv: kv, audit: cfg.Audit, gates: cfg.Gates, registry: cfg.Registry, shadow: cfg.Shadow, advance: cfg.OnLeaveLegacy, log: cfg.Logger}, nil
}

// DefaultBucket is the flag bucket's default name.
const DefaultBucket = "switchyard_flags"

// Audit returns the audit log the store appends to (nil if none).
func (s *Store) Audit() *AuditLog { return s.audit }

// Gates returns the store's promotion gates.
func (s *Store) Gates() *Gates { return s.gates }

// Config returns the default and rollout configuration and its revision (0
// when never written: everyone on legacy).
func (s *Store) Config(ctx context.Context) (Config, uint64, error) {
	e, err := s.kv.Get(ctx, configKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return DefaultConfig(), 0, nil
	}
	if err != nil {
		return Config{}, 0, s.unavailable(err)
	}
	cfg, err := decodeConfig(e.Value())
	return cfg, e.Revision(), err
}

func decodeConfig(b []byte) (Config, error) {
	cfg := DefaultConfig()
	if err := json.Unmarshal(b, &cfg); err != nil {
		return Config{}, fmt.Errorf("flag config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("flag config: %w", err)
	}
	return cfg, nil
}

func decodeOverride(client string, b []byte, rev uint64) (Override, error) {
	var o Override
	if err := json.Unmarshal(b, &o); err != nil {
		return Override{}, fmt.Errorf("override of %s: %w", gate.QuoteClient(client), err)
	}
	if !o.Stage.Valid() {
		return Override{}, fmt.Errorf("override of %s: stage %q unknown", gate.QuoteClient(client), o.Stage)
	}
	o.Client, o.Revision = client, rev
	return o, nil
}

func (s *Store) unavailable(err error) error {
	return fmt.Errorf("flag bucket %s: %w: %w", s.kv.Bucket(), ErrUnavailable, err)
}

// Override returns client's override with its revision. It fails with
// ErrNotFound when the client has none.
func (s *Store) Override(ctx context.Context, client string) (Override, error) {
	if err := ValidateClient(client); err != nil {
		return Override{}, err
	}
	e, err := s.kv.Get(ctx, overrideKey(client))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Override{}, fmt.Errorf("override of %s: %w", gate.QuoteClient(client), ErrNotFound)
	}
	if err != nil {
		return Override{}, s.unavailable(err)
	}
	return decodeOverride(client, e.Value(), e.Revision())
}

// Snapshot reads the whole model at once.
func (s *Store) Snapshot(ctx context.Context) (*Snapshot, error) {
	b := newSnapshotBuilder()
	if err := eachEntry(ctx, s.kv, func(e jetstream.KeyValueEntry) { b.apply(e, s.log) }); err != nil {
		return nil, fmt.Errorf("flag bucket %s: %w", s.kv.Bucket(), err)
	}
	return b.snapshot(), nil
}

// ClientView is one client as the console and the CLI show it.
type ClientView struct {
	Client string `json:"client"`
	// Stage is the effective stage; Source says why.
	Stage  Stage  `json:"stage"`
	Source Source `json:"source"`
	// Override is the client's override, nil without one.
	Override *Override `json:"override,omitempty"`
	// Revision is the override's revision, 0 without one: pass it as a
	// Change's ExpectedRevision.
	Revision uint64 `json:"revision"`
	// LastSeen is when a router last served the client (registry), zero if
	// unknown.
	LastSeen time.Time `json:"last_seen,omitzero"`
}

// Client returns client's effective stage, its source and its override.
func (s *Store) Client(ctx context.Context, client string) (ClientView, error) {
	if err := ValidateClient(client); err != nil {
		return ClientView{}, err
	}
	cfg, _, err := s.Config(ctx)
	if err != nil {
		return ClientView{}, err
	}
	v := ClientView{Client: client}
	o, err := s.Override(ctx, client)
	switch {
	case err == nil:
		v.Stage, v.Source, v.Override, v.Revision = o.Stage, SourceOverride, &o, o.Revision
	case errors.Is(err, ErrNotFound):
		r := cfg.resolveWithoutOverride(client)
		v.Stage, v.Source = r.Stage, r.Source
	default:
		return ClientView{}, err
	}
	if s.registry != nil {
		seen, ok, err := s.registry.Client(ctx, client)
		if err != nil {
			return ClientView{}, err
		}
		if ok {
			v.LastSeen = seen.LastSeen
		}
	}
	return v, nil
}

// Page sizes of ListClients and AuditLog.List.
const (
	// DefaultLimit is the page size when a query's Limit is zero.
	DefaultLimit = 100
	// MaxLimit is the largest Limit a query may ask for.
	MaxLimit = 1000
)

// ClientQuery selects clients for ListClients.
type ClientQuery struct {
	// Search keeps clients whose id contains it, ignoring case.
	Search string
	// Stage, when set, keeps clients in that effective stage.
	Stage Stage
	// After pages: only clients sorted after it.
	After string
	// Limit caps the result; default 100, at most 1000.
	Limit int
}

// ListClients returns known clients (those with an override plus those the
// registry saw) matching q, sorted by id, with their effective stage.
func (s *Store) ListClients(ctx context.Context, q ClientQuery) ([]ClientView, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit > MaxLimit {
		return nil, invalid("limit", "%d is above the maximum of %d", q.Limit, MaxLimit)
	}
	if q.Stage != "" && !q.Stage.Valid() {
		_, err := ParseStage(string(q.Stage))
		return nil, err
	}
	if len(q.Search) > MaxClientBytes {
		return nil, invalid("search", "is %d bytes, above the limit of %d", len(q.Search), MaxClientBytes)
	}
	known, snap, err := s.known(ctx)
	if err != nil {
		return nil, err
	}
	needle := strings.ToLower(q.Search)
	ids := make([]string, 0, len(known))
	for c := range known {
		if c > q.After && (needle == "" || strings.Contains(strings.ToLower(c), needle)) {
			ids = append(ids, c)
		}
	}
	slices.Sort(ids)
	out := make([]ClientView, 0, min(q.Limit, len(ids)))
	for _, c := range ids {
		v := ClientView{Client: c, LastSeen: known[c]}
		r := snap.Resolve(c)
		v.Stage, v.Source = r.Stage, r.Source
		if o, ok := snap.Override(c); ok {
			v.Override, v.Revision = &o, o.Revision
		}
		if q.Stage != "" && v.Stage != q.Stage {
			continue
		}
		out = append(out, v)
		if len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

// known returns the known clients (override or seen) with their last-seen
// time, and the model snapshot.
func (s *Store) known(ctx context.Context) (map[string]time.Time, *Snapshot, error) {
	snap, err := s.Snapshot(ctx)
	if err != nil {
		return nil, nil, err
	}
	known := make(map[string]time.Time, snap.Overrides())
	snap.EachOverride(func(o Override) { known[o.Client] = time.Time{} })
	if s.registry != nil {
		seen, err := s.registry.Clients(ctx)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range seen {
			known[c.Client] = c.LastSeen
		}
	}
	return known, snap, nil
}

// CountByStage returns how many known clients are in each stage, keyed by
// stage name; every stage is present. Known clients are those with an
// override plus those a router registered as seen; clients that follow the
// default or a rollout and were never served are not counted, since they
// cannot be enumerated.
func (s *Store) CountByStage(ctx context.Context) (map[string]int, error) {
	known, snap, err := s.known(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, st := range Stages() {
		out[string(st)] = 0
	}
	for c := range known {
		out[string(snap.Resolve(c).Stage)]++
	}
	return out, nil
}

// HistoryEntry is one revision of a client's override.
type HistoryEntry struct {
	Revision uint64    `json:"revision"`
	Time     time.Time `json:"time"`
	// Cleared is true when the override was removed at this revision.
	Cleared  bool      `json:"cleared,omitempty"`
	Override *Override `json:"override,omitempty"`
}

// History returns the kept revisions of client's override, oldest first
// (at most the bucket's History setting). A client never overridden has an
// empty history.
func (s *Store) History(ctx context.Context, client string) ([]HistoryEntry, error) {
	if err := ValidateClient(client); err != nil {
		return nil, err
	}
	entries, err := s.kv.History(ctx, overrideKey(client))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, s.unavailable(err)
	}
	out := make([]HistoryEntry, 0, len(entries))
	for _, e := range entries {
		h := HistoryEntry{Revision: e.Revision(), Time: e.Created().UTC()}
		if e.Operation() != jetstream.KeyValuePut {
			h.Cleared = true
		} else if o, err := decodeOverride(client, e.Value(), e.Revision()); err == nil {
			h.Override = &o
		} else {
			continue
		}
		out = append(out, h)
	}
	return out, nil
}

// ConfigRevision is one revision of the default and rollout configuration.
type ConfigRevision struct {
	Revision uint64    `json:"revision"`
	Time     time.Time `json:"time"`
	Config   Config    `json:"config"`
}

// ConfigHistory returns the kept revisions of the configuration, oldest
// first.
func (s *Store) ConfigHistory(ctx context.Context) ([]ConfigRevision, error) {
	entries, err := s.kv.History(ctx, configKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, s.unavailable(err)
	}
	out := make([]ConfigRevision, 0, len(entries))
	for _, e := range entries {
		if e.Operation() != jetstream.KeyValuePut {
			continue
		}
		cfg, err := decodeConfig(e.Value())
		if err != nil {
			continue
		}
		out = append(out, ConfigRevision{Revision: e.Revision(), Time: e.Created().UTC(), Config: cfg})
	}
	return out, nil
}

// GateStatus checks the promotion gates for client without changing
// anything.
func (s *Store) GateStatus(ctx context.Context, client string) (GateStatus, error) {
	if err := ValidateClient(client); err != nil {
		return GateStatus{}, err
	}
	return s.gates.Check(ctx, client)
}

// StagesWithoutOverride returns the stages a client without an override can
// be in: the default, and the rollout's stage when a rollout is set. Clients
// that follow them were maybe never served and so cannot be counted; the
// migration's cleanup checks these stages instead.
func (s *Store) StagesWithoutOverride(ctx context.Context) ([]string, error) {
	cfg, _, err := s.Config(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{string(cfg.Default)}
	if r := cfg.Rollout; r != nil && r.BasisPoints > 0 && r.Stage != cfg.Default {
		out = append(out, string(r.Stage))
	}
	return out, nil
}
