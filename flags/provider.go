package flags

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard/switchyard/internal/lifecycle"
)

// ReasonStale is the OpenFeature reason of evaluations served from the last
// known values while the provider has lost the bucket. The SDK has no
// constant for it; the specification names it STALE.
const ReasonStale openfeature.Reason = "STALE"

// ProviderName is the provider's OpenFeature metadata name.
const ProviderName = "switchyard-nats-kv"

// firstRetryDelay is the provider's first wait before it loads the bucket
// again; the wait doubles with every failure up to RetryInterval.
const firstRetryDelay = 100 * time.Millisecond

// ProviderConfig configures a Provider.
type ProviderConfig struct {
	// Bucket is the flag bucket; default "switchyard_flags". It must exist
	// (OpenStore creates it).
	Bucket string
	// InitTimeout bounds Init (and each later reload attempt); default 5 s.
	InitTimeout time.Duration
	// RetryInterval is the longest wait between attempts to (re)open the
	// watch after a failure; default 2 s.
	RetryInterval time.Duration
	Logger        *slog.Logger
}

// Provider is an OpenFeature provider for the flag "read-stage" backed by
// the flag bucket. It evaluates from an immutable in-memory snapshot that a
// key-value watch keeps current; evaluation takes no lock and does not
// allocate.
//
// Lifecycle: Init loads the bucket and fails (the SDK then reports
// PROVIDER_ERROR and the ERROR state) when it cannot, while a background
// loop keeps trying and emits PROVIDER_READY once it succeeds. Every applied
// change emits PROVIDER_CONFIGURATION_CHANGED. When the NATS connection or
// the watch drops, the provider emits PROVIDER_STALE and keeps serving the
// last known values with reason STALE; on reconnection it reloads the whole
// bucket and emits PROVIDER_READY.
type Provider struct {
	js  jetstream.JetStream
	cfg ProviderConfig
	log *slog.Logger
	// retry spaces the attempts to (re)load the bucket.
	retry lifecycle.Backoff

	snap    atomic.Pointer[Snapshot]
	stale   atomic.Bool
	events  chan openfeature.Event
	dropped atomic.Int64

	lifecycle sync.Mutex // serializes Init and Shutdown
	stop      chan struct{}
	wg        sync.WaitGroup
}

// NewProvider returns a provider reading the flag bucket through js. Nothing
// is read before Init.
func NewProvider(js jetstream.JetStream, cfg ProviderConfig) *Provider {
	if cfg.Bucket == "" {
		cfg.Bucket = DefaultBucket
	}
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = 5 * time.Second
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	retry := lifecycle.Backoff{Min: min(firstRetryDelay, cfg.RetryInterval), Max: cfg.RetryInterval}
	return &Provider{js: js, cfg: cfg, log: cfg.Logger, retry: retry, events: make(chan openfeature.Event, 64)}
}

// Metadata implements openfeature.FeatureProvider.
func (p *Provider) Metadata() openfeature.Metadata { return openfeature.Metadata{Name: ProviderName} }

// Hooks implements openfeature.FeatureProvider; the provider has none.
func (p *Provider) Hooks() []openfeature.Hook { return nil }

// EventChannel implements openfeature.EventHandler. Events are sent without
// blocking; when nobody reads the channel they are dropped and counted.
func (p *Provider) EventChannel() <-chan openfeature.Event { return p.events }

// DroppedEvents returns how many events found the channel full.
func (p *Provider) DroppedEvents() int64 { return p.dropped.Load() }

// Snapshot returns the current snapshot, nil before the first load.
func (p *Provider) Snapshot() *Snapshot { return p.snap.Load() }

// Stale reports whether the provider serves last known values because it
// lost the bucket.
func (p *Provider) Stale() bool { return p.stale.Load() }

// Init implements openfeature.StateHandler with InitTimeout.
func (p *Provider) Init(ec openfeature.EvaluationContext) error {
	return p.InitWithContext(context.Background(), ec)
}

// InitWithContext loads the bucket and starts following it. It fails with an
// error matching ErrUnavailable when the bucket cannot be read before ctx or
// InitTimeout ends; the provider then keeps retrying in the
// background and emits PROVIDER_READY when it gets through.
func (p *Provider) InitWithContext(ctx context.Context, _ openfeature.EvaluationContext) error {
	p.lifecycle.Lock()
	defer p.lifecycle.Unlock()
	if p.stop != nil {
		return nil // already running
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.InitTimeout)
	defer cancel()
	p.stop = make(chan struct{})
	statuses := p.js.Conn().StatusChanged(nats.DISCONNECTED, nats.RECONNECTING, nats.CONNECTED, nats.CLOSED)
	w, err := p.load(ctx)
	p.wg.Add(1)
	go p.run(p.stop, w, statuses)
	if err != nil {
		return err
	}
	return nil
}

// load opens a watch on the bucket, reads every current value into a fresh
// snapshot and publishes it. On success the watch is returned to follow.
// ctx bounds the loading only; the watch lives until stopped.
func (p *Provider) load(ctx context.Context) (jetstream.KeyWatcher, error) {
	kv, err := p.js.KeyValue(ctx, p.cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("flag bucket %s: %w: %w", p.cfg.Bucket, ErrUnavailable, err)
	}
	// The watch's subscription ends with its context, so it gets one that
	// outlives the loading; Stop ends it.
	w, err := kv.WatchAll(context.WithoutCancel(ctx))
	if err != nil {
		return nil, fmt.Errorf("flag bucket %s: watch: %w: %w", p.cfg.Bucket, ErrUnavailable, err)
	}
	b := newSnapshotBuilder()
	for {
		select {
		case <-ctx.Done():
			_ = w.Stop()
			return nil, fmt.Errorf("flag bucket %s: loading: %w: %w", p.cfg.Bucket, ErrUnavailable, ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("flag bucket %s: watch closed while loading: %w", p.cfg.Bucket, ErrUnavailable)
			}
			if e == nil {
				p.snap.Store(b.snapshot())
				return w, nil
			}
			b.apply(e, p.log)
		}
	}
}

// run follows the watch and the connection until Shutdown. w is nil when
// the last load failed.
func (p *Provider) run(stop <-chan struct{}, w jetstream.KeyWatcher, statuses chan nats.Status) {
	defer p.wg.Done()
	defer p.js.Conn().RemoveStatusListener(statuses)
	defer func() {
		if w != nil {
			_ = w.Stop()
		}
	}()
	// failures counts the loads that failed in a row since the last
	// reconnection; the next load waits p.retry.Delay(failures+1).
	var failures int64
	retry := time.NewTimer(p.retry.Delay(1))
	if w != nil {
		retry.Stop()
	}
	var updates <-chan jetstream.KeyValueEntry
	if w != nil {
		updates = w.Updates()
	}
	for {
		select {
		case <-stop:
			return
		case st, ok := <-statuses:
			if !ok {
				statuses = nil
				continue
			}
			switch st {
			case nats.CONNECTED:
				// The ordered consumer behind the watch may have missed
				// changes while disconnected: reload everything.
				if w != nil {
					_ = w.Stop()
					w, updates = nil, nil
				}
				failures = 0
				retry.Reset(0)
			default:
				p.markStale(fmt.Sprintf("NATS connection %s; serving last known flags", st))
			}
		case e, ok := <-updates:
			if !ok {
				w, updates = nil, nil
				p.markStale("flag watch closed; serving last known flags")
				retry.Reset(p.retry.Delay(failures + 1))
				continue
			}
			p.follow(e, updates)
		case <-retry.C:
			ctx, cancel := context.WithTimeout(context.Background(), p.cfg.InitTimeout)
			nw, err := p.load(ctx)
			cancel()
			if err != nil {
				delay := p.retry.Delay(failures + 1)
				p.log.Warn("flag bucket not loaded; retrying", "bucket", p.cfg.Bucket, "err", err, "retry_in", delay)
				retry.Reset(delay)
				failures++
				continue
			}
			w, updates = nw, nw.Updates()
			p.stale.Store(false)
			p.emit(openfeature.ProviderReady, "flags loaded", p.snap.Load().Revision())
		}
	}
}

// follow applies e and every update already waiting, then publishes one
// snapshot for the burst.
func (p *Provider) follow(e jetstream.KeyValueEntry, updates <-chan jetstream.KeyValueEntry) {
	cur := p.snap.Load()
	if cur == nil {
		cur = NewSnapshot(DefaultConfig(), nil, 0)
	}
	b := builderFrom(cur)
	if e != nil {
		b.apply(e, p.log)
	}
drain:
	for range 1024 {
		select {
		case e, ok := <-updates:
			if !ok {
				break drain
			}
			if e != nil {
				b.apply(e, p.log)
			}
		default:
			break drain
		}
	}
	next := b.snapshot()
	if next.Revision() == cur.Revision() {
		return
	}
	p.snap.Store(next)
	p.emit(openfeature.ProviderConfigChange, "read stages changed", next.Revision())
}

func (p *Provider) markStale(msg string) {
	if p.snap.Load() == nil || !p.stale.CompareAndSwap(false, true) {
		return
	}
	p.log.Warn(msg, "bucket", p.cfg.Bucket)
	p.emit(openfeature.ProviderStale, msg, p.snap.Load().Revision())
}

func (p *Provider) emit(t openfeature.EventType, msg string, revision uint64) {
	ev := openfeature.Event{
		ProviderName: ProviderName,
		EventType:    t,
		ProviderEventDetails: openfeature.ProviderEventDetails{
			Message:       msg,
			FlagChanges:   []string{FlagKey},
			EventMetadata: map[string]any{"revision": revision},
		},
	}
	select {
	case p.events <- ev:
	default:
		p.dropped.Add(1)
	}
}

// Shutdown implements openfeature.StateHandler.
func (p *Provider) Shutdown() { _ = p.ShutdownWithContext(context.Background()) }

// ShutdownWithContext stops following the bucket and waits for the
// background loop, or for ctx. Evaluations keep answering from the last
// snapshot.
func (p *Provider) ShutdownWithContext(ctx context.Context) error {
	p.lifecycle.Lock()
	defer p.lifecycle.Unlock()
	if p.stop == nil {
		return nil
	}
	close(p.stop)
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	p.stop = nil
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Static flag metadata, shared by every evaluation so none allocates; the
// SDK copies it before handing it out.
var (
	metaOverride      = openfeature.FlagMetadata{"source": string(SourceOverride)}
	metaRollout       = openfeature.FlagMetadata{"source": string(SourceRollout)}
	metaDefault       = openfeature.FlagMetadata{"source": string(SourceDefault)}
	metaStaleOverride = openfeature.FlagMetadata{"source": string(SourceOverride), "stale": true}
	metaStaleRollout  = openfeature.FlagMetadata{"source": string(SourceRollout), "stale": true}
	metaStaleDefault  = openfeature.FlagMetadata{"source": string(SourceDefault), "stale": true}
)

// Evaluate resolves client's stage from the current snapshot with the
// OpenFeature reason: TARGETING_MATCH (override), SPLIT (rollout), DEFAULT,
// or STALE while disconnected.
func (p *Provider) Evaluate(client string) (Resolution, openfeature.Reason, error) {
	snap := p.snap.Load()
	if snap == nil {
		return Resolution{}, openfeature.ErrorReason, fmt.Errorf("flags not loaded: %w", ErrUnavailable)
	}
	r := snap.Resolve(client)
	if p.stale.Load() {
		return r, ReasonStale, nil
	}
	switch r.Source {
	case SourceOverride:
		return r, openfeature.TargetingMatchReason, nil
	case SourceRollout:
		return r, openfeature.SplitReason, nil
	}
	return r, openfeature.DefaultReason, nil
}

// StringEvaluation implements openfeature.FeatureProvider for "read-stage".
// The targeting key is the client id. The variant is the stage name.
func (p *Provider) StringEvaluation(_ context.Context, flag string, defaultValue string, fc openfeature.FlattenedContext) openfeature.StringResolutionDetail {
	fail := func(e openfeature.ResolutionError) openfeature.StringResolutionDetail {
		return openfeature.StringResolutionDetail{Value: defaultValue, ProviderResolutionDetail: openfeature.ProviderResolutionDetail{ResolutionError: e, Reason: openfeature.ErrorReason}}
	}
	if flag != FlagKey {
		return fail(openfeature.NewFlagNotFoundResolutionError("flag " + flag + " is not served by " + ProviderName + "; only " + FlagKey))
	}
	client, _ := fc[openfeature.TargetingKey].(string)
	if client == "" {
		return fail(openfeature.NewTargetingKeyMissingResolutionError("the targeting key must be the client id"))
	}
	if err := ValidateClient(client); err != nil {
		return fail(openfeature.NewInvalidContextResolutionError(err.Error()))
	}
	r, reason, err := p.Evaluate(client)
	if err != nil {
		return fail(openfeature.NewProviderNotReadyResolutionError(err.Error()))
	}
	var meta openfeature.FlagMetadata
	stale := reason == ReasonStale
	switch {
	case r.Source == SourceOverride && !stale:
		meta = metaOverride
	case r.Source == SourceOverride:
		meta = metaStaleOverride
	case r.Source == SourceRollout && !stale:
		meta = metaRollout
	case r.Source == SourceRollout:
		meta = metaStaleRollout
	case !stale:
		meta = metaDefault
	default:
		meta = metaStaleDefault
	}
	return openfeature.StringResolutionDetail{
		Value: string(r.Stage),
		ProviderResolutionDetail: openfeature.ProviderResolutionDetail{
			Reason:       reason,
			Variant:      string(r.Stage),
			FlagMetadata: meta,
		},
	}
}

func typeMismatch(flag string) openfeature.ProviderResolutionDetail {
	msg := "flag " + flag + " is not served by " + ProviderName
	if flag == FlagKey {
		msg = FlagKey + " is a string flag"
		return openfeature.ProviderResolutionDetail{ResolutionError: openfeature.NewTypeMismatchResolutionError(msg), Reason: openfeature.ErrorReason}
	}
	return openfeature.ProviderResolutionDetail{ResolutionError: openfeature.NewFlagNotFoundResolutionError(msg), Reason: openfeature.ErrorReason}
}

// BooleanEvaluation implements openfeature.FeatureProvider: no boolean
// flags are served.
func (p *Provider) BooleanEvaluation(_ context.Context, flag string, defaultValue bool, _ openfeature.FlattenedContext) openfeature.BoolResolutionDetail {
	return openfeature.BoolResolutionDetail{Value: defaultValue, ProviderResolutionDetail: typeMismatch(flag)}
}

// FloatEvaluation implements openfeature.FeatureProvider: no float flags
// are served.
func (p *Provider) FloatEvaluation(_ context.Context, flag string, defaultValue float64, _ openfeature.FlattenedContext) openfeature.FloatResolutionDetail {
	return openfeature.FloatResolutionDetail{Value: defaultValue, ProviderResolutionDetail: typeMismatch(flag)}
}

// IntEvaluation implements openfeature.FeatureProvider: no int flags are
// served.
func (p *Provider) IntEvaluation(_ context.Context, flag string, defaultValue int64, _ openfeature.FlattenedContext) openfeature.IntResolutionDetail {
	return openfeature.IntResolutionDetail{Value: defaultValue, ProviderResolutionDetail: typeMismatch(flag)}
}

// ObjectEvaluation implements openfeature.FeatureProvider: no object flags
// are served.
func (p *Provider) ObjectEvaluation(_ context.Context, flag string, defaultValue any, _ openfeature.FlattenedContext) openfeature.InterfaceResolutionDetail {
	return openfeature.InterfaceResolutionDetail{Value: defaultValue, ProviderResolutionDetail: typeMismatch(flag)}
}

var (
	_ openfeature.FeatureProvider          = (*Provider)(nil)
	_ openfeature.ContextAwareStateHandler = (*Provider)(nil)
	_ openfeature.EventHandler             = (*Provider)(nil)
)

// StringValueDetails evaluates the flag straight on the provider with the
// signature of the OpenFeature client, so a Provider can serve as a
// Router's StageEvaluator without the SDK's per-call overhead (hooks,
// context merging), which costs several microseconds. Options are ignored
// and no hooks run; use an openfeature.Client when they are needed. Errors
// carry the resolution error code as the SDK would.
func (p *Provider) StringValueDetails(ctx context.Context, flag string, defaultValue string, evalCtx openfeature.EvaluationContext, _ ...openfeature.Option) (openfeature.StringEvaluationDetails, error) {
	out := openfeature.StringEvaluationDetails{Value: defaultValue, EvaluationDetails: openfeature.EvaluationDetails{FlagKey: flag, FlagType: openfeature.String}}
	client := evalCtx.TargetingKey()
	var res openfeature.StringResolutionDetail
	if flag == FlagKey && client != "" && ValidateClient(client) == nil {
		r, reason, err := p.Evaluate(client)
		if err == nil {
			out.Value = string(r.Stage)
			out.Reason, out.Variant = reason, string(r.Stage)
			return out, nil
		}
	}
	// Slow path: build the same error the provider reports through the SDK.
	res = p.StringEvaluation(ctx, flag, defaultValue, openfeature.FlattenedContext{openfeature.TargetingKey: client})
	out.ResolutionDetail = res.ResolutionDetail()
	return out, res.Error()
}

// RegisterMetrics registers the provider's gauges on reg:
// switchyard_flag_provider_stale (1 while serving last known values),
// switchyard_flag_provider_loaded (1 once the bucket was read) and
// switchyard_flag_snapshot_revision (the bucket revision evaluated from).
func (p *Provider) RegisterMetrics(reg prometheus.Registerer) error {
	gauges := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchyard_flag_provider_stale", Help: "1 while the flag provider serves last known values because it lost the bucket."},
			func() float64 { return boolGauge(p.Stale()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchyard_flag_provider_loaded", Help: "1 once the flag provider has read the bucket."},
			func() float64 { return boolGauge(p.Snapshot() != nil) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchyard_flag_snapshot_revision", Help: "Flag bucket revision the provider evaluates from."},
			func() float64 {
				if s := p.Snapshot(); s != nil {
					return float64(s.Revision())
				}
				return 0
			}),
	}
	for _, g := range gauges {
		if err := reg.Register(g); err != nil {
			return fmt.Errorf("flag provider metrics: %w", err)
		}
	}
	return nil
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
